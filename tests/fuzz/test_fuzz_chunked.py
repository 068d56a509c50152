"""Fuzz the aws-chunked decoder (s3/auth/chunked.py over http/buffered.py): framing, chunk
signatures, trailers.

Each example builds a valid body for one of the three streaming modes (signed, signed with
trailer, unsigned with trailer), with chunk signatures chained by the server's own sigv4
functions, then damages it (byte flips, cut frames, inserted CRLFs and size lines, huge or
negative sizes, forged trailers), cuts it into network pieces and decodes it.
Invariant: the payload and trailers, or an S3Error; the decoder never buffers more than its
line limit plus one network piece, and keeps at most MAX_TRAILERS bytes of trailing headers.
"""
import hashlib

from hypothesis import strategies as st

from s3ish.s3 import errors
from s3ish.s3.auth import chunked, sigv4
from tests.fuzz.harness import fuzz, mutate_bytes, run, split, stream, watch_buffers

SECRET, DATE, REGION = "fuzz-secret", "20260101", "us-east-1"
AMZ_DATE = DATE + "T000000Z"
SCOPE = sigv4.scope(DATE, REGION)
KEY = sigv4.signing_key(SECRET, DATE, REGION)
SEED = hashlib.sha256(b"seed").hexdigest()
MAX_PIECE = 8192
MODES = ("signed", "signed-trailer", "unsigned-trailer")
_TOKENS = [b"\r\n", b";chunk-signature=", b"0\r\n", b"0;chunk-signature=", b"\r\n\r\n",
           b"ffffffffffffffffffff", b"-1", b"1" * 5000, b"x-amz-checksum-crc32:",
           b"x-amz-trailer-signature:", b":", b";", b"=", b"\n", b" ", b"10000", SEED.encode()]
_TRAILER = st.lists(st.tuples(st.sampled_from(["x-amz-checksum-crc32", "x-amz-checksum-sha256",
                                               "x-amz-meta-x"]),
                              st.text(st.characters(min_codepoint=33, max_codepoint=126),
                                      max_size=12)), max_size=2)


def _sign(previous: str, sts_of) -> str:
    return sigv4.sign(KEY, sts_of(previous))


def _body(mode: str, payload: bytes, sizes: list[int], trailers: list[tuple[str, str]]):
    """A valid aws-chunked body: (bytes, expected trailers)."""
    signed = mode != "unsigned-trailer"
    out, prev, i = [], SEED, 0
    chunks = []
    while i < len(payload):
        n = sizes[len(chunks) % len(sizes)]
        chunks.append(payload[i:i + n])
        i += n
    for chunk in chunks + [b""]:
        head = f"{len(chunk):x}"
        if signed:
            prev = _sign(prev, lambda p, c=chunk: sigv4.chunk_string_to_sign(
                AMZ_DATE, SCOPE, p, hashlib.sha256(c).hexdigest()))
            head += f";chunk-signature={prev}"
        out.append(head.encode() + b"\r\n" + chunk + (b"\r\n" if chunk else b""))
    expected = {}
    if mode == "signed":
        out.append(b"\r\n")
    else:
        canonical = []
        for name, value in trailers:
            if name in expected:
                continue
            expected[name] = value
            canonical.append(f"{name}:{value}\n")
            out.append(f"{name}:{value}\r\n".encode())
        if signed:
            digest = hashlib.sha256("".join(canonical).encode()).hexdigest()
            sig = _sign(prev, lambda p: sigv4.trailer_string_to_sign(AMZ_DATE, SCOPE, p, digest))
            out.append(f"x-amz-trailer-signature:{sig}\r\n".encode())
        out.append(b"\r\n")
    return b"".join(out), expected


async def _decode(pieces, mode, decoded_length):
    signer = None if mode == "unsigned-trailer" else \
        chunked.ChunkSigner(KEY, AMZ_DATE, SCOPE, SEED)
    trailers = {}
    h, total = hashlib.sha256(), 0
    async for piece in chunked.decode(stream(pieces), signer, mode != "signed", trailers,
                                      decoded_length):
        h.update(piece)
        total += len(piece)
        assert decoded_length is None or total <= decoded_length
    return h.digest(), total, trailers


_FLOOD = st.integers(1, 4000).map(lambda n: [(f"x-amz-meta-t{i}", "v" * 20) for i in range(n)])


@fuzz(st.data())
def test_aws_chunked_decode(data):
    mode = data.draw(st.sampled_from(MODES))
    payload = data.draw(st.binary(max_size=3000))
    sizes = data.draw(st.lists(st.integers(1, 4096), min_size=1, max_size=4))
    # Sometimes a flood of trailer lines: what the decoder keeps of them must stay bounded.
    body, expected = _body(mode, payload, sizes, data.draw(_TRAILER | _FLOOD))
    damaged = mutate_bytes(data, body, _TOKENS)
    length = data.draw(st.sampled_from([len(payload), None]) |
                       st.integers(0, 2 ** 70))
    pieces = split(data, damaged, MAX_PIECE)
    with watch_buffers(chunked.MAX_LINE + MAX_PIECE):
        try:
            digest, total, trailers = run(_decode(pieces, mode, length))
        except errors.S3Error:
            assert damaged != body or length != len(payload) or sum(
                len(k) + len(v) + 1 for k, v in expected.items()) > chunked.MAX_TRAILERS, \
                "a valid body was refused"
            return
    assert sum(len(k) + len(v) for k, v in trailers.items()) <= chunked.MAX_TRAILERS
    if damaged == body:
        assert digest == hashlib.sha256(payload).digest() and trailers == expected
    if length is not None:
        assert total == length
