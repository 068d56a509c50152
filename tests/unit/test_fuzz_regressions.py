"""Regression tests for crashes the fuzz targets found (tests/fuzz/), each with the exact
input: before the fix each raised an exception that is neither an S3Error nor the parser's
documented domain error (the server answered 500 or dropped the request)."""
import asyncio
import base64

import pytest

from s3ish.s3 import errors
from s3ish.s3.auth import chunked, sigv2
from s3ish.s3.auth.credentials import Identity, Users
from s3ish.s3.auth.post_policy import authenticate_post
from s3ish.s3.auth.post_policy import check_conditions as check_policy_conditions
from s3ish.s3.handlers.bucket import _max_buckets
from s3ish.s3.handlers.copy import parse_copy_range
from s3ish.s3.handlers.multipart import list_parts_args, part_number_arg
from s3ish.s3.handlers.object_read import check_conditions, parse_range
from s3ish.storage.shardfile import MAX_BLOCK, ShardCorrupt, ShardHeader
from s3ish.util.clock import parse_http_date
from s3ish.util.numbers import ascii_int

HUGE = "1" * 5000    # int() refuses more than 4300 digits (ValueError)


@pytest.mark.parametrize("value", ["Mon, 07 Dec 2026202620262026 01:40:44 GMT",
                                   "Mon, 07 Dec 2026 01:40:44444444444444444444 GMT",
                                   "Mon, 0777777777777777777777 Dec 2026 01:40:44 GMT"])
def test_http_date_with_huge_numbers_is_not_a_date(value):
    # OverflowError from email.utils (test_authenticate_sigv2_header, conditional_headers).
    assert parse_http_date(value) is None
    check_conditions({"if-modified-since": value, "if-unmodified-since": value}, "e", 1.0)


def test_range_with_more_digits_than_int_accepts():
    # ValueError "Exceeds the limit (4300 digits)" (test_range_header).
    assert parse_range("bytes=0-" + HUGE, 10) == (0, 9)
    assert parse_range("bytes=-" + HUGE, 10) == (0, 9)
    assert parse_range("bytes=" + "0" * 5000 + "5-", 10) == (5, 9)
    with pytest.raises(errors.InvalidRange):
        parse_range("bytes=" + HUGE + "-", 10)
    # Non-ASCII digits are not a range S3 understands: ignored, not parsed as numbers.
    assert parse_range("bytes=\u0661-\u0662", 10) is None


def test_copy_source_range_with_more_digits_than_int_accepts():
    # ValueError from UploadPartCopy's range parsing (test_copy_source_range_header).
    start, end = parse_copy_range("bytes=0-" + HUGE)
    assert start == 0 and end > 10 ** 3000
    with pytest.raises(errors.InvalidArgument):
        parse_copy_range("bytes=" + HUGE + "-0")
    with pytest.raises(errors.InvalidArgument):
        parse_copy_range("bytes=\u0661-\u0662")


def test_shard_header_with_a_huge_block_size_is_corrupt():
    # A CRC-valid header claiming 1 TiB blocks made ShardReader.read_chunk allocate 1 TiB
    # (MemoryError, test_shard_reader_open).
    header = ShardHeader(data_id="d", k=1, m=0, block_size=1 << 40, shard_index=0, size=1,
                         codec="identity")
    with pytest.raises(ShardCorrupt):
        ShardHeader.parse(header.to_bytes())
    ok = ShardHeader(data_id="d", k=1, m=0, block_size=MAX_BLOCK, shard_index=0, size=1,
                     codec="identity")
    assert ShardHeader.parse(ok.to_bytes())[0] == ok


@pytest.mark.parametrize("value,expected", [("7", 7), ("0", 0), ("00012", 12),
                                            ("\u00b2", None), ("1\u00b20", None),
                                            ("\u0661", None), (HUGE, None), ("", None),
                                            ("-1", None), (" 1", None), (None, None)])
def test_ascii_int(value, expected):
    # '²0' and a 5000-digit decoded length raised ValueError in body_length / _wrap_body
    # (test_numeric_arguments, test_authenticate_sigv4_header).
    assert ascii_int(value) == expected


def test_numeric_arguments_with_non_ascii_digits_are_s3_errors():
    query = {"partNumber": "\u00b2", "max-buckets": "\u00b2"}
    with pytest.raises(errors.InvalidArgument):
        part_number_arg(query)
    with pytest.raises(errors.InvalidArgument):
        _max_buckets(query["max-buckets"])


def test_post_policy_infinite_length_range_and_deep_nesting():
    # OverflowError (int(inf)) and RecursionError (json) escaped (test_post_policy).
    with pytest.raises(errors.InvalidPolicyDocument):
        check_policy_conditions([["content-length-range", float("inf"), 2]], {}, "b")
    users = Users([Identity("AK", "secret", "ak")])
    policy = base64.b64encode(b"[" * 3000 + b"]" * 3000).decode()
    with pytest.raises(errors.InvalidPolicyDocument):
        authenticate_post({"policy": policy, "awsaccesskeyid": "AK",
                           "signature": sigv2.sign("secret", policy)}, users)


def test_aws_chunked_trailer_flood_is_refused():
    # Every trailer line was kept (dict + canonical list): a body of trailers was held in
    # memory (test_aws_chunked_decode, trailer flood).
    body = b"1\r\na\r\n0\r\n" + b"".join(f"x-amz-meta-t{i}:{'v' * 20}\r\n".encode()
                                         for i in range(1000)) + b"\r\n"

    async def consume():
        async def raw():
            yield body
        async for _ in chunked.decode(raw(), None, True, {}, 1):
            pass
    with pytest.raises(errors.MalformedTrailerError):
        asyncio.run(consume())


def test_list_parts_marker_beyond_the_store_integers():
    # part-number-marker=10**30 reached SQLite: OverflowError, a 500 (test_numeric_arguments).
    for marker in ("9" * 30, "-5", "2147483648"):
        with pytest.raises(errors.InvalidArgument):
            list_parts_args({"part-number-marker": marker})
    assert list_parts_args({"part-number-marker": "2147483647", "max-parts": "9" * 30}) == (
        1000, 2147483647)
