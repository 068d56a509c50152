"""Request bodies the remote client streams: exact-size iterators and aws-chunked framing.

`exact` passes an async iterator's chunks on and fails (ValueError) if they do not add up to the
size declared in Content-Length, so a short or long source can never send a truncated object or
spill bytes into the next request on the socket.

`aws_chunked` frames a streamed body as S3's `STREAMING-UNSIGNED-PAYLOAD-TRAILER` encoding with an
`x-amz-checksum-crc32c` trailer: the server checks the CRC of what it received before it stores
anything, which is the integrity a streamed body otherwise lacks (Content-MD5 must be known
before the first byte). It re-cuts the body into fixed `CHUNK`-byte frames so the encoded length,
which Content-Length must carry up front, follows from the size alone (`encoded_length`).
CRC32C runs at tens of GB/s (awscrt), so it is computed inline.
"""
from ..util import checksums

CHUNK = 1 << 20
TRAILER = "x-amz-checksum-crc32c"
_CRC_B64_LEN = 8   # base64 of 4 bytes
_FINAL_LEN = len(b"0\r\n") + len(TRAILER) + 1 + _CRC_B64_LEN + len(b"\r\n\r\n")


async def _closing(chunks):
    """Close the caller's iterator when we stop early, not whenever it is collected."""
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()


async def exact(chunks, size: int):
    total = 0
    try:
        async for piece in chunks:
            total += len(piece)
            if total > size:
                raise ValueError(f"streamed body is longer than its declared size {size}")
            if piece:
                yield piece
        if total != size:
            raise ValueError(f"streamed body ended after {total} of its declared {size} bytes")
    finally:
        await _closing(chunks)


def _frame_len(n: int) -> int:
    return len(f"{n:x}") + 2 + n + 2


def encoded_length(size: int, chunk: int = CHUNK) -> int:
    """Content-Length of `aws_chunked(body, size)`."""
    full, rest = divmod(size, chunk)
    return full * _frame_len(chunk) + (_frame_len(rest) if rest else 0) + _FINAL_LEN


async def aws_chunked(chunks, size: int, chunk: int = CHUNK):
    """Yield the aws-chunked encoding of `size` bytes from `chunks` (an async iterator), with a
    CRC32C trailer. At most one frame (`chunk` bytes) is buffered."""
    crc = checksums.new("CRC32C")
    buf = bytearray()

    def frame(part):
        crc.update(part)
        return (f"{len(part):x}\r\n".encode(), part, b"\r\n")

    source = exact(chunks, size)
    try:
        async for piece in source:
            view = memoryview(piece)
            while view:
                if not buf and len(view) >= chunk:   # a whole frame straight from the source
                    part, view = view[:chunk], view[chunk:]
                else:
                    take = chunk - len(buf)
                    buf += view[:take]
                    view = view[take:]
                    if len(buf) < chunk:
                        break
                    part, buf = buf, bytearray()
                for b in frame(part):
                    yield b
    finally:
        await source.aclose()
    if buf:
        for b in frame(buf):
            yield b
    yield f"0\r\n{TRAILER}:{checksums.b64(crc.digest())}\r\n\r\n".encode()
