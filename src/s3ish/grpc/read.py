"""ReadObject: a stream of chunks of about 2 MiB, each with the CRC32C of its bytes; the
first response also carries the object's metadata, its whole-object checksums and the range
served. The engine's stream is read as it is sent (gRPC's flow control holds the producer
back), so a read holds a chunk or two in memory whatever the object's size.
"""
from awscrt import checksums as crt

from ..s3 import errors
from . import access, convert
from .call import admit, streaming
from .v1 import storage_pb2 as pb

CHUNK = 2 * 1024 * 1024


def read_range(size: int, offset: int, limit: int) -> tuple[int, int]:
    """(start, end exclusive) of a read of `size` bytes from `offset` (< 0: that many
    before the end) for at most `limit` bytes (0: to the end)."""
    if limit < 0:
        raise errors.InvalidArgument("read_limit must not be negative",
                                     ArgumentName="read_limit", ArgumentValue=str(limit))
    start = max(0, size + offset) if offset < 0 else offset
    if start > size:
        raise errors.InvalidRange(f"read_offset {offset} is past the end of the object "
                                  f"({size} bytes)", ActualObjectSize=str(size))
    end = size if limit == 0 else min(size, start + limit)
    return start, end


def chunk(data) -> pb.ChecksummedData:
    return pb.ChecksummedData(content=bytes(data), crc32c=crt.crc32c(data))


async def _rechunk(stream):
    """The engine's blocks regrouped into CHUNK-sized ones (the last may be shorter)."""
    buf = bytearray()
    async for block in stream:
        if not buf and len(block) >= CHUNK:
            yield block
            continue
        buf += block
        while len(buf) >= CHUNK:
            out = bytes(buf[:CHUNK])
            del buf[:CHUNK]
            yield out
    if buf:
        yield bytes(buf)


class ReadOps:
    @streaming
    async def ReadObject(self, call, request):
        ctx = await admit(self, call, request.bucket, request.key, request)
        version = request.version_id or None
        await access.authorize(ctx, "GetObject", request.bucket, request.key, version)
        served = {}

        def plan(v):
            start, end = read_range(v.size, request.read_offset, request.read_limit)
            served["range"] = (start, end)
            return start, end - 1

        v, _, stream = await self.svc.engine.get_object(request.bucket, request.key, plan,
                                                        version)
        start, end = served["range"]
        first = {"metadata": convert.object_of(v),
                 "content_range": pb.ContentRange(start=start, end=end, complete_length=v.size)}
        try:
            async for data in _rechunk(stream):
                call.bytes_out += len(data)
                yield pb.ReadObjectResponse(checksummed_data=chunk(data), **first)
                first = {}
        finally:
            await stream.aclose()
        if first:                       # an empty range: the metadata alone
            yield pb.ReadObjectResponse(**first)
