"""Engine records -> messages of proto/s3ish/v1 (the generated module is `pb`)."""
import base64

from google.protobuf.timestamp_pb2 import Timestamp

from .v1 import storage_pb2 as pb

_HEX = frozenset("0123456789abcdef")


def timestamp(seconds: float) -> Timestamp:
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def checksums(v) -> pb.ObjectChecksums:
    """What the server knows of a version's whole-object checksums: its S3 checksum (a
    CRC32C FULL_OBJECT one is also given as crc32c) and the MD5 when the ETag is one."""
    out = pb.ObjectChecksums(s3_algorithm=v.checksum_algorithm, s3_value=v.checksum_value,
                             s3_type=v.checksum_type)
    if v.checksum_algorithm == "CRC32C" and v.checksum_type == "FULL_OBJECT" \
            and v.checksum_value:
        out.crc32c = int.from_bytes(base64.b64decode(v.checksum_value), "big")
    # The ETag of an object written in one piece without SSE-C/SSE-KMS is its MD5.
    if len(v.etag) == 32 and set(v.etag) <= _HEX and v.sse in ("", "AES256"):
        out.md5_hash = bytes.fromhex(v.etag)
    return out


def object_of(v, is_latest: bool = False) -> pb.Object:
    return pb.Object(bucket=v.bucket, key=v.key, version_id=v.version_id or "null",
                     size=v.size, etag=v.etag, content_type=v.content_type,
                     metadata=v.user_meta, last_modified=timestamp(v.mtime),
                     checksums=checksums(v), storage_class=v.storage_class,
                     delete_marker=v.delete_marker, is_latest=is_latest)


def listed(bucket: str, row) -> pb.Object:
    """A row of a plain listing (key, size, etag, mtime, storage class)."""
    return pb.Object(bucket=bucket, key=row.key, size=row.size, etag=row.etag,
                     last_modified=timestamp(row.mtime), storage_class=row.storage_class,
                     is_latest=True)


def bucket_of(b, region: str) -> pb.Bucket:
    return pb.Bucket(name=b.name, create_time=timestamp(b.created),
                     region=b.region or region, versioning=b.versioning)
