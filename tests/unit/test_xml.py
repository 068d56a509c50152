"""Our XML round-trips through botocore's own parser; decoding is hardened."""
import datetime as dt

import botocore.session
import pytest
from botocore.parsers import RestXMLParser

from s3ish.s3.xml import codec, shapes

_model = botocore.session.get_session().get_service_model("s3")


def _parse(operation: str, body: bytes) -> dict:
    shape = _model.operation_model(operation).output_shape
    return RestXMLParser().parse({"body": body, "headers": {}, "status_code": 200}, shape)


def test_list_objects_v2_roundtrip():
    when = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc)
    doc = shapes.ListBucketResult(
        Name="bkt", Prefix="p/", KeyCount=2, MaxKeys=2, Delimiter="/", IsTruncated=True,
        NextContinuationToken="tok",
        Contents=[shapes.Object("p/a&b<c>", when, '"etag"', 12, "STANDARD",
                                shapes.Owner("id1", "name1"))],
        CommonPrefixes=[shapes.CommonPrefix("p/sub/")])
    parsed = _parse("ListObjectsV2", codec.encode(doc))
    assert parsed["Name"] == "bkt" and parsed["KeyCount"] == 2 and parsed["IsTruncated"]
    assert parsed["NextContinuationToken"] == "tok"
    obj = parsed["Contents"][0]
    assert obj["Key"] == "p/a&b<c>" and obj["Size"] == 12 and obj["LastModified"] == when
    assert obj["Owner"] == {"ID": "id1", "DisplayName": "name1"}
    assert parsed["CommonPrefixes"] == [{"Prefix": "p/sub/"}]


def test_list_buckets_roundtrip():
    when = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
    doc = shapes.ListAllMyBucketsResult(
        shapes.Buckets([shapes.BucketEntry("a", when), shapes.BucketEntry("b", when)]),
        shapes.Owner("oid", "me"))
    parsed = _parse("ListBuckets", codec.encode(doc))
    assert [b["Name"] for b in parsed["Buckets"]] == ["a", "b"]
    assert parsed["Owner"]["ID"] == "oid"


def test_multipart_shapes_roundtrip():
    parsed = _parse("CompleteMultipartUpload", codec.encode(
        shapes.CompleteMultipartUploadResult("http://h/b/k", "b", "k", '"e-2"',
                                             ChecksumCRC32="AAAAAA==-2",
                                             ChecksumType="COMPOSITE")))
    assert parsed["ETag"] == '"e-2"' and parsed["ChecksumCRC32"] == "AAAAAA==-2"
    parsed = _parse("ListParts", codec.encode(shapes.ListPartsResult(
        "b", "k", "u", 0, 1, 1000, False,
        [shapes.PartEntry(1, dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), '"e"', 5)],
        shapes.Owner("o"), shapes.Owner("o"), "STANDARD")))
    assert parsed["Parts"][0]["Size"] == 5 and parsed["UploadId"] == "u"


def test_decode_request_shapes():
    doc = codec.decode(b'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/'
                       b'2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part>'
                       b'<Part><PartNumber>2</PartNumber><ETag>"b"</ETag></Part>'
                       b'</CompleteMultipartUpload>', shapes.CompleteMultipartUpload)
    assert [(p.PartNumber, p.ETag) for p in doc.Part] == [(1, '"a"'), (2, '"b"')]
    d = codec.decode(b"<Delete><Quiet>true</Quiet><Object><Key>k</Key></Object></Delete>",
                     shapes.Delete)
    assert d.Quiet is True and d.Object[0].Key == "k"


@pytest.mark.parametrize("bad", [
    b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part>"
    b"</CompleteMultipartUpload>",
    b"<Wrong/>", b"not xml", b"",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><CompleteMultipartUpload>&a;'
    b"</CompleteMultipartUpload>",
])
def test_decode_rejects(bad):
    with pytest.raises(codec.XMLDecodeError):
        codec.decode(bad, shapes.CompleteMultipartUpload)


def test_decode_size_cap():
    with pytest.raises(codec.XMLDecodeError):
        codec.decode(b"<Delete>" + b" " * 100 + b"</Delete>", shapes.Delete, max_size=50)

