"""WriteObject and the resumable writes (docs/grpc.md, "Writes").

A stream's messages carry `write_offset` (the bytes written before them: anything else is
refused), data with its CRC32C (checked as it arrives: a chunk without one, or whose bytes do
not match it, fails the call and nothing is stored), optional whole-object checksums and
`finish_write` on the last one.

A one-stream write goes through the engine's PUT commit protocol: the whole-object CRC32C and
MD5 are checked after the last byte and before the commit, so a mismatch (or a stream that ends
without finish_write) stores nothing. The object gets a CRC32C FULL_OBJECT checksum.

A resumable write is a multipart upload of the engine (its upload id, wrapped with bucket and
key in an opaque token): each stream cuts its data into parts of PART bytes, committed one by
one, so what is persisted after a broken stream is a whole number of parts (QueryWriteStatus
says how much; a new stream goes on from there). finish_write uploads the last, shorter part
and completes the upload; the whole-object CRC32C (combined from the parts' CRC32Cs, never
re-read) is checked before the completion commits, and on a mismatch the upload is aborted.
Uploads left unfinished expire with the server's --multipart-expiry, as S3's do.
"""
import base64
import binascii
import json

from awscrt import checksums as crt

from ..engine.types import PutSpec
from ..s3 import errors
from ..s3.handlers.object_write import MAX_PUT
from . import access, convert
from .call import admit, unary
from .objects import condition, spec_fields
from .v1 import storage_pb2 as pb

PART = 8 * 1024 * 1024      # bytes per part of a resumable write (over S3's 5 MiB minimum)


class _Unfinished(Exception):
    """A resumable stream ended (without finish_write) inside a part: that part is dropped."""


class Feed:
    """The data of one WriteObject stream, checked message by message."""

    def __init__(self, messages, first, offset: int, limit: int):
        self.messages = messages
        self.first = first
        self.offset = offset            # where the next message's data must start
        self.limit = limit
        self.finished = False
        self.crc32c = None
        self.md5 = None
        self.received = 0
        self._back = None

    def push_back(self, rest) -> None:
        self._back = rest

    async def next_data(self):
        """The next non-empty data (bytes or memoryview), None at the end of the stream."""
        if self._back is not None:
            data, self._back = self._back, None
            return data
        while not self.finished:
            if self.first is not None:
                msg, self.first = self.first, None
            else:
                msg = await anext(self.messages, None)
                if msg is None:
                    return None
                if msg.WhichOneof("first_message") is not None:
                    raise errors.InvalidArgument("only the first message of a stream names an "
                                                 "upload id or an object",
                                                 ArgumentName="first_message")
            data = self._take(msg)
            if data:
                return data
        return None

    def _take(self, msg) -> bytes:
        if msg.write_offset != self.offset:
            raise errors.InvalidArgument(
                f"write_offset {msg.write_offset} does not follow the data written so far "
                f"({self.offset} bytes)", ArgumentName="write_offset",
                ArgumentValue=str(msg.write_offset))
        if msg.HasField("object_checksums"):
            sums = msg.object_checksums
            if sums.HasField("crc32c"):
                self.crc32c = sums.crc32c
            if sums.md5_hash:
                if len(sums.md5_hash) != 16:
                    raise errors.InvalidDigest("md5_hash must have 16 bytes")
                self.md5 = sums.md5_hash
        data = msg.checksummed_data.content
        if data:
            if not msg.checksummed_data.HasField("crc32c"):
                raise errors.InvalidArgument("every data chunk must carry its crc32c",
                                             ArgumentName="checksummed_data.crc32c")
            if crt.crc32c(data) != msg.checksummed_data.crc32c:
                raise errors.BadDigest(f"the CRC32C of the chunk at offset {self.offset} does "
                                       "not match its bytes: nothing was stored")
        self.offset += len(data)
        self.received += len(data)
        if self.offset > self.limit:
            raise errors.EntityTooLarge(MaxSizeAllowed=str(self.limit))
        if msg.finish_write:
            self.finished = True
        return data


def check_whole(feed: Feed, md5: bytes | None, crc: bytes | None) -> None:
    """The whole-object checksums the client sent against those of the bytes received."""
    if feed.crc32c is not None and crc != feed.crc32c.to_bytes(4, "big"):
        raise errors.BadDigest("the object's CRC32C does not match the one sent "
                               "(object_checksums.crc32c): nothing was stored")
    if feed.md5 is not None and md5 != feed.md5:
        raise errors.BadDigest("the object's MD5 does not match the one sent "
                               "(object_checksums.md5_hash): nothing was stored")


def upload_token(bucket: str, key: str, upload_id: str, if_not_exists: bool) -> str:
    raw = json.dumps([bucket, key, upload_id, if_not_exists]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def parse_token(token: str) -> tuple[str, str, str, bool]:
    try:
        bucket, key, uid, if_not_exists = json.loads(base64.urlsafe_b64decode(
            token.encode("ascii")))
        if not all(isinstance(x, str) for x in (bucket, key, uid)):
            raise ValueError
    except (binascii.Error, ValueError, TypeError, UnicodeError):
        raise errors.NoSuchUpload(f"no resumable write has the id {token!r}",
                                  UploadId=token) from None
    return bucket, key, uid, bool(if_not_exists)


class WriteOps:
    @unary
    async def WriteObject(self, call, messages):
        first = await anext(messages, None)
        if first is None:
            raise errors.InvalidArgument("an empty stream: the first message must name an "
                                         "object or an upload id", ArgumentName="first_message")
        which = first.WhichOneof("first_message")
        if which == "upload_id":
            return await self._resume(call, messages, first)
        if which is None:
            raise errors.InvalidArgument("the first message must name an object "
                                         "(write_object_spec) or an upload id",
                                         ArgumentName="first_message")
        spec = first.write_object_spec
        ctx = await admit(self, call, spec.bucket, spec.key)
        await access.authorize(ctx, "PutObject", spec.bucket, spec.key)
        put = PutSpec(owner=ctx.owner, checksum_algorithm="CRC32C",
                      **spec_fields(spec.content_type, spec.metadata))
        feed = Feed(messages, first, 0, MAX_PUT)

        async def body():
            while (data := await feed.next_data()) is not None:
                yield data

        def verify(digests):
            if not feed.finished:
                raise errors.IncompleteBody("the stream ended without finish_write: nothing "
                                            "was stored")
            check_whole(feed, digests.md5, digests.checksum)

        try:
            v = await self.svc.engine.put_object(spec.bucket, spec.key, body(), put, verify,
                                                 condition(spec.if_not_exists))
        finally:
            call.bytes_in = feed.received
        return pb.WriteObjectResponse(resource=convert.object_of(v))

    @unary
    async def StartResumableWrite(self, call, request):
        spec = request.write_object_spec
        ctx = await admit(self, call, spec.bucket, spec.key, request)
        await access.authorize(ctx, "PutObject", spec.bucket, spec.key)
        put = PutSpec(owner=ctx.owner, checksum_algorithm="CRC32C", checksum_type="FULL_OBJECT",
                      **spec_fields(spec.content_type, spec.metadata))
        upload = await self.svc.multipart.create_multipart_upload(spec.bucket, spec.key, put)
        return pb.StartResumableWriteResponse(
            upload_id=upload_token(spec.bucket, spec.key, upload.upload_id, spec.if_not_exists))

    @unary
    async def QueryWriteStatus(self, call, request):
        upload, _ = await self._upload(call, request.upload_id, request)
        parts = await self._parts(upload)
        return pb.QueryWriteStatusResponse(persisted_size=sum(p.size for p in parts))

    @unary
    async def CancelResumableWrite(self, call, request):
        upload, _ = await self._upload(call, request.upload_id, request,
                                       "AbortMultipartUpload")
        await self.svc.multipart.abort_multipart_upload(upload)
        return pb.CancelResumableWriteResponse()

    async def _upload(self, call, token: str, message, operation: str = "PutObject"):
        bucket, key, uid, if_not_exists = parse_token(token)
        ctx = await admit(self, call, bucket, key, message)
        await access.authorize(ctx, operation, bucket, key)
        return await self.svc.multipart.get_upload(bucket, key, uid), if_not_exists

    async def _parts(self, upload) -> list:
        parts, after = [], 0
        while batch := await self.svc.multipart.list_parts(upload, after, 1000):
            parts += batch
            after = batch[-1].part_number
        return parts

    async def _resume(self, call, messages, first):
        upload, if_not_exists = await self._upload(call, first.upload_id, None)
        parts = await self._parts(upload)
        feed = Feed(messages, first, sum(p.size for p in parts), float("inf"))
        try:
            while (data := await feed.next_data()) is not None:
                try:
                    parts.append(await self.svc.multipart.upload_part(
                        upload, len(parts) + 1, _part_body(feed, data), "CRC32C"))
                except _Unfinished:
                    break
        finally:
            call.bytes_in = feed.received
        if not feed.finished:
            return pb.WriteObjectResponse(persisted_size=sum(p.size for p in parts))
        if feed.md5 is not None:
            raise errors.InvalidArgument("a resumable write is checked by its CRC32C: "
                                         "object_checksums.md5_hash is for one-stream writes",
                                         ArgumentName="object_checksums.md5_hash")
        if not parts:                   # an empty object is one empty part
            parts.append(await self.svc.multipart.upload_part(upload, 1, _nothing(), "CRC32C"))

        def verify(v):
            check_whole(feed, None, base64.b64decode(v.checksum_value))

        try:
            v = await self.svc.multipart.complete_multipart_upload(
                upload, [(p.part_number, p.etag, {}) for p in parts], verify,
                condition(if_not_exists))
        except errors.BadDigest:
            await self.svc.multipart.abort_multipart_upload(upload)
            raise
        return pb.WriteObjectResponse(resource=convert.object_of(v))


async def _part_body(feed: Feed, data):
    """PART bytes of the stream (fewer at its finish); raises _Unfinished if the stream ends
    without finish_write before the part is whole."""
    size = 0
    while data is not None:
        room = PART - size
        if len(data) > room:
            view = memoryview(data)
            feed.push_back(view[room:])
            data = view[:room]
        size += len(data)
        yield data
        if size == PART:
            return
        data = await feed.next_data()
    if not feed.finished:
        raise _Unfinished()


async def _nothing():
    return
    yield
