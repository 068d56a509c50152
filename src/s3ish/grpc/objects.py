"""Buckets, HeadObject, DeleteObject, ListObjects and CopyObject over gRPC: each names the S3
operation it is (the IAM action, the engine call and the errors follow from it)."""
import base64
import binascii
import json

from ..engine.types import PutSpec
from ..s3 import errors
from ..s3.handlers.bucket import bucket_name_problem
from ..s3.handlers.common import object_spec_fields, write_condition
from ..s3.handlers.object_write import DEFAULT_CHECKSUM
from . import access, convert
from .call import admit, unary
from .v1 import storage_pb2 as pb

MAX_RESULTS = 1000


def spec_fields(content_type: str, metadata) -> dict:
    """A write's content type and user metadata, checked by the S3 front end's rules (so
    whatever is stored here can be sent back as S3 headers)."""
    headers = {f"x-amz-meta-{k.lower()}": v for k, v in metadata.items()}
    if content_type:
        headers["content-type"] = content_type
    return object_spec_fields(headers)


def condition(if_not_exists: bool):
    return write_condition({"if-none-match": "*"} if if_not_exists else {})


def version_arg(value: str) -> str | None:
    return value or None


class ObjectOps:
    @unary
    async def CreateBucket(self, call, request):
        ctx = await admit(self, call, request.bucket, message=request)
        await access.authorize(ctx, "CreateBucket", request.bucket)
        problem = bucket_name_problem(request.bucket)
        if problem:
            raise errors.InvalidBucketName(f"The specified bucket is not valid. {problem}",
                                           BucketName=request.bucket)
        await self.svc.engine.create_bucket(request.bucket, ctx.owner, self.svc.region,
                                            request.object_lock_enabled, {}, None,
                                            self.svc.default_ownership)
        return convert.bucket_of(await self.svc.engine.get_bucket(request.bucket),
                                 self.svc.region)

    @unary
    async def DeleteBucket(self, call, request):
        ctx = await admit(self, call, request.bucket, message=request)
        await access.authorize(ctx, "DeleteBucket", request.bucket)
        await self.svc.engine.delete_bucket(request.bucket, ctx.owner)
        return pb.DeleteBucketResponse()

    @unary
    async def ListBuckets(self, call, request):
        ctx = await admit(self, call, message=request)
        await access.authorize(ctx, "ListBuckets", "")
        buckets = await self.svc.engine.list_buckets(ctx.owner)
        return pb.ListBucketsResponse(buckets=[convert.bucket_of(b, self.svc.region)
                                               for b in buckets])

    @unary
    async def HeadObject(self, call, request):
        ctx = await admit(self, call, request.bucket, request.key, request)
        version = version_arg(request.version_id)
        await access.authorize(ctx, "HeadObject", request.bucket, request.key, version)
        v = await self.svc.engine.head_object(request.bucket, request.key, version)
        return convert.object_of(v)

    @unary
    async def DeleteObject(self, call, request):
        ctx = await admit(self, call, request.bucket, request.key, request)
        version = version_arg(request.version_id)
        await access.authorize(ctx, "DeleteObject", request.bucket, request.key, version)
        out = await self.svc.engine.delete_object(request.bucket, request.key, version,
                                                  ctx.owner)
        return pb.DeleteObjectResponse(version_id=out.version_id or "",
                                       delete_marker=out.delete_marker)

    @unary
    async def ListObjects(self, call, request):
        ctx = await admit(self, call, request.bucket, message=request)
        if not 0 <= request.max_results:
            raise errors.InvalidArgument("max_results must not be negative",
                                         ArgumentName="max_results",
                                         ArgumentValue=str(request.max_results))
        limit = min(request.max_results or MAX_RESULTS, MAX_RESULTS)
        ctx.req.query = {"prefix": request.prefix, "delimiter": request.delimiter,
                         "max-keys": str(limit)}
        operation = "ListObjectVersions" if request.versions else "ListObjectsV2"
        await access.authorize(ctx, operation, request.bucket)
        token = _untoken(request.page_token)
        if request.versions:
            return await self._list_versions(request, limit, token)
        res = await self.svc.engine.list_objects(request.bucket, request.prefix,
                                                 request.delimiter, token[0] if token else "",
                                                 limit)
        return pb.ListObjectsResponse(
            objects=[convert.listed(request.bucket, row) for row in res.contents],
            prefixes=res.common_prefixes,
            next_page_token=_token([res.next_marker]) if res.is_truncated else "")

    async def _list_versions(self, request, limit: int, token):
        key, vid = (token + ["", ""])[:2] if token else ("", "")
        res = await self.svc.engine.list_object_versions(request.bucket, request.prefix,
                                                         request.delimiter, key, vid, limit)
        return pb.ListObjectsResponse(
            objects=[convert.object_of(row.version, is_latest=row.vpos == "")
                     for row in res.versions],
            prefixes=res.common_prefixes,
            next_page_token=_token([res.next_key_marker, res.next_version_id_marker])
            if res.is_truncated else "")

    @unary
    async def CopyObject(self, call, request):
        dst_bucket, dst_key = request.destination_bucket, request.destination_key
        ctx = await admit(self, call, dst_bucket, dst_key, request)
        src_version = version_arg(request.source_version_id)
        if not request.source_bucket or not request.source_key:
            raise errors.InvalidArgument("source_bucket and source_key are required",
                                         ArgumentName="source_key")
        await access.authorize(ctx, "CopyObject", dst_bucket, dst_key)
        await access.authorize_source(ctx, request.source_bucket, request.source_key,
                                      src_version)
        fields = spec_fields(request.content_type, request.metadata)
        same = (request.source_bucket, request.source_key) == (dst_bucket, dst_key)
        if same and not request.replace_metadata and src_version is None:
            raise errors.InvalidRequest("This copy request is illegal because it is trying to "
                                        "copy an object to itself without changing the "
                                        "object's metadata.")

        def plan(src):
            return 0, src.size - 1

        def make_spec(src):
            base = fields if request.replace_metadata else {
                "content_type": src.content_type, "headers": src.headers,
                "user_meta": src.user_meta, "storage_class": src.storage_class}
            keep = src.checksum_algorithm if src.checksum_type == "FULL_OBJECT" else ""
            return PutSpec(owner=ctx.owner, checksum_algorithm=keep or DEFAULT_CHECKSUM,
                           tags=src.tags, **base)

        _, v = await self.svc.engine.copy_object(request.source_bucket, request.source_key,
                                                 plan, dst_bucket, dst_key, make_spec, None,
                                                 src_version)
        return convert.object_of(v)


def _token(parts: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()


def _untoken(token: str) -> list[str] | None:
    if not token:
        return None
    try:
        parts = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError):
        parts = None
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise errors.InvalidArgument("The page token provided is incorrect",
                                     ArgumentName="page_token", ArgumentValue=token)
    return parts

