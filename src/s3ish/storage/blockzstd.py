"""Block compression of a data unit: zstd over fixed-size plaintext blocks, each decodable
on its own, with an index in a trailer so a ranged read decodes only the blocks it touches.

Pure (no I/O of its own): the encoder writes through a `write(bytes)` callable, the decoder
reads through a `read_at(offset, n)` callable. Both are blocking (zstd releases the GIL):
callers run them in worker threads.

Layout of a compressed unit (all integers little-endian):

    block 0 | block 1 | ... | block n-1 | index | footer

- block i: the zstd frame of plaintext bytes [i*B, (i+1)*B) (content size in its header), or
  those bytes raw when the frame would not be smaller (flagged in the index);
- index: n entries of 16 bytes: u64 end offset of block i (bit 63: stored raw), u64 xxh3-64
  of block i's stored bytes seeded with i (a damaged, moved or swapped block is an error,
  never wrong bytes: the storage below may have no checksums of its own, e.g. one folder);
- footer (32 bytes): magic b"S3zb", u32 format version, u32 block size B, u64 block count n,
  u64 plaintext size, u32 CRC-32 of the 28 bytes before it.

Why a trailer and not an index in the metadata record: a 5 GiB part has 20,480 blocks; their
320 KiB index would be read with every lookup of the record (and copied into the journal and
the shard headers). In the trailer it costs a ranged read two small preads (the footer, then
the index entries of the blocks it needs), the unit stays self-describing (a rebuild from
shard headers needs only "zstd" and the stored size, which the headers carry), and the index
is written at the end, so the encoder streams in constant memory (plus 16 bytes per block).

Why 256 KiB blocks: zstd's ratio hardly grows past its 128 KiB internal block on typical
data; a small ranged read decodes at most 256 KiB (~0.2 ms); a 1 MiB ingest chunk is four
blocks; the index is 0.006% of the data.
"""
import struct
import zlib

import xxhash
import zstandard

BLOCK_SIZE = 256 * 1024
LEVEL = 1                 # zstd's fastest standard level: the PUT path is MD5-bound already
MAGIC = b"S3zb"
VERSION = 1
_FOOTER = struct.Struct("<4sIIQQ")          # + u32 CRC-32 of these 28 bytes
FOOTER_SIZE = _FOOTER.size + 4
_ENTRY = struct.Struct("<QQ")
_RAW = 1 << 63


class BlockCorrupt(IOError):
    """The stored unit does not decode to what was written: an error, never wrong bytes."""


def _hash(stored, i: int) -> int:
    return xxhash.xxh3_64_intdigest(stored, seed=i)


class BlockEncoder:
    """Cuts a stream into blocks, compresses each, writes them through `write`; `finish()`
    adds the index and footer and returns the stored size."""

    def __init__(self, write, block_size: int = BLOCK_SIZE, level: int = LEVEL):
        self._write = write
        self.block_size = block_size
        self._zstd = zstandard.ZstdCompressor(level=level, write_content_size=True,
                                              write_checksum=False)
        self._buf = bytearray()
        self._index = bytearray()
        self.plain = 0          # plaintext bytes taken
        self.stored = 0         # bytes written so far

    def write(self, data) -> None:
        self.plain += len(data)
        view = memoryview(data)
        if not self._buf:       # whole blocks straight from the caller's buffer, no copy
            whole = len(view) - len(view) % self.block_size
            for at in range(0, whole, self.block_size):
                self._block(view[at: at + self.block_size])
            view = view[whole:]
        while view:
            take = min(len(view), self.block_size - len(self._buf))
            self._buf += view[:take]
            view = view[take:]
            if len(self._buf) == self.block_size:
                self._block(self._buf)
                self._buf = bytearray()

    def _block(self, plain) -> None:
        frame = self._zstd.compress(plain)
        raw = len(frame) >= len(plain)
        stored = bytes(plain) if raw else frame
        self._write(stored)
        self.stored += len(stored)
        i = len(self._index) // _ENTRY.size
        self._index += _ENTRY.pack(self.stored | (_RAW if raw else 0), _hash(stored, i))

    def finish(self) -> int:
        if self._buf:
            self._block(self._buf)
            self._buf = bytearray()
        count = len(self._index) // _ENTRY.size
        head = _FOOTER.pack(MAGIC, VERSION, self.block_size, count, self.plain)
        tail = bytes(self._index) + head + struct.pack("<I", zlib.crc32(head))
        self._write(tail)
        self.stored += len(tail)
        return self.stored


class BlockDecoder:
    """Reads plaintext ranges of a compressed unit of `stored_size` bytes through
    `read_at(offset, n)`. Keeps the last block it decoded when a read ends inside it
    (sequential reads that cut a block in two decode it once); a read that ends at a block's
    end keeps nothing, so the finished parts of a long multipart read hold no memory."""

    def __init__(self, read_at, stored_size: int):
        self._read_at = read_at
        if stored_size < FOOTER_SIZE:
            raise BlockCorrupt("compressed unit shorter than its footer")
        foot = read_at(stored_size - FOOTER_SIZE, FOOTER_SIZE)
        head, crc = foot[:_FOOTER.size], foot[_FOOTER.size:]
        if len(foot) != FOOTER_SIZE or struct.pack("<I", zlib.crc32(head)) != crc:
            raise BlockCorrupt("compressed unit footer damaged")
        magic, version, self.block_size, self.count, self.size = _FOOTER.unpack(head)
        if magic != MAGIC or version != VERSION or self.block_size <= 0:
            raise BlockCorrupt("not a compressed unit of a known format")
        self._index_at = stored_size - FOOTER_SIZE - self.count * _ENTRY.size
        expected_count = -(-self.size // self.block_size)
        if self.count != expected_count or self._index_at < 0:
            raise BlockCorrupt("compressed unit footer inconsistent")
        self._zstd = zstandard.ZstdDecompressor()
        self._cached = (-1, b"")

    def read(self, offset: int, n: int) -> bytes:
        """Plaintext bytes [offset, offset + n), cut at the end of the data."""
        end = min(offset + n, self.size)
        if offset < 0 or offset >= end:
            return b""
        first, last = offset // self.block_size, (end - 1) // self.block_size
        blocks = [self._cached[1]] if first == last == self._cached[0] else \
            self._decode(first, last)
        self._cached = (last, blocks[-1]) if end % self.block_size and end < self.size \
            else (-1, b"")
        joined = blocks[0] if len(blocks) == 1 else b"".join(blocks)
        skip = offset - first * self.block_size
        return joined[skip: skip + end - offset]

    def _entries(self, first: int, last: int) -> list[tuple[int, int]]:
        """(end offset with flag, hash) of blocks first-1 (if any) .. last."""
        lo = max(first - 1, 0)
        raw = self._read_at(self._index_at + lo * _ENTRY.size, (last - lo + 1) * _ENTRY.size)
        if len(raw) != (last - lo + 1) * _ENTRY.size:
            raise BlockCorrupt("compressed unit index truncated")
        entries = [_ENTRY.unpack_from(raw, at) for at in range(0, len(raw), _ENTRY.size)]
        return entries if first > 0 else [(0, 0), *entries]

    def _decode(self, first: int, last: int) -> list[bytes]:
        entries = self._entries(first, last)
        start = entries[0][0] & ~_RAW
        stop = entries[-1][0] & ~_RAW
        if not 0 <= start <= stop <= self._index_at:
            raise BlockCorrupt("compressed unit index damaged")
        stored = self._read_at(start, stop - start)
        if len(stored) != stop - start:
            raise BlockCorrupt("compressed unit truncated")
        view, out, at = memoryview(stored), [], 0
        for i, (end, digest) in zip(range(first, last + 1), entries[1:]):
            length = (end & ~_RAW) - start - at
            if length < 0:
                raise BlockCorrupt("compressed unit index damaged")
            piece = view[at: at + length]
            at += length
            if _hash(piece, i) != digest:
                raise BlockCorrupt(f"compressed block {i} damaged")
            want = min(self.block_size, self.size - i * self.block_size)
            out.append(bytes(piece) if end & _RAW else self._inflate(piece, want, i))
            if len(out[-1]) != want:
                raise BlockCorrupt(f"compressed block {i} has the wrong size")
        return out

    def _inflate(self, frame, want: int, i: int) -> bytes:
        """Decompress one frame into exactly `want` bytes. The frame's declared content size
        is checked first: zstd allocates what a frame declares, whatever max_output_size
        says, so a frame declaring more than a block (a "bomb") never gets decoded."""
        try:
            if zstandard.frame_content_size(frame) != want:
                raise BlockCorrupt(f"compressed block {i} declares the wrong size")
            return self._zstd.decompress(frame, max_output_size=want)
        except zstandard.ZstdError as e:
            raise BlockCorrupt(f"compressed block {i} does not decode: {e}") from e
