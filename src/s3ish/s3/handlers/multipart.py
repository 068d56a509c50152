"""Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
AbortMultipartUpload, ListParts."""
from ...engine import sse
from ...engine.multipart import part_algorithm
from ...engine.types import PutSpec
from ...http.asgi import Response
from ...util import checksums
from ...util.clock import from_ts
from ...util.numbers import ascii_int
from .. import errors
from ..xml import codec, shapes
from . import acl
from .common import (CHECKSUM_HEADERS, ChecksumRequest, body_length,
                     checksum_response_headers, content_md5, make_verifier, object_spec_fields,
                     owner_of, quote_etag, read_xml, write_condition, xml)
from .lifecycle import abort_headers, expiration_headers
from .listing import encoder
from .object_lock import check_lock_write
from .sse_headers import customer_key, response_headers as sse_response_headers, write_request
from .tagging import tags_from_header
from .versioning import new_version_header

MAX_PART = 5 * 1024 ** 3
MAX_PARTS = 10000
_FIELDS = {a: f"Checksum{a}" for a in checksums.ALGORITHMS}


def _b64_len(n: int) -> int:
    return 4 * ((n + 2) // 3)


def _max_complete_xml() -> int:
    """The largest legal CompleteMultipartUpload document: 10,000 <Part> elements, each with
    the largest PartNumber (5 digits), an ETag of 32 hex digits quoted as `&quot;` (6 bytes
    each side), and a checksum element of every algorithm (base64 of its digest size), each
    element with room for indentation; plus the XML declaration and the root element with its
    namespace. About 5 MB; a real document (one checksum per part) is about a third of it."""
    part = (codec.element_size("Part") + codec.element_size("PartNumber", len(str(MAX_PARTS)))
            + codec.element_size("ETag", 32 + 2 * len("&quot;"))
            + sum(codec.element_size(f, _b64_len(checksums.DIGEST_SIZES[a]))
                  for a, f in _FIELDS.items()))
    return MAX_PARTS * part + 1024


MAX_COMPLETE_XML = _max_complete_xml()


def checksum_fields(algorithm: str, value: str) -> dict:
    return {_FIELDS[algorithm]: value} if algorithm and value else {}


def _checksum_choice(headers: dict) -> tuple[str, str]:
    algorithm = headers.get("x-amz-checksum-algorithm", "").upper()
    ctype = headers.get("x-amz-checksum-type", "").upper()
    if algorithm and algorithm not in checksums.ALGORITHMS:
        raise errors.InvalidRequest("Checksum algorithm provided is unsupported. Please try "
                                    "again with any of the valid types: [CRC32, CRC32C, "
                                    "CRC64NVME, SHA1, SHA256]")
    if ctype and ctype not in ("COMPOSITE", "FULL_OBJECT"):
        raise errors.InvalidRequest("Value for x-amz-checksum-type header is invalid.")
    if ctype and not algorithm:
        raise errors.InvalidRequest("The x-amz-checksum-type header can only be used with the "
                                    "x-amz-checksum-algorithm header.")
    if not algorithm:
        return "", ""
    ctype = ctype or ("FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE")
    # CRCs combine into a whole-object checksum, SHAs do not; CRC64NVME has no composite
    # form. The message is AWS's.
    if ctype == "FULL_OBJECT" and not checksums.combinable(algorithm) \
            or ctype == "COMPOSITE" and algorithm == "CRC64NVME":
        raise errors.InvalidRequest(f"The {ctype} checksum type cannot be used with the "
                                    f"{algorithm.lower()} checksum algorithm.")
    return algorithm, ctype


async def CreateMultipartUpload(ctx) -> Response:
    algorithm, ctype = _checksum_choice(ctx.req.headers)
    encryption = write_request(ctx.req.headers)
    spec = PutSpec(owner=ctx.owner, checksum_algorithm=algorithm, checksum_type=ctype,
                   tags=tags_from_header(ctx.req.headers), sse=encryption,
                   **object_spec_fields(ctx.req.headers))
    check_lock_write(ctx.bucket_record, spec)
    spec.acl = acl.for_write(ctx, ctx.bucket_record)
    u = await ctx.svc.multipart.create_multipart_upload(ctx.bucket, ctx.key, spec)
    resp = xml(shapes.InitiateMultipartUploadResult(ctx.bucket, ctx.key, u.upload_id))
    resp.headers += abort_headers(ctx, u)
    resp.headers += sse_response_headers(u, encryption and encryption.customer, context=True)
    if algorithm:
        resp.headers += [("x-amz-checksum-algorithm", algorithm),
                         ("x-amz-checksum-type", ctype)]
    return resp


def part_number_arg(q) -> int:
    value = q.get("partNumber", "")
    number = ascii_int(value)
    if number is None or not 1 <= number <= 10000:
        raise errors.InvalidArgument("Part number must be an integer between 1 and 10000, "
                                     "inclusive", ArgumentName="partNumber",
                                     ArgumentValue=value)
    return number


async def upload_of(ctx):
    return await ctx.svc.multipart.get_upload(ctx.bucket, ctx.key, ctx.req.query["uploadId"])


async def UploadPart(ctx) -> Response:
    req = ctx.req
    number = part_number_arg(req.query)
    length = body_length(req)
    if length > MAX_PART:
        raise errors.EntityTooLarge(ProposedSize=str(length), MaxSizeAllowed=str(MAX_PART))
    upload = await upload_of(ctx)
    md5 = content_md5(req.headers)
    ck = ChecksumRequest(req.headers, default=upload.checksum_algorithm)
    # An upload created with an algorithm takes parts that carry that checksum, no other
    # and not none (AWS: "actual checksum Type: null").
    if upload.checksum_algorithm and (not ck.requested
                                      or ck.algorithm != upload.checksum_algorithm):
        actual = ck.algorithm.lower() if ck.requested else "null"
        raise errors.InvalidRequest(f"Checksum Type mismatch occurred, expected checksum Type: "
                                    f"{upload.checksum_algorithm.lower()}, actual checksum "
                                    f"Type: {actual}")
    check_lock_write(ctx.bucket_record, upload, md5, ck, "Put Part")
    customer = customer_key(req.headers)
    part = await ctx.svc.multipart.upload_part(upload, number, req.body, ck.algorithm,
                                               make_verifier(req, md5, ck), customer)
    headers = [("ETag", quote_etag(part.etag))] + sse_response_headers(upload, customer)
    if ck.algorithm:
        headers.append((f"x-amz-checksum-{ck.algorithm.lower()}", part.checksum))
    return Response(200, headers)


async def CompleteMultipartUpload(ctx) -> Response:
    condition = write_condition(ctx.req.headers)
    customer = customer_key(ctx.req.headers)
    upload = await upload_of(ctx)
    # Its x-amz-checksum-* headers are the whole object's checksum, not the document's.
    doc = await read_xml(ctx.req, shapes.CompleteMultipartUpload, limit=MAX_COMPLETE_XML,
                         body_checksums=False)
    wanted = [(p.PartNumber, p.ETag,
               {a: getattr(p, f) for a, f in _FIELDS.items() if getattr(p, f)})
              for p in doc.Part]
    expected, size = _complete_headers(ctx.req.headers, upload)

    def verify(v):
        if expected and expected not in (v.checksum_value, v.checksum_value.split("-")[0]):
            raise errors.BadDigest(f"The {upload.checksum_algorithm} you specified did not "
                                   "match the calculated checksum.")
        if size is not None and size != v.size:
            raise errors.InvalidRequest("The provided 'x-amz-mp-object-size' header value "
                                        f"{size} does not match the object size {v.size}.")
    v = await ctx.svc.multipart.complete_multipart_upload(upload, wanted, verify, condition,
                                                          customer)
    host = ctx.req.headers.get("host", "localhost")
    result = shapes.CompleteMultipartUploadResult(
        Location=f"http://{host}/{ctx.bucket}/{ctx.key}", Bucket=ctx.bucket, Key=ctx.key,
        ETag=quote_etag(v.etag), ChecksumType=v.checksum_type or None,
        **checksum_fields(v.checksum_algorithm, v.checksum_value))
    resp = xml(result)
    resp.headers += checksum_response_headers(v.checksum_algorithm, v.checksum_value,
                                              v.checksum_type)
    resp.headers += new_version_header(v.version_id) + expiration_headers(ctx, v)
    resp.headers += sse_response_headers(v, customer)
    return resp


def _complete_headers(headers: dict, upload) -> tuple[str | None, int | None]:
    """The whole-object checksum and size a CompleteMultipartUpload may assert; each header it
    carries must be one s3ish checks (none is ignored)."""
    for name in headers:
        if name.startswith("x-amz-checksum-") and name not in ("x-amz-checksum-type",
                                                                "x-amz-checksum-algorithm"):
            if name not in CHECKSUM_HEADERS:
                raise errors.NotImplemented(f"The {name} header is not supported yet.",
                                            Header=name)
            if CHECKSUM_HEADERS[name] != upload.checksum_algorithm:
                raise errors.InvalidRequest(
                    f"The upload was created using the "
                    f"{upload.checksum_algorithm.lower() or 'null'} checksum algorithm. The "
                    "complete request must use the same checksum algorithm.")
    ctype = headers.get("x-amz-checksum-type", "").upper()
    if ctype and ctype != upload.checksum_type:
        raise errors.InvalidRequest(f"The upload was created using the "
                                    f"{upload.checksum_type or 'null'} checksum mode. The "
                                    "complete request must use the same checksum mode.")
    size = headers.get("x-amz-mp-object-size")
    if size is not None and not size.isdigit():
        raise errors.InvalidRequest("Value for x-amz-mp-object-size header is invalid.")
    expected = headers.get(f"x-amz-checksum-{upload.checksum_algorithm.lower()}") \
        if upload.checksum_algorithm else None
    return expected, int(size) if size is not None else None


async def AbortMultipartUpload(ctx) -> Response:
    upload = await upload_of(ctx)
    await ctx.svc.multipart.abort_multipart_upload(upload)
    return Response(204)


def list_parts_args(q) -> tuple[int, int]:
    """ListParts' (max-parts, part-number-marker), both integers in 0..2**31-1."""
    try:
        max_parts = min(int(q.get("max-parts", "1000")), 1000)
        marker = int(q.get("part-number-marker", "0"))
    except ValueError:
        raise errors.InvalidArgument("max-parts and part-number-marker must be integers") \
            from None
    if max_parts < 0:
        raise errors.InvalidArgument("Argument max-parts must be an integer between 0 and "
                                     "2147483647", ArgumentName="max-parts")
    if not 0 <= marker <= 2147483647:     # the store's integers end at 2**63: no 500
        raise errors.InvalidArgument("Argument part-number-marker must be an integer between "
                                     "0 and 2147483647", ArgumentName="part-number-marker")
    return max_parts, marker


async def ListParts(ctx) -> Response:
    customer = customer_key(ctx.req.headers)
    upload = await upload_of(ctx)
    sse.check_upload_key(upload, customer, required=False)
    max_parts, marker = list_parts_args(ctx.req.query)
    parts = await ctx.svc.multipart.list_parts(upload, marker, max_parts + 1)
    truncated = len(parts) > max_parts
    parts = parts[:max_parts]
    initiator = owner_of(ctx, upload.owner)
    resp = xml(shapes.ListPartsResult(
        Bucket=ctx.bucket, Key=ctx.key, UploadId=upload.upload_id, PartNumberMarker=marker,
        NextPartNumberMarker=parts[-1].part_number if parts else 0, MaxParts=max_parts,
        IsTruncated=truncated,
        Part=[shapes.PartEntry(p.part_number, from_ts(p.mtime), quote_etag(p.etag), p.size,
                               **checksum_fields(part_algorithm(upload, p.checksum), p.checksum))
              for p in parts],
        Initiator=initiator, Owner=owner_of(ctx, upload.object_owner or upload.owner),
        StorageClass=upload.storage_class,
        ChecksumAlgorithm=upload.checksum_algorithm or None,
        ChecksumType=upload.checksum_type or None))
    resp.headers += abort_headers(ctx, upload)
    return resp


async def ListMultipartUploads(ctx) -> Response:
    q = ctx.req.query
    enc_type, enc = encoder(q)
    try:
        max_uploads = min(int(q.get("max-uploads", "1000")), 1000)
    except ValueError:
        raise errors.InvalidArgument("max-uploads must be an integer",
                                     ArgumentName="max-uploads") from None
    if max_uploads < 0:
        raise errors.InvalidArgument("Argument max-uploads must be an integer between 0 and "
                                     "2147483647", ArgumentName="max-uploads")
    key_marker, id_marker = q.get("key-marker", ""), q.get("upload-id-marker", "")
    res = await ctx.svc.multipart.list_multipart_uploads(
        ctx.bucket, q.get("prefix", ""), q.get("delimiter", ""), key_marker,
        id_marker if key_marker else "", max_uploads)
    entries = []
    for u in res.uploads:
        entries.append(shapes.UploadEntry(enc(u.key), u.upload_id, owner_of(ctx, u.owner),
                                          owner_of(ctx, u.object_owner or u.owner),
                                          u.storage_class, from_ts(u.initiated),
                                          u.checksum_algorithm or None,
                                          u.checksum_type or None))
    return xml(shapes.ListMultipartUploadsResult(
        Bucket=ctx.bucket, KeyMarker=enc(key_marker), UploadIdMarker=id_marker,
        NextKeyMarker=enc(res.next_key_marker), NextUploadIdMarker=res.next_upload_id_marker,
        MaxUploads=max_uploads, IsTruncated=res.is_truncated, Prefix=enc(q.get("prefix", "")),
        Delimiter=enc(q.get("delimiter")) if q.get("delimiter") else None,
        EncodingType=enc_type, Upload=entries,
        CommonPrefixes=[shapes.CommonPrefix(enc(p)) for p in res.common_prefixes]))
