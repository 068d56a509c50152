"""Objects over gRPC against the real server: byte-exact streamed writes and reads (20 MiB),
ranges, per-chunk and whole-object checksums (a mismatch stores nothing), resumable writes,
listings (delimiter, paging, versions), copy, delete, buckets, and S3 <-> gRPC interplay."""
import hashlib
import os

import grpc
import pytest
from awscrt import checksums as crt

from s3ish.grpc.client import error_code, write_messages
from s3ish.grpc.v1 import storage_pb2 as pb

MiB = 1024 * 1024


def failure(fn, *args, **kw) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as e:
        result = fn(*args, **kw)
        if hasattr(result, "__next__"):
            list(result)
    return e.value.code(), error_code(e.value)


def read_all(client, bucket, key, **kw) -> bytes:
    _, _, chunks = client.read(bucket, key, **kw)
    return b"".join(chunks)


def raw_write(client, bucket, key, messages):
    return client.stub.WriteObject(iter(messages),
                                   metadata=client.metadata("WriteObject", bucket, key))


def test_put_get_byte_exact_streamed(client, gbucket):
    small = b"hello grpc"
    obj = client.put(gbucket, "small.txt", small, content_type="text/plain",
                     metadata={"Color": "blue"})
    assert obj.size == len(small) and obj.etag == hashlib.md5(small).hexdigest()
    assert obj.checksums.crc32c == crt.crc32c(small)
    meta, rng, chunks = client.read(gbucket, "small.txt")
    assert b"".join(chunks) == small
    assert meta.content_type == "text/plain" and dict(meta.metadata) == {"color": "blue"}
    assert meta.checksums.md5_hash == hashlib.md5(small).digest()
    assert (rng.start, rng.end, rng.complete_length) == (0, len(small), len(small))
    big = os.urandom(20 * MiB + 7)
    obj = client.put(gbucket, "dir/big.bin", big, md5=True)
    assert obj.size == len(big) and obj.checksums.crc32c == crt.crc32c(big)
    stream = client.stub.ReadObject(
        req := pb.ReadObjectRequest(bucket=gbucket, key="dir/big.bin"),
        metadata=client.metadata("ReadObject", gbucket, "dir/big.bin", req))
    responses = list(stream)
    # About 2 MiB per message, each with the CRC32C of its own bytes; metadata first only.
    assert len(responses) == 11 and responses[0].HasField("metadata")
    assert not any(r.HasField("metadata") for r in responses[1:])
    assert all(crt.crc32c(r.checksummed_data.content) == r.checksummed_data.crc32c
               for r in responses)
    assert b"".join(r.checksummed_data.content for r in responses) == big
    empty = client.put(gbucket, "empty", b"")
    assert empty.size == 0 and read_all(client, gbucket, "empty") == b""


def test_ranged_reads(client, gbucket):
    data = os.urandom(3 * MiB)
    client.put(gbucket, "r", data)
    _, rng, chunks = client.read(gbucket, "r", offset=MiB + 5, limit=100)
    assert b"".join(chunks) == data[MiB + 5: MiB + 105] and (rng.start, rng.end) == (
        MiB + 5, MiB + 105)
    assert read_all(client, gbucket, "r", offset=-10) == data[-10:]
    assert read_all(client, gbucket, "r", offset=2 * MiB) == data[2 * MiB:]
    assert read_all(client, gbucket, "r", offset=len(data)) == b""
    assert failure(client.read, gbucket, "r", offset=len(data) + 1) == (
        grpc.StatusCode.OUT_OF_RANGE, "InvalidRange")
    assert failure(client.read, gbucket, "r", limit=-1) == (
        grpc.StatusCode.INVALID_ARGUMENT, "InvalidArgument")


def test_chunk_crc_mismatch_is_refused(client, gbucket):
    spec = pb.WriteObjectSpec(bucket=gbucket, key="bad")
    first = pb.WriteObjectRequest(write_object_spec=spec, write_offset=0)
    first.checksummed_data.content = b"a" * 1000
    first.checksummed_data.crc32c = crt.crc32c(b"a" * 1000)
    second = pb.WriteObjectRequest(write_offset=1000, finish_write=True)
    second.checksummed_data.content = b"b" * 1000
    second.checksummed_data.crc32c = crt.crc32c(b"c" * 1000)       # not these bytes
    assert failure(raw_write, client, gbucket, "bad", [first, second]) == (
        grpc.StatusCode.INVALID_ARGUMENT, "BadDigest")
    # A chunk without a CRC32C, and a write_offset that skips bytes, are refused too.
    second.checksummed_data.ClearField("crc32c")
    assert failure(raw_write, client, gbucket, "bad", [first, second])[1] == "InvalidArgument"
    second.checksummed_data.crc32c = crt.crc32c(b"b" * 1000)
    second.write_offset = 999
    assert failure(raw_write, client, gbucket, "bad", [first, second])[1] == "InvalidArgument"
    assert failure(client.head, gbucket, "bad") == (grpc.StatusCode.NOT_FOUND, "NoSuchKey")


def test_whole_object_checksum_mismatch_stores_nothing(client, gbucket):
    client.put(gbucket, "kept", b"original")
    data = os.urandom(3 * MiB)
    msgs = list(write_messages({"write_object_spec": pb.WriteObjectSpec(
        bucket=gbucket, key="kept")}, data, md5=True))
    msgs[-1].object_checksums.crc32c ^= 1
    assert failure(raw_write, client, gbucket, "kept", msgs) == (
        grpc.StatusCode.INVALID_ARGUMENT, "BadDigest")
    msgs = list(write_messages({"write_object_spec": pb.WriteObjectSpec(
        bucket=gbucket, key="kept")}, data, md5=True))
    msgs[-1].object_checksums.md5_hash = hashlib.md5(b"other").digest()
    assert failure(raw_write, client, gbucket, "kept", msgs)[1] == "BadDigest"
    # A stream that ends without finish_write stores nothing either.
    msgs = list(write_messages({"write_object_spec": pb.WriteObjectSpec(
        bucket=gbucket, key="kept")}, data))
    msgs[-1].finish_write = False
    assert failure(raw_write, client, gbucket, "kept", msgs)[1] == "IncompleteBody"
    assert read_all(client, gbucket, "kept") == b"original"
    listed = [o.key for p in client.list(gbucket, versions=True) for o in p.objects]
    assert listed == ["kept"]


def test_resumable_write(client, gbucket, grpc_server):
    data = os.urandom(20 * MiB + 123)
    uid = client.start_resumable(gbucket, "resumed", content_type="application/x-test",
                                 metadata={"k": "v"})
    assert client.query_write_status(gbucket, "resumed", uid) == 0
    # A stream broken off after 11 MiB keeps the whole parts: 8 MiB.
    assert client.write_resumable(gbucket, "resumed", uid, data[:11 * MiB], 0,
                                  finish=False) == 8 * MiB
    persisted = client.query_write_status(gbucket, "resumed", uid)
    assert persisted == 8 * MiB
    # Resuming anywhere but the persisted size is refused.
    assert failure(client.write_resumable, gbucket, "resumed", uid, data[MiB:], MiB)[1] == \
        "InvalidArgument"
    obj = client.write_resumable(gbucket, "resumed", uid, data[persisted:], persisted,
                                 crc32c=crt.crc32c(data))
    assert obj.size == len(data) and obj.checksums.crc32c == crt.crc32c(data)
    meta, _, chunks = client.read(gbucket, "resumed")
    assert b"".join(chunks) == data and dict(meta.metadata) == {"k": "v"}
    assert meta.content_type == "application/x-test"
    assert failure(client.query_write_status, gbucket, "resumed", uid) == (
        grpc.StatusCode.NOT_FOUND, "NoSuchUpload")
    # A whole-object CRC32C mismatch at the finish stores nothing and ends the upload.
    uid = client.start_resumable(gbucket, "never")
    assert failure(client.write_resumable, gbucket, "never", uid, data[:MiB], 0,
                   crc32c=crt.crc32c(b"x")) == (grpc.StatusCode.INVALID_ARGUMENT, "BadDigest")
    assert failure(client.head, gbucket, "never")[1] == "NoSuchKey"
    assert failure(client.query_write_status, gbucket, "never", uid)[1] == "NoSuchUpload"
    # Cancelled: gone.
    uid = client.start_resumable(gbucket, "cancelled")
    client.cancel_resumable(gbucket, "cancelled", uid)
    assert failure(client.query_write_status, gbucket, "cancelled", uid)[1] == "NoSuchUpload"
    # An upload id used for another resource is refused (the token names bucket and key).
    uid = client.start_resumable(gbucket, "a")
    assert failure(client.query_write_status, gbucket, "b", uid)[0] == \
        grpc.StatusCode.UNAUTHENTICATED
    client.cancel_resumable(gbucket, "a", uid)


def test_listing_delimiter_paging_versions(client, gbucket, grpc_server):
    for key in ["a/1", "a/2", "b/1", "c", "d", "e"]:
        client.put(gbucket, key, key.encode())
    page = client.list_page(gbucket, delimiter="/")
    assert list(page.prefixes) == ["a/", "b/"] and [o.key for o in page.objects] == [
        "c", "d", "e"]
    pages = list(client.list(gbucket, max_results=2))
    assert [[o.key for o in p.objects] for p in pages] == [["a/1", "a/2"], ["b/1", "c"],
                                                           ["d", "e"]]
    assert pages[-1].next_page_token == ""
    assert [o.key for o in client.list_page(gbucket, prefix="a/").objects] == ["a/1", "a/2"]
    assert failure(client.list_page, gbucket, page_token="%%%")[1] == "InvalidArgument"
    # Versions: turned on over S3; every version and delete marker, newest first per key.
    grpc_server.client().put_bucket_versioning(
        Bucket=gbucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = client.put(gbucket, "c", b"c2").version_id
    gone = client.delete(gbucket, "d")
    assert gone.delete_marker and gone.version_id
    pages = list(client.list(gbucket, versions=True, prefix="c", max_results=1))
    rows = [o for p in pages for o in p.objects]
    assert [(o.key, o.version_id, o.is_latest) for o in rows] == [
        ("c", v1, True), ("c", "null", False)]
    rows = [o for o in client.list_page(gbucket, versions=True, prefix="d").objects]
    assert [(o.delete_marker, o.is_latest) for o in rows] == [(True, True), (False, False)]
    assert [o.key for o in client.list_page(gbucket).objects] == ["a/1", "a/2", "b/1", "c",
                                                                  "e"]
    # An older version reads by its id; deleting a version removes it for good.
    assert read_all(client, gbucket, "c", version_id="null") == b"c"
    client.delete(gbucket, "c", v1)
    assert read_all(client, gbucket, "c") == b"c"


def test_copy(client, gbucket):
    client.put(gbucket, "src", b"copy me", content_type="text/x", metadata={"a": "1"})
    obj = client.copy(gbucket, "src", gbucket, "dst")
    assert obj.size == 7
    head = client.head(gbucket, "dst")
    assert head.content_type == "text/x" and dict(head.metadata) == {"a": "1"}
    client.copy(gbucket, "src", gbucket, "dst2", content_type="text/y", metadata={"b": "2"})
    head = client.head(gbucket, "dst2")
    assert head.content_type == "text/y" and dict(head.metadata) == {"b": "2"}
    assert read_all(client, gbucket, "dst2") == b"copy me"
    assert failure(client.copy, gbucket, "nope", gbucket, "x") == (
        grpc.StatusCode.NOT_FOUND, "NoSuchKey")
    assert failure(client.copy, gbucket, "src", gbucket, "src")[1] == "InvalidRequest"


def test_delete_and_buckets(client, gbucket):
    client.put(gbucket, "k", b"1")
    out = client.delete(gbucket, "k")
    assert not out.delete_marker
    assert failure(client.head, gbucket, "k") == (grpc.StatusCode.NOT_FOUND, "NoSuchKey")
    assert gbucket in [b.name for b in client.list_buckets()]
    assert failure(client.create_bucket, gbucket) == (grpc.StatusCode.ALREADY_EXISTS,
                                                      "BucketAlreadyOwnedByYou")
    assert failure(client.create_bucket, "Bad_Name") == (grpc.StatusCode.INVALID_ARGUMENT,
                                                         "InvalidBucketName")
    client.put(gbucket, "k", b"1")
    assert failure(client.delete_bucket, gbucket) == (grpc.StatusCode.FAILED_PRECONDITION,
                                                      "BucketNotEmpty")
    assert failure(client.head, "no-such-bucket-x", "k") == (grpc.StatusCode.NOT_FOUND,
                                                             "NoSuchBucket")
    if_not = client.put
    assert failure(if_not, gbucket, "k", b"2", if_not_exists=True) == (
        grpc.StatusCode.FAILED_PRECONDITION, "PreconditionFailed")


def test_s3_and_grpc_see_the_same_objects(client, gbucket, grpc_server):
    s3 = grpc_server.client()
    data = os.urandom(6 * MiB)
    s3.put_object(Bucket=gbucket, Key="from-s3", Body=data, Metadata={"m": "x"},
                  ContentType="image/png")
    meta, _, chunks = client.read(gbucket, "from-s3")
    assert b"".join(chunks) == data and dict(meta.metadata) == {"m": "x"}
    assert meta.content_type == "image/png" and meta.checksums.s3_algorithm
    client.put(gbucket, "from-grpc", data, metadata={"n": "y"}, content_type="text/z")
    got = s3.get_object(Bucket=gbucket, Key="from-grpc", ChecksumMode="ENABLED")
    assert got["Body"].read() == data and got["Metadata"] == {"n": "y"}
    assert got["ContentType"] == "text/z"
    assert got["ChecksumCRC32C"] == __import__("base64").b64encode(
        crt.crc32c(data).to_bytes(4, "big")).decode()
