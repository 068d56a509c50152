"""aws-chunked body decoding, with per-chunk SigV4 signatures and trailing headers.

Frames: `hex-size[;chunk-signature=SIG]\\r\\n DATA \\r\\n` ... a zero-size chunk, then either
`\\r\\n` or trailer lines `name:value\\r\\n` (and `x-amz-trailer-signature:SIG` when signed)
ending with an empty line. Data is yielded as it arrives; a bad signature, bad framing or a
short body raises before the consumer sees the end of the stream, so nothing is committed.
"""
import hashlib

from ...http.buffered import BufferedBody, TooLong, Truncated
from .. import errors
from . import sigv4

MAX_LINE = 4096
MAX_TRAILERS = 16 * 1024    # trailing header bytes kept; without a cap, a body of them is held


class ChunkSigner:
    """The state needed to verify the signature chain of a streaming SigV4 upload."""

    def __init__(self, key: bytes, amz_date: str, scope: str, seed_signature: str):
        self.key = key
        self.amz_date = amz_date
        self.scope = scope
        self.previous = seed_signature

    def check_chunk(self, chunk_sha256: str, provided: str) -> None:
        sts = sigv4.chunk_string_to_sign(self.amz_date, self.scope, self.previous, chunk_sha256)
        self._check(sts, provided)

    def check_trailer(self, trailer_sha256: str, provided: str) -> None:
        sts = sigv4.trailer_string_to_sign(self.amz_date, self.scope, self.previous,
                                           trailer_sha256)
        self._check(sts, provided)

    def _check(self, sts: str, provided: str) -> None:
        if not sigv4.verify(sigv4.sign(self.key, sts), provided):
            raise errors.SignatureDoesNotMatch()
        self.previous = provided


class _Reader(BufferedBody):
    """aws-chunked framing: CRLF lines, with the S3 errors a broken body gets."""

    async def line(self) -> bytes | None:
        """One CRLF-terminated line without its terminator; None at a clean end of input."""
        try:
            return await self.until(b"\r\n", MAX_LINE)
        except TooLong:
            raise errors.IncompleteBody("chunk header line too long") from None
        except Truncated:
            raise errors.IncompleteBody() from None


def _parse_header(line: bytes, signed: bool) -> tuple[int, str]:
    size_hex, _, ext = line.partition(b";")
    try:
        size = int(size_hex, 16)
    except ValueError:
        raise errors.IncompleteBody("malformed chunk size") from None
    sig = ""
    if signed:
        name, _, value = ext.partition(b"=")
        if name.strip() != b"chunk-signature" or not value:
            raise errors.SignatureDoesNotMatch("missing chunk signature")
        sig = value.strip().decode("ascii", "replace")
    if size < 0:
        raise errors.IncompleteBody("malformed chunk size")
    return size, sig


async def decode(raw, signer: ChunkSigner | None, trailer: bool, trailers: dict,
                 decoded_length: int | None):
    """Yield the payload of an aws-chunked body. Trailing headers land in `trailers`."""
    reader = _Reader(raw)
    total = 0
    while True:
        line = await reader.line()
        if line is None:
            raise errors.IncompleteBody()
        size, sig = _parse_header(line, signer is not None)
        h = hashlib.sha256() if signer is not None else None
        if size:
            try:
                async for piece in reader.pieces(size):
                    if h is not None:
                        h.update(piece)
                    total += len(piece)
                    if decoded_length is not None and total > decoded_length:
                        raise errors.IncompleteBody("body longer than "
                                                    "x-amz-decoded-content-length")
                    yield piece
            except Truncated:
                raise errors.IncompleteBody() from None
        if signer is not None:
            signer.check_chunk(h.hexdigest(), sig)
        if size == 0:
            break
        if await reader.line() != b"":
            raise errors.IncompleteBody("chunk data not followed by CRLF")
    if trailer:
        await _read_trailers(reader, signer, trailers)
    else:
        end = await reader.line()
        if end not in (b"", None):
            raise errors.IncompleteBody("data after the final chunk")
    if not await reader.at_eof():
        raise errors.IncompleteBody("data after the final chunk")
    if decoded_length is not None and total != decoded_length:
        raise errors.IncompleteBody()


async def _read_trailers(reader: _Reader, signer: ChunkSigner | None, trailers: dict) -> None:
    canonical, signature, kept = [], None, 0
    while True:
        line = await reader.line()
        if line is None or line == b"":
            break
        kept += len(line)
        if kept > MAX_TRAILERS:
            raise errors.MalformedTrailerError("trailing headers too large")
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise errors.MalformedTrailerError()
        name, value = name.strip().lower(), value.strip()
        if name == "x-amz-trailer-signature":
            signature = value
            continue
        trailers[name] = value
        canonical.append(f"{name}:{value}\n")
    if signer is not None:
        if signature is None:
            raise errors.MalformedTrailerError("missing x-amz-trailer-signature")
        digest = hashlib.sha256("".join(canonical).encode("latin-1")).hexdigest()
        signer.check_trailer(digest, signature)
