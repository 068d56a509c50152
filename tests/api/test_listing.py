"""ListObjects v1 and v2 over a real server: pagination, delimiters, encoding."""
import concurrent.futures
import uuid

import botocore.exceptions
import pytest


@pytest.fixture(scope="module")
def filled(server):
    """A bucket with 1100 flat keys plus a small tree, created once for this module."""
    s3 = server.client(max_pool_connections=16)
    name = f"list-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    flat = [f"flat/{i:05d}" for i in range(1100)]
    tree = ["a.txt", "dir/x", "dir/y", "dir/sub/z", "dir2/w", "ünï/ファイル", "sp ace/k",
            "zz"]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=name, Key=k, Body=b"."), flat + tree))
    return s3, name, flat, tree


def test_v2_pagination_over_1000(filled):
    s3, name, flat, tree = filled
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name,
                                                              PaginationConfig={"PageSize": 300}):
        assert page["KeyCount"] == len(page.get("Contents", []))
        keys += [o["Key"] for o in page.get("Contents", [])]
    assert keys == sorted(flat + tree, key=lambda k: k.encode())
    first = s3.list_objects_v2(Bucket=name)
    assert first["IsTruncated"] and first["KeyCount"] == 1000 and first["MaxKeys"] == 1000


def test_v1_pagination_with_marker(filled):
    s3, name, flat, tree = filled
    keys, marker = [], ""
    while True:
        page = s3.list_objects(Bucket=name, Marker=marker, MaxKeys=400, Prefix="flat/")
        keys += [o["Key"] for o in page["Contents"]]
        if not page["IsTruncated"]:
            break
        marker = keys[-1]
    assert keys == flat


def test_delimiter_and_common_prefixes(filled):
    s3, name, flat, tree = filled
    r = s3.list_objects_v2(Bucket=name, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/", "dir2/", "flat/", "sp ace/",
                                                         "ünï/"]
    assert [o["Key"] for o in r["Contents"]] == ["a.txt", "zz"]
    r = s3.list_objects_v2(Bucket=name, Delimiter="/", Prefix="dir/")
    assert [o["Key"] for o in r["Contents"]] == ["dir/x", "dir/y"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/sub/"]


def test_delimiter_pagination_v1_next_marker(filled):
    s3, name, flat, tree = filled
    seen, marker = [], ""
    while True:
        r = s3.list_objects(Bucket=name, Delimiter="/", MaxKeys=2, Marker=marker)
        seen += [o["Key"] for o in r.get("Contents", [])]
        seen += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            break
        marker = r["NextMarker"]
    assert sorted(seen) == sorted(["a.txt", "zz", "dir/", "dir2/", "flat/", "sp ace/", "ünï/"])
    assert len(seen) == len(set(seen))


def test_delimiter_pagination_v2(filled):
    s3, name, flat, tree = filled
    seen = []
    for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=name, Delimiter="/", PaginationConfig={"PageSize": 2}):
        seen += [o["Key"] for o in page.get("Contents", [])]
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert sorted(seen) == sorted(["a.txt", "zz", "dir/", "dir2/", "flat/", "sp ace/", "ünï/"])


def test_start_after_and_fetch_owner(filled):
    s3, name, flat, tree = filled
    r = s3.list_objects_v2(Bucket=name, StartAfter="flat/01098", Prefix="flat/")
    assert [o["Key"] for o in r["Contents"]] == ["flat/01099"]
    assert "Owner" not in r["Contents"][0]
    r = s3.list_objects_v2(Bucket=name, Prefix="zz", FetchOwner=True)
    assert r["Contents"][0]["Owner"]["ID"]


def test_encoding_type_url(filled):
    s3, name, flat, tree = filled
    # boto3 asks for encoding-type=url on its own and decodes; asked explicitly, the caller
    # gets the encoded keys.
    from urllib.parse import quote
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name, Prefix="ünï")["Contents"]] == [
        "ünï/ファイル"]
    r = s3.list_objects_v2(Bucket=name, Prefix="sp ace/", EncodingType="url")
    assert [o["Key"] for o in r["Contents"]] == ["sp%20ace/k"]
    r = s3.list_objects(Bucket=name, Prefix="ünï", EncodingType="url")
    assert [o["Key"] for o in r["Contents"]] == [quote("ünï/ファイル")]


def test_raw_encoding_type_url(server, filled):
    from tests.support import send, signed_request
    _, name, _, _ = filled
    url, headers = signed_request(server, "GET", f"/{name}?list-type=2&prefix=sp%20ace%2F"
                                  "&encoding-type=url")
    body = send("GET", url, headers).text
    assert "<Key>sp%20ace/k</Key>" in body and "<EncodingType>url</EncodingType>" in body


def test_max_keys_zero_and_bad_args(filled):
    s3, name, flat, tree = filled
    r = s3.list_objects_v2(Bucket=name, MaxKeys=0)
    assert r["KeyCount"] == 0
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_objects_v2(Bucket=name, ContinuationToken="!!notatoken!!")
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
