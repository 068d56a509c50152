"""Fuzz request-header parsing in s3/handlers: Range (GetObject), x-amz-copy-source-range
(UploadPartCopy), the conditional headers of reads, copies and writes, Content-MD5, the
x-amz-tagging header, and the numeric arguments (partNumber, max-buckets, Content-Length).

Valid values (`bytes=0-99`, `bytes=-5`, HTTP dates from the server's own formatter, quoted
ETags, base64 MD5s, URL-encoded tag sets) are mutated. Invariant: a parse result that keeps its
promises (a range inside the object) or an S3Error, never another exception.
"""
import base64
import datetime as _dt
import hashlib
from urllib.parse import urlencode

from hypothesis import strategies as st

from s3ish.http.asgi import Request
from s3ish.s3 import errors
from s3ish.s3.handlers import bucket, common, copy, multipart, object_read, tagging
from s3ish.util.clock import http_date
from tests.fuzz.harness import fuzz, mutate_text, received, wire

_SIZES = st.integers(0, 2 ** 64) | st.integers(0, 100)
_RANGE_TOKENS = ["bytes=", "-", ",", "0", "9" * 30, "1" * 5000, " ", "bytes=0-0,1-1",
                 "\u0661", "+", "_"]
_ETAG = "9b2cf535f27731c974343645a3985328"
_DATE_TOKENS = ["GMT", "+0000", "-9999", "Mon, ", "31 Feb ", "9999", "99999", ":60", "UTC",
                "1970", "0001", "-0800"]
_ETAG_TOKENS = ['"', ",", "*", "W/", _ETAG, " "]


def _date(data) -> str:
    when = data.draw(st.datetimes(min_value=_dt.datetime(1, 1, 1),
                                  max_value=_dt.datetime(9999, 12, 31),
                                  timezones=st.just(_dt.timezone.utc)))
    return http_date(when)


@fuzz(st.data())
def test_range_header(data):
    size = data.draw(_SIZES)
    first = data.draw(st.integers(0, 2 ** 64))
    valid = data.draw(st.sampled_from([f"bytes={first}-{first + data.draw(st.integers(0, 99))}",
                                       f"bytes=-{first}", f"bytes={first}-", "bytes=0-0"]))
    value = received(mutate_text(data, valid, _RANGE_TOKENS))
    try:
        rng = object_read.parse_range(value, size)
    except errors.InvalidRange:
        return
    if rng is not None:
        start, end = rng
        assert 0 <= start <= end < size


@fuzz(st.data())
def test_conditional_headers(data):
    names = ["if-match", "if-none-match", "if-modified-since", "if-unmodified-since"]
    headers = {}
    for name in data.draw(st.lists(st.sampled_from(names), unique=True, max_size=4)):
        valid = _date(data) if name.endswith("since") else data.draw(
            st.sampled_from([f'"{_ETAG}"', _ETAG, "*", f'"x", "{_ETAG}"']))
        headers[name] = received(mutate_text(data, valid, _DATE_TOKENS + _ETAG_TOKENS))
    mtime = data.draw(st.floats(0, 4e10, allow_nan=False))
    try:
        object_read.check_conditions(headers, _ETAG, mtime)
    except (errors.PreconditionFailed, errors.NotModified):
        pass
    # The copy-source forms of the same headers answer only 412.
    try:
        copy._check_source_conditions({f"x-amz-copy-source-{k}": v for k, v in headers.items()},
                                      _Version(_ETAG, mtime))
    except errors.PreconditionFailed:
        pass
    try:
        cond = common.write_condition(headers)
    except errors.NotImplemented:
        return
    assert cond is None or cond.if_none_match == ("if-none-match" in headers)


class _Version:
    def __init__(self, etag, mtime):
        self.etag, self.mtime = etag, mtime


@fuzz(st.data())
def test_copy_source_range_header(data):
    first = data.draw(st.integers(0, 2 ** 40))
    value = received(mutate_text(data, f"bytes={first}-{first + data.draw(st.integers(0, 99))}",
                                 _RANGE_TOKENS))
    try:
        rng = copy.parse_copy_range(value)
    except errors.InvalidArgument:
        return
    assert 0 <= rng[0] <= rng[1]


@fuzz(st.data())
def test_content_md5_and_tagging_headers(data):
    body = data.draw(st.binary(max_size=32))
    md5 = received(mutate_text(data, base64.b64encode(hashlib.md5(body).digest()).decode(),
                               ["=", "==", "+", "/", "-", "_", "\n", "A" * 100]))
    try:
        raw = common.content_md5({"content-md5": md5})
        assert raw is not None and len(raw) == 16
    except errors.InvalidDigest:
        pass
    tags = data.draw(st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=12))
    value = received(mutate_text(data, urlencode(tags),
                                 ["&", "=", "%", "%zz", "aws:", "+", "k" * 200]))
    try:
        out = tagging.tags_from_header({"x-amz-tagging": value})
    except errors.InvalidTag:
        return
    assert len(out) <= tagging.MAX_TAGS


def _store_ints(values):
    """Numbers that reach the metadata store must fit its integers (SQLite: 64-bit)."""
    assert all(-2 ** 63 <= v < 2 ** 63 for v in values)


def _query_request(query: str, headers: list[tuple[bytes, bytes]]):
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    return Request({"type": "http", "method": "GET", "path": "/b/k", "raw_path": b"/b/k",
                    "query_string": wire(query), "headers": headers}, receive)


@fuzz(st.data())
def test_numeric_arguments(data):
    """partNumber, max-buckets, ListParts' page arguments and the declared body lengths, as a
    client can send them (raw query and header bytes are latin-1 text to the server: '\\xb2'
    is '²')."""
    number = str(data.draw(st.integers(0, 10001)))
    query = received(mutate_text(data, f"partNumber={number}&max-buckets={number}&max-parts="
                                 f"{number}&part-number-marker={number}",
                                 ["&", "=", "%", "\u00b2", "\u00b9", "\u0661", "+", "-",
                                  "9" * 20, "1" * 5000]))
    length = received(mutate_text(data, number, ["\u00b2", "\u00b3", "-", " "]))
    req = _query_request(query, [(b"content-length", wire(length)),
                                 (b"range", b"bytes=0-1")] * data.draw(st.integers(0, 1)))
    for parse in (lambda: object_read._part_number(req),
                  lambda: multipart.part_number_arg(req.query),
                  lambda: bucket._max_buckets(req.query.get("max-buckets")),
                  lambda: common.body_length(req),
                  lambda: _store_ints(multipart.list_parts_args(req.query))):
        try:
            value = parse()
        except (errors.InvalidArgument, errors.InvalidRequest, errors.MissingContentLength):
            continue
        # Declared lengths may be huge: the handlers compare them with the size caps first.
        assert value is None or (type(value) is int and value >= 0)
