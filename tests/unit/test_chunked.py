"""Tests for s3ish.s3.auth.chunked (aws-chunked decoding with SigV4 chunk signatures).

The signed vectors are AWS's published examples (S3 API reference):
* "Signature Calculations for the Authorization Header: Transferring Payload in Multiple Chunks"
  https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
  STREAMING-AWS4-HMAC-SHA256-PAYLOAD, 66560 bytes of 'a' in 65536 + 1024 + 0 byte chunks.
* "Signature calculations for trailing headers (chunked uploads)"
  https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
  STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, same data, trailer x-amz-checksum-crc32c:sOO8/Q==.
Credentials: secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 20130524T000000Z, us-east-1, s3.
"""
import asyncio
import hashlib
import random

import pytest

from s3ish.s3 import errors
from s3ish.s3.auth import chunked, sigv4

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AMZ_DATE = "20130524T000000Z"
SCOPE = "20130524/us-east-1/s3/aws4_request"
KEY = sigv4.signing_key(SECRET, "20130524", "us-east-1", "s3")
DATA = b"a" * 66560

# sigv4-streaming.html
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
SIGS = ("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9")

# sigv4-streaming-trailers.html
TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
TRAILER_SIGS = ("b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
                "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
                "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992")
TRAILER_LINE = b"x-amz-checksum-crc32c:sOO8/Q=="
TRAILER_SIG = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"


def signed_body(sigs=SIGS) -> bytes:
    return (f"10000;chunk-signature={sigs[0]}\r\n".encode() + DATA[:65536] + b"\r\n"
            + f"400;chunk-signature={sigs[1]}\r\n".encode() + DATA[65536:] + b"\r\n"
            + f"0;chunk-signature={sigs[2]}\r\n".encode() + b"\r\n")


def trailer_body(trailer_lines: list[bytes] | None = None) -> bytes:
    if trailer_lines is None:
        trailer_lines = [TRAILER_LINE, f"x-amz-trailer-signature:{TRAILER_SIG}".encode()]
    s = TRAILER_SIGS
    return (f"10000;chunk-signature={s[0]}\r\n".encode() + DATA[:65536] + b"\r\n"
            + f"400;chunk-signature={s[1]}\r\n".encode() + DATA[65536:] + b"\r\n"
            + f"0;chunk-signature={s[2]}\r\n".encode()
            + b"".join(line + b"\r\n" for line in trailer_lines) + b"\r\n")


def pieces(raw: bytes, rng: random.Random, max_piece: int = 9000) -> list[bytes]:
    out, i = [], 0
    while i < len(raw):
        n = rng.randint(1, max_piece)
        out.append(raw[i:i + n])
        i += n
    return out


async def _aiter(parts):
    for p in parts:
        await asyncio.sleep(0)
        yield p


def run_decode(parts, signer, trailer=False, trailers=None, decoded_length=None) -> bytes:
    trailers = {} if trailers is None else trailers

    async def go():
        out = bytearray()
        async for piece in chunked.decode(_aiter(parts), signer, trailer, trailers,
                                          decoded_length):
            out += piece
        return bytes(out)

    return asyncio.run(go())


def signer(seed=SEED) -> chunked.ChunkSigner:
    return chunked.ChunkSigner(KEY, AMZ_DATE, SCOPE, seed)


# ---------------------------------------------------------------------------------------------
# STREAMING-AWS4-HMAC-SHA256-PAYLOAD
# ---------------------------------------------------------------------------------------------

def test_documented_body_shape():
    body = signed_body()
    assert len(body) == 66824  # the documented Content-Length


def test_signed_example_whole_body():
    assert run_decode([signed_body()], signer(), decoded_length=66560) == DATA


@pytest.mark.parametrize("seed", range(8))
def test_signed_example_random_pieces(seed):
    rng = random.Random(seed)
    max_piece = [1, 3, 17, 90, 1000, 9000, 70000, 200][seed]
    parts = pieces(signed_body(), rng, max_piece) if max_piece > 1 else list(
        bytes([b]) for b in signed_body())
    assert run_decode(parts, signer(), decoded_length=66560) == DATA


def test_signed_example_without_decoded_length():
    assert run_decode([signed_body()], signer(), decoded_length=None) == DATA


def test_signer_advances_through_the_chain():
    s = signer()
    run_decode([signed_body()], s, decoded_length=66560)
    assert s.previous == SIGS[2]


@pytest.mark.parametrize("which", [0, 1, 2])
@pytest.mark.parametrize("position", [0, 31, 63])
def test_tampered_chunk_signature(which, position):
    sigs = list(SIGS)
    flipped = "0" if sigs[which][position] != "0" else "1"
    sigs[which] = sigs[which][:position] + flipped + sigs[which][position + 1:]
    with pytest.raises(errors.SignatureDoesNotMatch):
        run_decode(pieces(signed_body(tuple(sigs)), random.Random(which)), signer(),
                   decoded_length=66560)


def test_wrong_seed_signature():
    with pytest.raises(errors.SignatureDoesNotMatch):
        run_decode([signed_body()], signer(TRAILER_SEED), decoded_length=66560)


def test_wrong_signing_key():
    other = chunked.ChunkSigner(sigv4.signing_key(SECRET, "20130525", "us-east-1", "s3"),
                                AMZ_DATE, SCOPE, SEED)
    with pytest.raises(errors.SignatureDoesNotMatch):
        run_decode([signed_body()], other, decoded_length=66560)


@pytest.mark.parametrize("offset", [100, 65536 + 80, 65536 + 200])
def test_tampered_data(offset):
    body = bytearray(signed_body())
    assert body[offset:offset + 1] == b"a"
    body[offset:offset + 1] = b"b"
    with pytest.raises(errors.SignatureDoesNotMatch):
        run_decode([bytes(body)], signer(), decoded_length=66560)


def test_missing_chunk_signature():
    body = signed_body().replace(f";chunk-signature={SIGS[1]}".encode(), b"", 1)
    with pytest.raises(errors.SignatureDoesNotMatch):
        run_decode([body], signer(), decoded_length=66560)


@pytest.mark.parametrize("cut", [0, 10, 87, 88, 1000, 65536 + 87, 65536 + 90,
                                 66824 - 100, 66824 - 3])
def test_truncated_body(cut):
    # Cut anywhere before the final chunk header is complete: the stream is short.
    body = signed_body()[:cut]
    with pytest.raises(errors.IncompleteBody):
        run_decode(pieces(body, random.Random(cut)), signer(), decoded_length=66560)


def test_truncated_body_without_signer():
    body = signed_body()[:40000]
    with pytest.raises(errors.IncompleteBody):
        run_decode([body], None, decoded_length=None)


@pytest.mark.parametrize("decoded_length", [0, 1, 65536, 66559, 66561, 10**9])
def test_wrong_decoded_length(decoded_length):
    with pytest.raises(errors.IncompleteBody):
        run_decode(pieces(signed_body(), random.Random(decoded_length)), signer(),
                   decoded_length=decoded_length)


def test_chunk_data_not_followed_by_crlf():
    body = signed_body().replace(DATA[:65536] + b"\r\n", DATA[:65536] + b"XX", 1)
    with pytest.raises((errors.IncompleteBody, errors.SignatureDoesNotMatch)):
        run_decode([body], signer(), decoded_length=66560)


def test_malformed_chunk_size():
    body = signed_body().replace(b"400;", b"4zz;", 1)
    with pytest.raises(errors.IncompleteBody):
        run_decode([body], signer(), decoded_length=66560)


def test_data_after_final_chunk():
    body = signed_body() + b"garbage\r\n"
    with pytest.raises(errors.IncompleteBody):
        run_decode([body], signer(), decoded_length=66560)


def test_data_after_trailers():
    with pytest.raises(errors.IncompleteBody):
        run_decode([trailer_body() + b"x"], signer(TRAILER_SEED), trailer=True,
                   decoded_length=66560)
    with pytest.raises(errors.IncompleteBody):
        run_decode([unsigned_trailer_body() + b"\r\n"], None, trailer=True,
                   decoded_length=66560)


def test_empty_pieces_in_the_raw_stream():
    parts = [b""] + [p for piece in pieces(signed_body(), random.Random(5), 5000)
                     for p in (piece, b"")]
    assert run_decode(parts, signer(), decoded_length=66560) == DATA


def test_overlong_header_line():
    with pytest.raises(errors.IncompleteBody):
        run_decode([b"1" * (chunked.MAX_LINE + 10)], None, decoded_length=None)


def test_empty_body():
    with pytest.raises(errors.IncompleteBody):
        run_decode([], signer(), decoded_length=0)


# ---------------------------------------------------------------------------------------------
# STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_trailer_example(seed):
    rng = random.Random(seed)
    trailers = {}
    s = signer(TRAILER_SEED)
    out = run_decode(pieces(trailer_body(), rng, [50, 500, 5000, 70000, 7][seed]), s,
                     trailer=True, trailers=trailers, decoded_length=66560)
    assert out == DATA
    assert trailers == {"x-amz-checksum-crc32c": "sOO8/Q=="}
    assert s.previous == TRAILER_SIG


def test_trailer_example_bad_trailer_signature():
    bad = TRAILER_SIG[:-1] + ("0" if TRAILER_SIG[-1] != "0" else "1")
    body = trailer_body([TRAILER_LINE, f"x-amz-trailer-signature:{bad}".encode()])
    with pytest.raises(errors.SignatureDoesNotMatch):
        run_decode([body], signer(TRAILER_SEED), trailer=True, decoded_length=66560)


def test_trailer_example_tampered_trailer_value():
    body = trailer_body([b"x-amz-checksum-crc32c:AAAAAA==",
                         f"x-amz-trailer-signature:{TRAILER_SIG}".encode()])
    with pytest.raises(errors.SignatureDoesNotMatch):
        run_decode([body], signer(TRAILER_SEED), trailer=True, decoded_length=66560)


def test_trailer_example_extra_unsigned_trailer():
    body = trailer_body([TRAILER_LINE, b"x-amz-meta-extra:1",
                         f"x-amz-trailer-signature:{TRAILER_SIG}".encode()])
    with pytest.raises(errors.SignatureDoesNotMatch):
        run_decode([body], signer(TRAILER_SEED), trailer=True, decoded_length=66560)


def test_trailer_missing_signature():
    with pytest.raises(errors.MalformedTrailerError):
        run_decode([trailer_body([TRAILER_LINE])], signer(TRAILER_SEED), trailer=True,
                   decoded_length=66560)


def test_trailer_line_without_colon():
    body = trailer_body([b"x-amz-checksum-crc32c sOO8/Q==",
                         f"x-amz-trailer-signature:{TRAILER_SIG}".encode()])
    with pytest.raises(errors.MalformedTrailerError):
        run_decode([body], signer(TRAILER_SEED), trailer=True, decoded_length=66560)


def test_trailer_chunk_signature_tampered():
    body = trailer_body().replace(TRAILER_SIGS[1].encode(), SIGS[1].encode(), 1)
    with pytest.raises(errors.SignatureDoesNotMatch):
        run_decode([body], signer(TRAILER_SEED), trailer=True, decoded_length=66560)


def test_trailer_body_truncated():
    body = trailer_body()
    for cut in (len(body) - 200, 65000):
        with pytest.raises((errors.IncompleteBody, errors.MalformedTrailerError)):
            run_decode([body[:cut]], signer(TRAILER_SEED), trailer=True,
                       decoded_length=66560)


def test_trailer_self_signed_other_checksum():
    """A trailer signed with the module's own primitives (crc32 instead of crc32c)."""
    data = b"hello world, " * 1000
    prev = "a" * 64  # any seed; the chain starts from it
    c1 = sigv4.sign(KEY, sigv4.chunk_string_to_sign(AMZ_DATE, SCOPE, prev,
                                                    hashlib.sha256(data).hexdigest()))
    c0 = sigv4.sign(KEY, sigv4.chunk_string_to_sign(AMZ_DATE, SCOPE, c1, sigv4.EMPTY_SHA256))
    trailer_hash = hashlib.sha256(b"x-amz-checksum-crc32:DUoRhQ==\n").hexdigest()
    ts = sigv4.sign(KEY, sigv4.trailer_string_to_sign(AMZ_DATE, SCOPE, c0, trailer_hash))
    body = (f"{len(data):x};chunk-signature={c1}\r\n".encode() + data + b"\r\n"
            + f"0;chunk-signature={c0}\r\n".encode()
            + b"x-amz-checksum-crc32:DUoRhQ==\r\n"
            + f"x-amz-trailer-signature:{ts}\r\n\r\n".encode())
    trailers = {}
    out = run_decode(pieces(body, random.Random(1), 100), chunked.ChunkSigner(
        KEY, AMZ_DATE, SCOPE, prev), trailer=True, trailers=trailers,
        decoded_length=len(data))
    assert out == data
    assert trailers == {"x-amz-checksum-crc32": "DUoRhQ=="}


# ---------------------------------------------------------------------------------------------
# STREAMING-UNSIGNED-PAYLOAD-TRAILER
# ---------------------------------------------------------------------------------------------

# The checksum value is opaque to decode (it only frames and, when signed, signs it).
def unsigned_trailer_body(trailer=b"x-amz-checksum-crc32:DUoRhQ==") -> bytes:
    return (b"10000\r\n" + DATA[:65536] + b"\r\n"
            + b"400\r\n" + DATA[65536:] + b"\r\n"
            + b"0\r\n" + (trailer + b"\r\n" if trailer else b"") + b"\r\n")


@pytest.mark.parametrize("seed", range(5))
def test_unsigned_trailer(seed):
    trailers = {}
    parts = pieces(unsigned_trailer_body(), random.Random(seed), [1000, 13, 66000, 300, 4][seed])
    out = run_decode(parts, None, trailer=True, trailers=trailers, decoded_length=66560)
    assert out == DATA
    assert trailers == {"x-amz-checksum-crc32": "DUoRhQ=="}


def test_unsigned_trailer_name_is_lowercased_and_value_trimmed():
    trailers = {}
    body = unsigned_trailer_body(b"X-Amz-Checksum-CRC32:  DUoRhQ== ")
    assert run_decode([body], None, trailer=True, trailers=trailers,
                      decoded_length=66560) == DATA
    assert trailers == {"x-amz-checksum-crc32": "DUoRhQ=="}


def test_unsigned_trailer_without_trailer_lines():
    trailers = {}
    assert run_decode([unsigned_trailer_body(None)], None, trailer=True, trailers=trailers,
                      decoded_length=66560) == DATA
    assert trailers == {}


def test_unsigned_trailer_line_without_colon():
    with pytest.raises(errors.MalformedTrailerError):
        run_decode([unsigned_trailer_body(b"x-amz-checksum-crc32")], None, trailer=True,
                   decoded_length=66560)


def test_unsigned_trailer_truncated():
    body = unsigned_trailer_body()
    with pytest.raises(errors.IncompleteBody):
        run_decode([body[:70000 - 4000]], None, trailer=True, decoded_length=66560)


def test_unsigned_trailer_wrong_decoded_length():
    with pytest.raises(errors.IncompleteBody):
        run_decode([unsigned_trailer_body()], None, trailer=True, decoded_length=66561)
    with pytest.raises(errors.IncompleteBody):
        run_decode([unsigned_trailer_body()], None, trailer=True, decoded_length=100)


def test_unsigned_chunks_ignore_extensions():
    body = b"5;foo=bar\r\nhello\r\n0\r\n\r\n"
    assert run_decode([body], None, decoded_length=5) == b"hello"
