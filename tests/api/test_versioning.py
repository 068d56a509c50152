"""Bucket versioning through boto3: states, version ids, delete markers, versionId on every
object operation, ListObjectVersions."""
import botocore.exceptions
import pytest


def _err(call, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kw)
    return e.value.response


def _enable(s3, bucket, status="Enabled"):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def test_versioning_states(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    _enable(s3, bucket)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    _enable(s3, bucket, "Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    r = _err(s3.put_bucket_versioning, Bucket=bucket,
             VersioningConfiguration={"Status": "Sometimes"})
    assert r["Error"]["Code"] == "MalformedXML"
    r = _err(s3.put_bucket_versioning, Bucket=bucket,
             VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    assert r["Error"]["Code"] == "NotImplemented"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_unversioned_bucket_has_null_versions_without_headers(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    assert "VersionId" not in put
    s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    listing = s3.list_object_versions(Bucket=bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listing["Versions"]] == [
        ("k", "null", True)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"two"
    assert "VersionId" not in s3.delete_object(Bucket=bucket, Key="k")
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)


def test_versions_kept_and_read_by_id(s3, bucket):
    _enable(s3, bucket)
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=f"v{i}".encode())["VersionId"]
           for i in range(3)]
    assert len(set(ids)) == 3 and "null" not in ids
    for i, vid in enumerate(ids):
        got = s3.get_object(Bucket=bucket, Key="k", VersionId=vid)
        assert got["Body"].read() == f"v{i}".encode() and got["VersionId"] == vid
        assert s3.head_object(Bucket=bucket, Key="k", VersionId=vid)["ContentLength"] == 2
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"
    listing = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in listing] == ids[::-1]          # newest first
    assert [v["IsLatest"] for v in listing] == [True, False, False]
    # Removing the current version makes the previous one current.
    s3.delete_object(Bucket=bucket, Key="k", VersionId=ids[2])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v1"
    r = _err(s3.get_object, Bucket=bucket, Key="k", VersionId=ids[2])
    assert r["Error"]["Code"] == "NoSuchVersion"
    r = _err(s3.get_object, Bucket=bucket, Key="k", VersionId="not-an-id")
    assert r["Error"]["Code"] == "InvalidArgument"


def test_delete_markers(s3, bucket):
    _enable(s3, bucket)
    vid = s3.put_object(Bucket=bucket, Key="k", Body=b"data")["VersionId"]
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] not in (vid, "null")
    r = _err(s3.get_object, Bucket=bucket, Key="k")
    assert r["Error"]["Code"] == "NoSuchKey"
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    r = _err(s3.head_object, Bucket=bucket, Key="k", VersionId=d["VersionId"])
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 405
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    # A delete on a delete marker adds another marker.
    d2 = s3.delete_object(Bucket=bucket, Key="k")
    listing = s3.list_object_versions(Bucket=bucket)
    assert [m["VersionId"] for m in listing["DeleteMarkers"]] == [d2["VersionId"],
                                                                  d["VersionId"]]
    assert listing["DeleteMarkers"][0]["IsLatest"]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=vid)["Body"].read() == b"data"
    # Removing the markers brings the object back.
    for m in (d2, d):
        out = s3.delete_object(Bucket=bucket, Key="k", VersionId=m["VersionId"])
        assert out["DeleteMarker"] is True and out["VersionId"] == m["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


def test_suspended_overwrites_the_null_version(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")          # null, never versioned
    _enable(s3, bucket)
    vid = s3.put_object(Bucket=bucket, Key="k", Body=b"versioned")["VersionId"]
    _enable(s3, bucket, "Suspended")
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"suspended")
    assert "VersionId" not in put            # the null version: no id to report
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [
        ("null", True), (vid, False)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == \
        b"suspended"
    d = s3.delete_object(Bucket=bucket, Key="k")      # a null delete marker replaces it
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    listing = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listing["Versions"]] == [vid]
    assert [m["VersionId"] for m in listing["DeleteMarkers"]] == ["null"]


def test_copy_and_tagging_of_versions(s3, bucket):
    _enable(s3, bucket)
    old = s3.put_object(Bucket=bucket, Key="src", Body=b"old", Tagging="a=1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"new")
    c = s3.copy_object(Bucket=bucket, Key="dst",
                       CopySource={"Bucket": bucket, "Key": "src", "VersionId": old})
    assert c["CopySourceVersionId"] == old and c["VersionId"] not in (old, "null")
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"old"
    assert s3.get_object_tagging(Bucket=bucket, Key="src", VersionId=old)["TagSet"] == [
        {"Key": "a", "Value": "1"}]
    s3.put_object_tagging(Bucket=bucket, Key="src", VersionId=old,
                          Tagging={"TagSet": [{"Key": "b", "Value": "2"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="src")["TagSet"] == []
    assert s3.get_object_tagging(Bucket=bucket, Key="src", VersionId=old)["TagSet"] == [
        {"Key": "b", "Value": "2"}]


def test_delete_objects_with_versions(s3, bucket):
    _enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="a", Body=b"1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="b", Body=b"2")
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "a", "VersionId": v1}, {"Key": "b"}]})
    by_key = {d["Key"]: d for d in out["Deleted"]}
    assert by_key["a"]["VersionId"] == v1 and "DeleteMarker" not in by_key["a"]
    assert by_key["b"]["DeleteMarker"] is True and by_key["b"]["DeleteMarkerVersionId"]
    listing = s3.list_object_versions(Bucket=bucket)
    assert [v["Key"] for v in listing["Versions"]] == ["b"]
    assert [m["Key"] for m in listing["DeleteMarkers"]] == ["b"]


def test_list_object_versions_paging_and_prefixes(s3, bucket):
    _enable(s3, bucket)
    made = {}
    for key in ("a", "b", "d/x", "d/y", "e"):
        made[key] = [s3.put_object(Bucket=bucket, Key=key, Body=b"x")["VersionId"]
                     for _ in range(3)][::-1]
    want = [(k, v) for k in sorted(made) for v in made[k]]
    got, kw = [], {}
    while True:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=4, **kw)
        got += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        if not page["IsTruncated"]:
            break
        kw = {"KeyMarker": page["NextKeyMarker"],
              "VersionIdMarker": page["NextVersionIdMarker"]}
    assert got == want
    page = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["d/"]
    assert {v["Key"] for v in page["Versions"]} == {"a", "b", "e"}
    page = s3.list_object_versions(Bucket=bucket, Prefix="d/", KeyMarker="d/x")
    assert [v["Key"] for v in page["Versions"]] == ["d/y"] * 3
    r = _err(s3.list_object_versions, Bucket=bucket, VersionIdMarker=made["a"][0])
    assert r["Error"]["Code"] == "InvalidArgument"


def test_versioned_bucket_cannot_be_deleted_until_empty(s3, bucket):
    _enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="k")
    r = _err(s3.delete_bucket, Bucket=bucket)
    assert r["Error"]["Code"] == "BucketNotEmpty"


def test_list_object_versions_max_keys_zero_and_url_encoding(s3, bucket):
    _enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="a b+c", Body=b"x")
    page = s3.list_object_versions(Bucket=bucket, MaxKeys=0)
    assert "Versions" not in page and page["MaxKeys"] == 0
    # Asked for explicitly, the encoding reaches the caller as it was sent.
    page = s3.list_object_versions(Bucket=bucket, EncodingType="url")
    assert [v["Key"] for v in page["Versions"]] == ["a%20b%2Bc"]
