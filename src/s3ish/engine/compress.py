"""Transparent compression in the data path: which new data units are compressed, and the
writer and handle wrappers that put storage/blockzstd.py between the engine and the store.

Clients never see it: sizes, ETags, checksums and ranges are all of the plaintext (hashed
before the writer compresses); a DataPart says how its unit is stored (`compression`,
`stored_size`). Each unit (a simple object, each multipart part) is compressed on its own,
so parts stay independent and a copy re-codes simply by streaming plaintext through a new
put. Compression comes before encryption: the compressing writer sits above the sealing one
(engine/sse.py opens the writers and the read handles of every unit, both layers included).

Whether a new unit is compressed: the bucket's setting ("on" / "off", set with `s3ish admin
compression BUCKET on|off|default`) or else the server's `--compression`; never for bodies
small enough to be kept inline (not worth it), nor for content that is already compressed.
"""
from ..meta import records as r
from ..obs import metrics
from ..storage.blockzstd import BlockDecoder, BlockEncoder

CODEC = "zstd"
MODES = ("on", "off", "")     # a bucket's setting; "" follows the server's default
# Bodies up to this size are never compressed: they are kept inline where the store allows
# it, and a block's saving on a few KiB does not pay for the trailer and the extra reads.
MIN_SIZE = 128 * 1024

# Content already compressed: zstd would spend CPU to store it raw anyway. Matched on the
# content type's main type (image/, video/, audio/) or full type, and on the key's
# extension, so an upload sent as binary/octet-stream is recognised by its name.
SKIP_MAIN_TYPES = ("image/", "video/", "audio/")
SKIP_TYPES = frozenset({
    "application/zip", "application/gzip", "application/x-gzip", "application/zstd",
    "application/x-zstd", "application/x-7z-compressed", "application/x-rar-compressed",
    "application/vnd.rar", "application/x-bzip2", "application/x-xz", "application/x-lz4",
    "application/x-brotli", "application/x-compress", "application/java-archive",
    "application/vnd.apache.parquet", "application/x-parquet",
    "application/epub+zip", "application/x-apple-diskimage",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
})
SKIP_EXTENSIONS = frozenset({
    # archives and compressed streams
    ".gz", ".tgz", ".zst", ".zstd", ".zip", ".7z", ".rar", ".bz2", ".tbz2", ".xz", ".txz",
    ".lz4", ".lz", ".lzma", ".br", ".z", ".sz", ".jar", ".war", ".apk", ".whl", ".dmg",
    # images, audio, video
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".avif", ".jxl",
    ".mp3", ".aac", ".m4a", ".ogg", ".opus", ".flac",
    ".mp4", ".m4v", ".mkv", ".webm", ".mov", ".avi",
    # columnar and office formats compressed inside
    ".parquet", ".orc", ".avro", ".docx", ".xlsx", ".pptx", ".odt", ".epub",
})


def skipped(key: str, content_type: str) -> bool:
    """Content that is already compressed, by its type or its name."""
    ctype = content_type.split(";", 1)[0].strip().lower()
    if ctype in SKIP_TYPES or ctype.startswith(SKIP_MAIN_TYPES):
        return True
    name = key.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    return dot > 0 and name[dot:] in SKIP_EXTENSIONS


def enabled(bucket: r.Bucket, server_default: bool) -> bool:
    return bucket.compression == "on" or (server_default and bucket.compression != "off")


async def wanted(engine, bucket: str, key: str, content_type: str) -> bool:
    """New data of this object is to be stored compressed (`engine`: objects.Engine)."""
    return not skipped(key, content_type) and \
        enabled(await engine.get_bucket(bucket), engine.compression)


class CompressingWriter:
    """A DataWriter that compresses what is written through it into the wrapped writer.
    Blocking, like the writer it wraps (called from worker threads)."""

    def __init__(self, inner):
        self.inner = inner
        self.data_id = inner.data_id
        self._encoder = BlockEncoder(inner.write)
        self.stored_size = 0

    def write(self, block) -> None:
        self._encoder.write(block)

    def commit(self, completion: dict | None = None) -> None:
        self.stored_size = self._encoder.finish()
        if completion is not None:     # shard headers: what a rebuild needs to read it back
            completion = {**completion, **self.part_fields()}
        self.inner.commit(completion)
        metrics.COMPRESSION_INPUT.inc(self._encoder.plain)
        metrics.COMPRESSION_STORED.inc(self.stored_size)

    def abort(self) -> None:
        self.inner.abort()

    def part_fields(self) -> dict:
        return {"compression": CODEC, "stored_size": self.stored_size}


def part_fields(writer) -> dict:
    """The DataPart fields saying how `writer`'s unit is stored."""
    return writer.part_fields() if isinstance(writer, CompressingWriter) else {}


class DecodingHandle:
    """A DataHandle of a compressed unit that reads plaintext (offsets of the client's
    bytes). Opening it reads the unit's footer: call it from a worker thread."""

    def __init__(self, inner, stored_size: int):
        self.inner = inner
        try:
            self._decoder = BlockDecoder(inner.read_at, stored_size)
        except BaseException:
            inner.close()
            raise

    def read_at(self, offset: int, n: int) -> bytes:
        return self._decoder.read(offset, n)

    def close(self) -> None:
        self.inner.close()


def decoding(handle, part: r.DataPart):
    """`handle` (a unit's stored stream, decrypted if it was sealed) read as plaintext: a
    DecodingHandle if the part is compressed. Reads its footer: call it from a worker thread.
    Closes `handle` if it cannot."""
    if not part.compression:
        return handle
    if part.compression != CODEC:
        handle.close()
        raise IOError(f"data unit {part.data_id} stored with unknown coding "
                      f"{part.compression!r}")
    return DecodingHandle(handle, part.stored_size)
