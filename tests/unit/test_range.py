"""Range header parsing and conditional evaluation, as S3 applies them."""
import pytest

from s3ish.s3 import errors
from s3ish.s3.handlers.object_read import check_conditions, parse_range


@pytest.mark.parametrize("header,size,expected", [
    ("bytes=0-0", 10, (0, 0)), ("bytes=0-9", 10, (0, 9)), ("bytes=0-100", 10, (0, 9)),
    ("bytes=5-", 10, (5, 9)), ("bytes=-3", 10, (7, 9)), ("bytes=-30", 10, (0, 9)),
    (None, 10, None), ("", 10, None), ("bytes=abc", 10, None), ("bytes=5-1", 10, None),
    ("bytes=0-1,2-3", 10, None), ("bits=0-1", 10, None), ("bytes=-", 10, None),
])
def test_parse_range(header, size, expected):
    assert parse_range(header, size) == expected


@pytest.mark.parametrize("header,size", [("bytes=10-", 10), ("bytes=10-20", 10),
                                         ("bytes=-0", 10), ("bytes=0-", 0), ("bytes=-5", 0)])
def test_unsatisfiable(header, size):
    with pytest.raises(errors.InvalidRange):
        parse_range(header, size)


def test_conditions_precedence():
    etag, mtime = "abc", 1_700_000_000.0   # Nov 2023
    old, new = "Mon, 01 Jan 1990 00:00:00 GMT", "Fri, 01 Jan 2100 00:00:00 GMT"
    check_conditions({"if-match": '"abc"', "if-unmodified-since": old}, etag, mtime)
    with pytest.raises(errors.PreconditionFailed):
        check_conditions({"if-match": '"zzz"'}, etag, mtime)
    with pytest.raises(errors.PreconditionFailed):
        check_conditions({"if-unmodified-since": old}, etag, mtime)
    with pytest.raises(errors.NotModified):
        check_conditions({"if-none-match": '"abc"', "if-modified-since": old}, etag, mtime)
    check_conditions({"if-none-match": '"zzz"', "if-modified-since": new}, etag, mtime)
    with pytest.raises(errors.NotModified):
        check_conditions({"if-modified-since": new}, etag, mtime)
    check_conditions({"if-match": "*"}, etag, mtime)
    check_conditions({"if-modified-since": "garbage"}, etag, mtime)
