"""The remote client's pure parts: aws-chunked framing, error classification, listing XML,
TierConfig, and the retry loop's backoff (with a fake clock)."""
import asyncio
import base64

import pytest
from awscrt import checksums as crt

from s3ish.tier import bodies, errors, s3xml
from s3ish.tier.config import TierConfig, TierConfigError
from s3ish.tier.errors import NotFound, PreconditionFailed, RemoteError
from s3ish.tier.retry import backoff, retrying


async def _gen(pieces):
    for p in pieces:
        yield p


async def _collect(it) -> bytes:
    return b"".join([bytes(c) async for c in it])


def _decode_aws_chunked(raw: bytes) -> tuple[bytes, dict]:
    out, pos = bytearray(), 0
    while True:
        eol = raw.index(b"\r\n", pos)
        size = int(raw[pos:eol], 16)
        pos = eol + 2
        if size == 0:
            break
        out += raw[pos:pos + size]
        assert raw[pos + size:pos + size + 2] == b"\r\n"
        pos += size + 2
    trailers = {}
    while (eol := raw.index(b"\r\n", pos)) != pos:
        name, _, value = raw[pos:eol].decode().partition(":")
        trailers[name] = value
        pos = eol + 2
    assert pos + 2 == len(raw)
    return bytes(out), trailers


SIZES = [0, 1, 1000, bodies.CHUNK - 1, bodies.CHUNK, bodies.CHUNK + 1, 3 * bodies.CHUNK + 5]
PIECES = [1, 4095, bodies.CHUNK, 3 * bodies.CHUNK]


@pytest.mark.parametrize("size,piece", [(s, p) for s in SIZES for p in PIECES
                                        if p > 1 or s <= 1000])  # byte by byte: small ones
def test_aws_chunked_length_payload_and_crc(size, piece):
    data = bytes(i % 251 for i in range(size))
    raw = asyncio.run(_collect(bodies.aws_chunked(
        _gen([data[i:i + piece] for i in range(0, size, piece)]), size)))
    assert len(raw) == bodies.encoded_length(size)
    payload, trailers = _decode_aws_chunked(raw)
    assert payload == data
    crc = crt.crc32c(data).to_bytes(4, "big")
    assert trailers == {bodies.TRAILER: base64.b64encode(crc).decode()}


def test_exact_size_and_closing_the_source():
    closed = []

    async def source():
        try:
            yield b"abc"
            yield b"def"
        finally:
            closed.append(True)
    assert asyncio.run(_collect(bodies.exact(source(), 6))) == b"abcdef"
    for declared in (5, 7):
        with pytest.raises(ValueError):
            asyncio.run(_collect(bodies.exact(source(), declared)))

    async def stop_early():
        it = bodies.aws_chunked(source(), 6)
        await it.__anext__()
        await it.aclose()
    closed.clear()
    asyncio.run(stop_early())
    assert closed == [True]


@pytest.mark.parametrize("status,code,cls,retryable", [
    (500, "InternalError", RemoteError, True),
    (503, "SlowDown", RemoteError, True),
    (503, "", RemoteError, True),
    (429, "", RemoteError, True),
    (400, "RequestTimeout", RemoteError, True),
    (409, "OperationAborted", RemoteError, True),
    (400, "BadDigest", RemoteError, True),
    (400, "XAmzContentSHA256Mismatch", RemoteError, True),
    (403, "AccessDenied", RemoteError, False),
    (403, "SignatureDoesNotMatch", RemoteError, False),
    (404, "NoSuchBucket", RemoteError, False),
    (400, "InvalidArgument", RemoteError, False),
    (301, "PermanentRedirect", RemoteError, False),
    (404, "NoSuchKey", NotFound, False),
    (404, "", NotFound, False),
    (412, "PreconditionFailed", PreconditionFailed, False),
    (409, "ConditionalRequestConflict", PreconditionFailed, False),
])
def test_error_classification(status, code, cls, retryable):
    e = errors.from_response("PutObject", "k", status, code, "m")
    assert type(e) is cls and e.retryable is retryable and e.status == status
    assert errors.transport("GetObject", "k", "reset").retryable


def test_listing_xml():
    doc = (b'<?xml version="1.0"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/'
           b'2006-03-01/"><Name>b</Name><EncodingType>url</EncodingType><Contents>'
           b'<Key>p/a+b%2Bc%C3%BC</Key><Size>3</Size><ETag>&quot;e1&quot;</ETag></Contents>'
           b'<IsTruncated>true</IsTruncated><NextContinuationToken>t/1=</NextContinuationToken>'
           b'</ListBucketResult>')
    page = s3xml.parse_list(doc)
    assert page.entries == [("p/a b+cü", 3, "e1")] and page.truncated
    assert page.next_token == "t/1="
    with pytest.raises(ValueError):
        s3xml.parse_list(b'<!DOCTYPE x [<!ENTITY a "b">]><ListBucketResult/>')
    with pytest.raises(ValueError):
        s3xml.parse_list(b"<ListBucketResult>" + b" " * s3xml.MAX_XML)
    assert s3xml.parse_error(b"<Error><Code>SlowDown</Code><Message>m</Message></Error>") == \
        ("SlowDown", "m")
    assert s3xml.parse_error(b"<html>bad gateway</html>")[0] == ""


def test_tier_config():
    c = TierConfig.from_env("https://s3.example:8443/base", "bkt", prefix="/site1",
                            environ={"S3ISH_TIER_ACCESS_KEY": "ak",
                                     "S3ISH_TIER_SECRET_KEY": "sk-secret"})
    assert (c.access_key, c.secret_key, c.prefix) == ("ak", "sk-secret", "site1/")
    assert "sk-secret" not in repr(c)
    assert TierConfig("http://h", "b", "a", "s", prefix="").prefix == ""
    for bad in (dict(endpoint="ftp://h"), dict(endpoint="h:9000"), dict(bucket=""),
                dict(secret_key=""), dict(op_timeout=0), dict(list_page_size=1001)):
        args = dict(endpoint="http://h", bucket="b", access_key="a", secret_key="s") | bad
        with pytest.raises(TierConfigError):
            TierConfig(**args)
    with pytest.raises(TierConfigError, match="S3ISH_TIER_SECRET_KEY"):
        TierConfig.from_env("http://h", "b", environ={"S3ISH_TIER_ACCESS_KEY": "ak"})


def test_backoff_is_capped_exponential_with_full_jitter():
    assert [backoff(n, 0.1, 30.0, rng=lambda: 1.0) for n in (1, 2, 3, 4)] == \
        [0.1, 0.2, 0.4, 0.8]
    assert backoff(20, 0.1, 30.0, rng=lambda: 1.0) == 30.0
    assert backoff(10_000, 0.1, 30.0, rng=lambda: 0.5) == 15.0
    assert backoff(3, rng=lambda: 0.0) == 0.0


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    async def sleep(self, s):
        self.sleeps.append(s)
        self.now += s


def test_retrying_retries_only_retryable_errors():
    clock, seen = FakeClock(), []
    outcomes = [errors.transport("op", "k", "refused"),
                errors.from_response("op", "k", 503, "SlowDown", ""),
                errors.from_response("op", "k", 500, "InternalError", ""), "done"]

    async def op():
        out = outcomes.pop(0)
        if isinstance(out, Exception):
            raise out
        return out
    result = asyncio.run(retrying(op, on_error=lambda e, n, d: seen.append((e.status, n, d)),
                                  sleep=clock.sleep, rng=lambda: 1.0, base=1.0, cap=3.0))
    assert result == "done"
    assert seen == [(0, 1, 1.0), (503, 2, 2.0), (500, 3, 3.0)]
    assert clock.now == pytest.approx(6.0)

    async def forbidden():
        raise errors.from_response("op", "k", 403, "AccessDenied", "")
    with pytest.raises(RemoteError) as e:
        asyncio.run(retrying(forbidden, sleep=clock.sleep))
    assert e.value.status == 403

    async def bug():
        raise KeyError("not a remote error")
    with pytest.raises(KeyError):
        asyncio.run(retrying(bug, sleep=clock.sleep))


def test_retrying_stops_when_asked_even_mid_wait():
    clock = FakeClock()
    calls = []

    async def down():
        calls.append(clock.now)
        raise errors.transport("op", "k", "refused")
    with pytest.raises(RemoteError):
        asyncio.run(retrying(down, should_stop=lambda: clock.now >= 10, sleep=clock.sleep,
                             rng=lambda: 1.0, base=8.0, cap=60.0))
    # attempts at 0 and 8; the 16 s wait after the second is cut at the first poll past 10 s
    assert calls == [0.0, 8.0] and clock.now == pytest.approx(10.0)
