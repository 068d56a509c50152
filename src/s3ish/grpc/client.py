"""A small client of s3ish's gRPC interface (proto/s3ish/v1, docs/grpc.md) that signs every
call (signing.py). It imports nothing of the server: `s3ish grpc put|get|ls` and the benchmark
use it, and so can any program.

    c = Client("127.0.0.1:9001", access_key, secret_key)
    c.put("bucket", "key", open("file", "rb"))          # streamed, ~2 MiB chunks
    obj, chunks = c.read("bucket", "key")               # obj: the metadata; chunks: bytes
    for page in c.list("bucket", prefix="a/", delimiter="/"): ...

Every data chunk read is checked against its CRC32C, and a whole object read is checked
against its CRC32C when the server knows one; a mismatch raises ChecksumError. Failures of a
call are grpc.RpcError; `error_code(e)` gives the S3 error code the server sent.
`AsyncClient` does the same PUT and GET on grpc.aio (the benchmark's event loop).
"""
import hashlib

import grpc
from awscrt import checksums as crt

from . import signing
from .v1 import storage_pb2 as pb
from .v1 import storage_pb2_grpc as pb_grpc

CHUNK = 2 * 1024 * 1024
MAX_MESSAGE = 16 * 1024 * 1024
OPTIONS = [("grpc.max_receive_message_length", MAX_MESSAGE),
           ("grpc.max_send_message_length", MAX_MESSAGE)]
SERVICE = "/s3ish.v1.Storage/"


class ChecksumError(Exception):
    """Bytes read do not match the CRC32C the server sent for them."""


def error_code(err: grpc.RpcError) -> str:
    """The S3 error code of a failed call ("" if it carries none)."""
    for key, value in (err.trailing_metadata() or ()):
        if key == "s3-error-code":
            return value
    return ""


def _credentials(tls: bool, ca_file: str | None):
    if not tls:
        return None
    roots = None
    if ca_file:
        with open(ca_file, "rb") as f:
            roots = f.read()
    return grpc.ssl_channel_credentials(root_certificates=roots)


def _endpoint(endpoint: str) -> tuple[str, bool]:
    """`host:port`, `grpc://host:port` or `grpcs://host:port` -> (target, TLS?)."""
    for scheme, tls in (("grpcs://", True), ("grpc://", False)):
        if endpoint.startswith(scheme):
            return endpoint[len(scheme):].rstrip("/"), tls
    return endpoint, False


def _chunks(source, chunk: int):
    """bytes-like, a binary file, or an iterable of bytes -> chunks of at most `chunk`."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source)
        for i in range(0, len(view), chunk):
            yield view[i:i + chunk]
    elif hasattr(source, "read"):
        while block := source.read(chunk):
            yield block
    else:
        for block in source:
            view = memoryview(block)
            for i in range(0, len(view), chunk):
                yield view[i:i + chunk]


def write_messages(first: dict, source, offset: int = 0, chunk: int = CHUNK,
                   crc32c: bool = True, md5: bool = False):
    """The WriteObject messages of `source` from `offset`: the first names the object (or the
    upload), the last has finish_write and (with `crc32c`/`md5`) the whole-object checksums,
    computed as the data passes (of the data sent by this stream)."""
    whole, digest, pos = 0, hashlib.md5() if md5 else None, offset
    msg = pb.WriteObjectRequest(write_offset=offset, **first)
    for data in _chunks(source, chunk):
        data = bytes(data)
        if msg.checksummed_data.content:
            # One message is held back: the last one carries finish_write.
            yield msg
            msg = pb.WriteObjectRequest(write_offset=pos)
        msg.checksummed_data.content = data
        msg.checksummed_data.crc32c = crt.crc32c(data)
        whole = crt.crc32c(data, whole)
        if digest is not None:
            digest.update(data)
        pos += len(data)
    msg.finish_write = True
    if crc32c:
        msg.object_checksums.crc32c = whole
    if digest is not None:
        msg.object_checksums.md5_hash = digest.digest()
    yield msg


def check_chunk(data: pb.ChecksummedData) -> bytes:
    if data.HasField("crc32c") and crt.crc32c(data.content) != data.crc32c:
        raise ChecksumError("a chunk read does not match its CRC32C")
    return data.content


class _Signer:
    def __init__(self, access_key: str, secret_key: str, region: str):
        self.access_key, self.secret_key, self.region = access_key, secret_key, region

    def metadata(self, method: str, bucket: str = "", key: str = "", message=None):
        payload = signing.payload_hash(message) if message is not None \
            else signing.UNSIGNED_PAYLOAD
        return signing.sign(self.access_key, self.secret_key, self.region, SERVICE + method,
                            signing.resource(bucket, key), payload)


class Client(_Signer):
    def __init__(self, endpoint: str, access_key: str, secret_key: str,
                 region: str = "us-east-1", tls: bool | None = None,
                 ca_file: str | None = None, chunk: int = CHUNK):
        super().__init__(access_key, secret_key, region)
        target, scheme_tls = _endpoint(endpoint)
        creds = _credentials(scheme_tls if tls is None else tls, ca_file)
        self.channel = (grpc.secure_channel(target, creds, OPTIONS) if creds is not None
                        else grpc.insecure_channel(target, OPTIONS))
        self.stub = pb_grpc.StorageStub(self.channel)
        self.chunk = chunk

    def close(self) -> None:
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _unary(self, method: str, request, bucket: str = "", key: str = ""):
        return getattr(self.stub, method)(request,
                                          metadata=self.metadata(method, bucket, key, request))

    # ---- buckets ----
    def create_bucket(self, bucket: str, object_lock: bool = False) -> pb.Bucket:
        return self._unary("CreateBucket", pb.CreateBucketRequest(
            bucket=bucket, object_lock_enabled=object_lock), bucket)

    def delete_bucket(self, bucket: str) -> None:
        self._unary("DeleteBucket", pb.DeleteBucketRequest(bucket=bucket), bucket)

    def list_buckets(self) -> list[pb.Bucket]:
        return list(self._unary("ListBuckets", pb.ListBucketsRequest()).buckets)

    # ---- objects ----
    def put(self, bucket: str, key: str, source, content_type: str = "",
            metadata: dict | None = None, if_not_exists: bool = False,
            md5: bool = False) -> pb.Object:
        """Write `source` (bytes, a binary file or an iterable of bytes) in one stream, with
        its CRC32C (and MD5 with `md5`) checked by the server before it commits."""
        spec = pb.WriteObjectSpec(bucket=bucket, key=key, content_type=content_type,
                                  metadata=metadata or {}, if_not_exists=if_not_exists)
        messages = write_messages({"write_object_spec": spec}, source, 0, self.chunk, True,
                                  md5)
        resp = self.stub.WriteObject(messages, metadata=self.metadata("WriteObject", bucket,
                                                                      key))
        return resp.resource

    def start_resumable(self, bucket: str, key: str, content_type: str = "",
                        metadata: dict | None = None, if_not_exists: bool = False) -> str:
        spec = pb.WriteObjectSpec(bucket=bucket, key=key, content_type=content_type,
                                  metadata=metadata or {}, if_not_exists=if_not_exists)
        return self._unary("StartResumableWrite", pb.StartResumableWriteRequest(
            write_object_spec=spec), bucket, key).upload_id

    def query_write_status(self, bucket: str, key: str, upload_id: str) -> int:
        return self._unary("QueryWriteStatus", pb.QueryWriteStatusRequest(
            upload_id=upload_id), bucket, key).persisted_size

    def cancel_resumable(self, bucket: str, key: str, upload_id: str) -> None:
        self._unary("CancelResumableWrite", pb.CancelResumableWriteRequest(
            upload_id=upload_id), bucket, key)

    def write_resumable(self, bucket: str, key: str, upload_id: str, source, offset: int,
                        finish: bool = True, crc32c: int | None = None):
        """Send `source` (the object's bytes from `offset` on) to a resumable write. With
        `finish`, the object is committed (checked against `crc32c`, the whole object's, if
        given) and its Object returned; without, the persisted size."""
        messages = write_messages({"upload_id": upload_id}, source, offset, self.chunk,
                                  crc32c=False)

        def tail():
            for msg in messages:
                if msg.finish_write:
                    msg.finish_write = finish
                    if finish and crc32c is not None:
                        msg.object_checksums.crc32c = crc32c
                yield msg
        resp = self.stub.WriteObject(tail(), metadata=self.metadata("WriteObject", bucket, key))
        return resp.resource if resp.HasField("resource") else resp.persisted_size

    def read(self, bucket: str, key: str, version_id: str = "", offset: int = 0,
             limit: int = 0):
        """(Object, ContentRange, iterator of checked chunks). Reading the iterator to its
        end also checks a whole object read against the object's CRC32C."""
        request = pb.ReadObjectRequest(bucket=bucket, key=key, version_id=version_id,
                                       read_offset=offset, read_limit=limit)
        stream = self.stub.ReadObject(request, metadata=self.metadata("ReadObject", bucket,
                                                                      key, request))
        first = next(stream, None)
        if first is None:
            raise ChecksumError("the read ended before its first message")
        return first.metadata, first.content_range, _checked(first, stream)

    def get(self, bucket: str, key: str, out, **kw) -> pb.Object:
        """Read into the binary file `out`."""
        obj, _, chunks = self.read(bucket, key, **kw)
        for data in chunks:
            out.write(data)
        return obj

    def head(self, bucket: str, key: str, version_id: str = "") -> pb.Object:
        return self._unary("HeadObject", pb.HeadObjectRequest(
            bucket=bucket, key=key, version_id=version_id), bucket, key)

    def delete(self, bucket: str, key: str, version_id: str = "") -> pb.DeleteObjectResponse:
        return self._unary("DeleteObject", pb.DeleteObjectRequest(
            bucket=bucket, key=key, version_id=version_id), bucket, key)

    def list_page(self, bucket: str, prefix: str = "", delimiter: str = "",
                  page_token: str = "", max_results: int = 0,
                  versions: bool = False) -> pb.ListObjectsResponse:
        return self._unary("ListObjects", pb.ListObjectsRequest(
            bucket=bucket, prefix=prefix, delimiter=delimiter, page_token=page_token,
            max_results=max_results, versions=versions), bucket)

    def list(self, bucket: str, **kw):
        """Every page of a listing, following the page tokens."""
        token = ""
        while True:
            page = self.list_page(bucket, page_token=token, **kw)
            yield page
            token = page.next_page_token
            if not token:
                return

    def copy(self, src_bucket: str, src_key: str, bucket: str, key: str,
             source_version_id: str = "", content_type: str | None = None,
             metadata: dict | None = None) -> pb.Object:
        replace = content_type is not None or metadata is not None
        return self._unary("CopyObject", pb.CopyObjectRequest(
            destination_bucket=bucket, destination_key=key, source_bucket=src_bucket,
            source_key=src_key, source_version_id=source_version_id,
            replace_metadata=replace, content_type=content_type or "",
            metadata=metadata or {}), bucket, key)


def _checked(first, stream):
    whole = 0
    rng, meta = first.content_range, first.metadata
    complete = rng.start == 0 and rng.end == rng.complete_length
    for resp in ([first] if first.checksummed_data.content else []):
        data = check_chunk(resp.checksummed_data)
        whole = crt.crc32c(data, whole)
        yield data
    for resp in stream:
        data = check_chunk(resp.checksummed_data)
        whole = crt.crc32c(data, whole)
        yield data
    if complete and meta.checksums.HasField("crc32c") and whole != meta.checksums.crc32c:
        raise ChecksumError("the object read does not match its CRC32C")


class AsyncClient(_Signer):
    """PUT and GET on grpc.aio, for a caller's event loop (the benchmark)."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str,
                 region: str = "us-east-1", tls: bool | None = None,
                 ca_file: str | None = None, chunk: int = CHUNK):
        super().__init__(access_key, secret_key, region)
        target, scheme_tls = _endpoint(endpoint)
        creds = _credentials(scheme_tls if tls is None else tls, ca_file)
        self.channel = (grpc.aio.secure_channel(target, creds, OPTIONS) if creds is not None
                        else grpc.aio.insecure_channel(target, OPTIONS))
        self.stub = pb_grpc.StorageStub(self.channel)
        self.chunk = chunk

    async def close(self) -> None:
        await self.channel.close()

    async def create_bucket(self, bucket: str) -> None:
        request = pb.CreateBucketRequest(bucket=bucket)
        await self.stub.CreateBucket(request, metadata=self.metadata("CreateBucket", bucket,
                                                                     message=request))

    async def delete_bucket(self, bucket: str) -> None:
        request = pb.DeleteBucketRequest(bucket=bucket)
        await self.stub.DeleteBucket(request, metadata=self.metadata("DeleteBucket", bucket,
                                                                     message=request))

    async def delete(self, bucket: str, key: str) -> None:
        request = pb.DeleteObjectRequest(bucket=bucket, key=key)
        await self.stub.DeleteObject(request, metadata=self.metadata("DeleteObject", bucket,
                                                                     key, request))

    async def put(self, bucket: str, key: str, body: bytes) -> pb.Object:
        spec = pb.WriteObjectSpec(bucket=bucket, key=key)
        messages = write_messages({"write_object_spec": spec}, body, 0, self.chunk)
        resp = await self.stub.WriteObject(_aiter(messages),
                                           metadata=self.metadata("WriteObject", bucket, key))
        return resp.resource

    async def get(self, bucket: str, key: str) -> int:
        """Read a whole object, checking every chunk; returns the bytes read."""
        request = pb.ReadObjectRequest(bucket=bucket, key=key)
        n = 0
        async for resp in self.stub.ReadObject(
                request, metadata=self.metadata("ReadObject", bucket, key, request)):
            n += len(check_chunk(resp.checksummed_data))
        return n


async def _aiter(iterable):
    for item in iterable:
        yield item
