"""Self-describing shard files: one shard (fragment column) of one erasure-coded data unit.

Layout:
    b"S3ISHSHD" | u32 BE header length | header JSON (utf-8) | u32 BE crc32(header JSON)
    then one chunk per block: [16-byte xxh3-128 of the fragment | fragment]

Every full block's fragment has the same size F = fragment_size(block_size); only the last
block's may be shorter, so chunk offsets are computed, never indexed. The header alone is
enough to rebuild the metadata store by scanning shard files. Writers and readers do
blocking I/O and are used from worker threads.
"""
import json
import os
import struct
import zlib
from dataclasses import dataclass, field, fields, replace
from typing import Callable

from . import directio
from .bitrot import ALGORITHM, DIGEST_SIZE, chunk_hash
from .erasure import IDENTITY_CODEC, RS_CODEC, STRIPE_CODEC

MAGIC = b"S3ISHSHD"
FORMAT = 1
CODECS = (RS_CODEC, IDENTITY_CODEC, STRIPE_CODEC)
MAX_HEADER = 1 << 20            # a corrupt length must not make us read gigabytes
MAX_BLOCK = 64 << 20            # nor a corrupt block size allocate them (blocks are 1 MiB)
_PREFETCH = 4096                # one read covers magic, length, header and crc in practice
_LEN = struct.Struct(">I")
_VERIFY_READ = 8 << 20          # verify_all reads this much per syscall
# Room a streamed shard's header keeps for what is known only at the end: the size, and the
# metadata the caller completes then (ETag, checksum, time: a few hundred bytes).
FINAL_ROOM = 1024

FragmentSizeFn = Callable[[int], int]


class ShardCorrupt(Exception):
    """The shard file cannot be trusted (bad magic, header, crc or format)."""


class ChunkCorrupt(ShardCorrupt):
    """Chunk `index` is short or fails its bitrot hash; other chunks may still be good."""

    def __init__(self, index: int, reason: str = "hash mismatch"):
        super().__init__(f"chunk {index}: {reason}")
        self.index = index


@dataclass(kw_only=True)
class ShardHeader:
    format: int = FORMAT
    data_id: str
    k: int
    m: int
    block_size: int
    shard_index: int
    generation: int = 0
    hash: str = ALGORITHM
    size: int                   # logical bytes in the whole data unit, not in this shard
    codec: str
    extra: dict = field(default_factory=dict)   # caller's metadata, e.g. bucket/key/part

    def to_bytes(self, pad_to: int = 0) -> bytes:
        """Everything before chunk 0: magic, length, JSON, crc. `pad_to` pads the JSON with
        spaces to a fixed length, so a header can be rewritten in place once the size of a
        streamed data unit is known."""
        # Not dataclasses.asdict: its deep copy of `extra` cost more than the JSON itself,
        # several times per shard of every PUT.
        doc = {f.name: getattr(self, f.name) for f in fields(self)}
        body = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
        if pad_to:
            if len(body) > pad_to:
                raise ValueError("shard header larger than its reserved space")
            body += b" " * (pad_to - len(body))
        return MAGIC + _LEN.pack(len(body)) + body + _LEN.pack(zlib.crc32(body))

    def for_shard(self, shard_index: int) -> "ShardHeader":
        """The header of a rewritten (healed) sibling shard: same unit, next generation."""
        return replace(self, shard_index=shard_index, generation=self.generation + 1)

    @classmethod
    def parse(cls, data: bytes) -> tuple["ShardHeader", int]:
        """Parse from the start of a shard file; returns the header and chunk 0's offset."""
        end = header_end(data)
        if len(data) < end:
            raise ShardCorrupt("file ends inside the header")
        body = bytes(data[12:end - 4])
        if zlib.crc32(body) != _LEN.unpack_from(data, end - 4)[0]:
            raise ShardCorrupt("header crc mismatch")
        try:
            header = cls(**json.loads(body))
        except (ValueError, TypeError, RecursionError) as e:   # bad JSON, missing keys...
            raise ShardCorrupt(f"bad header: {e}") from e
        header._validate()
        return header, end

    def _validate(self) -> None:
        # JSON from disk can hold anything; field annotations are the real classes here.
        for f in fields(self):
            if type(getattr(self, f.name)) is not f.type:
                raise ShardCorrupt(f"header field {f.name} is not {f.type.__name__}")
        if self.format != FORMAT or self.hash != ALGORITHM or self.codec not in CODECS:
            raise ShardCorrupt(f"unsupported shard {self.format}/{self.hash}/{self.codec}")
        if not (self.k >= 1 and self.m >= 0 and 0 <= self.shard_index < self.k + self.m
                and 1 <= self.block_size <= MAX_BLOCK and self.size >= 0):
            raise ShardCorrupt("header values out of range")

    def block_count(self) -> int:
        return -(-self.size // self.block_size)

    def block_len(self, i: int) -> int:
        """Logical (unencoded) length of block i."""
        count = self.block_count()
        if not 0 <= i < count:
            raise IndexError(f"block {i} of {count}")
        return self.block_size if i < count - 1 else self.size - (count - 1) * self.block_size

    def chunk_len(self, i: int, fragment_size: FragmentSizeFn) -> int:
        """Bytes chunk i occupies on disk: hash + fragment."""
        return DIGEST_SIZE + fragment_size(self.block_len(i))

    def chunk_offset(self, i: int, fragment_size: FragmentSizeFn, data_offset: int) -> int:
        """File offset of chunk i; data_offset is what parse() returned (or len(to_bytes()))."""
        self.block_len(i)    # range check
        return data_offset + i * (DIGEST_SIZE + fragment_size(self.block_size))

    def file_size(self, fragment_size: FragmentSizeFn, data_offset: int) -> int:
        """Exact size of a complete shard file: more or less means damage."""
        count = self.block_count()
        if count == 0:
            return data_offset
        last = count - 1
        return self.chunk_offset(last, fragment_size, data_offset) + self.chunk_len(
            last, fragment_size)


def header_end(prefix: bytes) -> int:
    """Offset of chunk 0, given at least the first 12 bytes of a shard file."""
    if len(prefix) < 12 or prefix[:8] != MAGIC:
        raise ShardCorrupt("not a shard file (bad magic)")
    length = _LEN.unpack_from(prefix, 8)[0]
    if length > MAX_HEADER:
        raise ShardCorrupt(f"header length {length} too large")
    return 12 + length + 4


class ShardWriter:
    """Writes one shard file front to back; the caller renames it into place. A header with
    size -1 means the size is not known yet (a streamed upload): space is reserved and the
    header rewritten with the real size by finish()."""

    def __init__(self, path: str, header: ShardHeader, direct: bool = True):
        self.path, self.header = path, header
        self._chunks = 0
        self._streaming = header.size < 0
        self._pad = len(header.to_bytes()) + FINAL_ROOM if self._streaming else 0
        # O_EXCL: two writers must never share a file, even after a crash left a tmp behind.
        self._fd, used_direct = directio.open_new(path, direct)
        self._out = directio.Appender(self._fd, used_direct)
        try:
            self._out.write(header.to_bytes(self._pad))
        except BaseException:
            self.abort()
            raise

    def append(self, fragment: bytes) -> None:
        """Write the next block's fragment with its hash."""
        if not self._streaming and self._chunks >= self.header.block_count():
            raise ValueError(f"{self.path}: all {self._chunks} chunks already written")
        self._out.write(chunk_hash(fragment))
        self._out.write(fragment)
        self._chunks += 1

    def finish(self, durable: bool, size: int | None = None, extra: dict | None = None) -> None:
        """Flush to disk if durable, then close. A shard missing chunks is a caller bug.
        A streamed shard learns its data unit's `size` here, and the rest of its `extra`
        metadata."""
        try:
            self._out.finish()
            if self._streaming:
                self.header = replace(self.header, size=size,
                                      extra={**self.header.extra, **(extra or {})})
                os.pwrite(self._fd, self.header.to_bytes(self._pad), 0)
                self._streaming = False
            if self._chunks != self.header.block_count():
                raise ValueError(f"{self.path}: {self._chunks} of "
                                 f"{self.header.block_count()} chunks written")
            if durable:
                os.fdatasync(self._fd)   # the file is new: size is flushed with the data
        finally:
            self._close()

    def abort(self) -> None:
        """Close and delete; safe to call more than once or after finish()."""
        self._out.release()
        self._close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def _close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)


class ShardReader:
    """Random access to verified fragments of one shard file, by block index."""

    def __init__(self, fd: int, path: str, header: ShardHeader, data_offset: int,
                 fragment_size: FragmentSizeFn):
        self._fd, self.path, self.header, self.data_offset = fd, path, header, data_offset
        self._fragment_size = fragment_size
        self._stride = DIGEST_SIZE + fragment_size(header.block_size)   # full chunk on disk

    @classmethod
    def open(cls, path: str, fragment_size: FragmentSizeFn) -> "ShardReader":
        """Open and validate the header. A missing file raises FileNotFoundError (not
        ShardCorrupt) so the caller can tell a lost shard from a damaged one."""
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            head = os.pread(fd, _PREFETCH, 0)
            end = header_end(head)
            if end > len(head):
                head = os.pread(fd, end, 0)
            header, data_offset = ShardHeader.parse(head)
            return cls(fd, path, header, data_offset, fragment_size)
        except BaseException:
            os.close(fd)
            raise

    def read_chunk(self, i: int) -> bytes:
        """The fragment of block i, verified; ChunkCorrupt(i) if short or hash mismatch."""
        offset = self.header.chunk_offset(i, self._fragment_size, self.data_offset)
        size = self._fragment_size(self.header.block_len(i))
        # Two preads instead of one + slicing: saves copying a ~1 MiB fragment.
        digest = os.pread(self._fd, DIGEST_SIZE, offset)
        fragment = os.pread(self._fd, size, offset + DIGEST_SIZE)
        if len(digest) != DIGEST_SIZE or len(fragment) != size:
            raise ChunkCorrupt(i, "short read (truncated shard)")
        if chunk_hash(fragment) != digest:
            raise ChunkCorrupt(i)
        return fragment

    def verify_all(self) -> list[int]:
        """Indexes of every bad chunk, reading the file sequentially in large reads."""
        bad: list[int] = []
        per_read = max(1, _VERIFY_READ // self._stride)       # whole chunks per pread
        count = self.header.block_count()
        for first in range(0, count, per_read):
            last = min(count, first + per_read)
            start = self.header.chunk_offset(first, self._fragment_size, self.data_offset)
            end = start + (last - first - 1) * self._stride + self.header.chunk_len(
                last - 1, self._fragment_size)
            buf = memoryview(os.pread(self._fd, end - start, start))
            for i in range(first, last):
                at = (i - first) * self._stride
                chunk = buf[at:at + self.header.chunk_len(i, self._fragment_size)]
                if not self._chunk_ok(chunk, i):
                    bad.append(i)
        return bad

    def _chunk_ok(self, chunk: memoryview, i: int) -> bool:
        if len(chunk) != self.header.chunk_len(i, self._fragment_size):
            return False
        return chunk[:DIGEST_SIZE] == chunk_hash(chunk[DIGEST_SIZE:])

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __enter__(self) -> "ShardReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
