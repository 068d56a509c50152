"""GetObjectAttributes pieces and the checksum a GET/HEAD reports (pure functions)."""
import pytest

from s3ish.meta.records import DataPart, ObjectVersion
from s3ish.s3 import errors
from s3ish.s3.handlers.attributes import checksum_element, object_parts, requested_attributes
from s3ish.s3.handlers.common import read_checksum_headers

ON = {"x-amz-checksum-mode": "ENABLED"}


def _mp(ctype, algorithm="SHA256", n=3):
    parts = [DataPart(f"d{i}", 10 + i, f"{i:032x}", f"c{i}") for i in range(1, n + 1)]
    value = "whole-3" if ctype == "COMPOSITE" else "whole"
    return ObjectVersion("b", "k", sum(p.size for p in parts), f"{'0' * 32}-{n}", 0.0, "o",
                         checksum_algorithm=algorithm, checksum_value=value,
                         checksum_type=ctype, parts=parts)


def test_requested_attributes():
    assert requested_attributes({"x-amz-object-attributes": "ETag, ObjectSize"}) == {
        "ETag", "ObjectSize"}
    for bad in ("", " , ", "ETag,Nope", "etag"):
        with pytest.raises(errors.InvalidArgument):
            requested_attributes({"x-amz-object-attributes": bad})
    with pytest.raises(errors.InvalidArgument):
        requested_attributes({})


def test_checksum_element_drops_the_part_count():
    c = checksum_element(_mp("COMPOSITE"))
    assert (c.ChecksumSHA256, c.ChecksumType) == ("whole", "COMPOSITE")
    plain = ObjectVersion("b", "k", 1, "e", 0.0, "o")
    assert checksum_element(plain) is None


def test_object_parts_pages_composite_parts_only():
    page = object_parts(_mp("COMPOSITE"), max_parts=1, marker=1)
    assert (page.PartsCount, page.PartNumberMarker, page.NextPartNumberMarker,
            page.MaxParts, page.IsTruncated) == (3, 1, 2, 1, True)
    assert [(p.PartNumber, p.Size, p.ChecksumSHA256) for p in page.Part] == [(2, 12, "c2")]
    end = object_parts(_mp("COMPOSITE"), max_parts=10, marker=3)
    assert end.Part == [] and end.IsTruncated is False and end.NextPartNumberMarker == 3
    full = object_parts(_mp("FULL_OBJECT", "CRC32"), 1000, 0)
    assert full.PartsCount == 3 and full.Part == [] and full.MaxParts is None
    assert object_parts(ObjectVersion("b", "k", 1, "e", 0.0, "o"), 1000, 0) is None


def test_read_checksum_headers():
    comp, full = _mp("COMPOSITE"), _mp("FULL_OBJECT", "CRC32")
    assert read_checksum_headers({}, comp, None, False) == []
    assert read_checksum_headers(ON, comp, None, False) == [
        ("x-amz-checksum-sha256", "whole-3"), ("x-amz-checksum-type", "COMPOSITE")]
    assert read_checksum_headers(ON, comp, None, True) == []          # a range
    assert read_checksum_headers(ON, comp, 2, True) == [
        ("x-amz-checksum-sha256", "c2"), ("x-amz-checksum-type", "COMPOSITE")]
    assert read_checksum_headers(ON, full, 2, True) == []
    one = _mp("FULL_OBJECT", "CRC32", n=1)
    assert read_checksum_headers(ON, one, 1, True) == [
        ("x-amz-checksum-crc32", "whole"), ("x-amz-checksum-type", "FULL_OBJECT")]
    simple = ObjectVersion("b", "k", 3, "e", 0.0, "o", checksum_algorithm="SHA1",
                           checksum_value="s", checksum_type="FULL_OBJECT")
    assert read_checksum_headers(ON, simple, 1, True) == [
        ("x-amz-checksum-sha1", "s"), ("x-amz-checksum-type", "FULL_OBJECT")]
