"""Helpers shared by handlers: XML responses, object headers in and out, checksum headers."""
import base64
import binascii
import hashlib

from ...http.asgi import Response
from ...meta.records import Condition
from ...util import checksums
from ...util.clock import from_ts, http_date
from ...util.numbers import ascii_int
from .. import errors
from ..xml import codec, shapes
from .header_rules import check_name, check_value
from .lock_headers import lock_fields, lock_response_headers

MAX_USER_META = 2048
STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding",
                  "content-language", "expires")
STORAGE_CLASSES = {"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                   "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR",
                   "SNOW", "EXPRESS_ONEZONE"}
UNSUPPORTED_HEADERS = ("x-amz-object-lock-event-hold",
                       "x-amz-object-lock-event-hold-duration-days",
                       "x-amz-object-lock-event-hold-duration-years",
                       "x-amz-website-redirect-location")
# Headers that change what one operation does and that s3ish cannot honour yet: refused, so
# that, say, a conditional delete never deletes unconditionally.
UNSUPPORTED_BY_OPERATION = {
    "AbortMultipartUpload": ("x-amz-if-match-initiated-time",),
    "PutObject": ("x-amz-write-offset-bytes",),
    "CopyObject": ("x-amz-object-annotation-directive",),
}
# x-amz-checksum-* headers that are not a checksum value.
_CHECKSUM_SETTINGS = ("x-amz-checksum-algorithm", "x-amz-checksum-type", "x-amz-checksum-mode")
CHECKSUM_HEADERS = {f"x-amz-checksum-{a.lower()}": a for a in checksums.ALGORITHMS}


def xml(obj, status: int = 200, root: str | None = None) -> Response:
    return Response(status, [("Content-Type", "application/xml")], codec.encode(obj, root))


def quote_etag(etag: str) -> str:
    return f'"{etag}"'


def owner_of(ctx, owner_id: str) -> shapes.Owner:
    ident = ctx.svc.users.by_owner(owner_id)
    return shapes.Owner(owner_id, ident.display_name if ident else None)


def object_owner_of(ctx, owner_id: str) -> shapes.Owner:
    """A listed object's owner: under BucketOwnerEnforced the bucket owner, whoever wrote
    it (objects written before the bucket switched to it too)."""
    b = ctx.bucket_record
    if b is not None and b.ownership == "BucketOwnerEnforced":
        owner_id = b.owner
    return owner_of(ctx, owner_id)


def refuse_unsupported_request(operation: str, headers) -> None:
    """Every request: the operation's unsupported headers are refused (encryption headers
    are checked by sse_headers.check_request)."""
    for name in UNSUPPORTED_BY_OPERATION.get(operation, ()):
        if name in headers:
            raise errors.NotImplemented(f"The {name} header is not supported yet.",
                                        Header=name)


def refuse_unsupported(headers: dict) -> None:
    """Headers whose feature is not built yet are refused, never silently ignored."""
    refuse_unsupported_request("", headers)
    for name in UNSUPPORTED_HEADERS:
        if name in headers:
            raise errors.NotImplemented(f"The {name} header is not supported yet.",
                                        Header=name)


def object_spec_fields(headers: dict) -> dict:
    """Content type, stored standard headers, user metadata, storage class and object lock
    (retention, legal hold) of a write."""
    refuse_unsupported(headers)
    stored = {}
    for name in STORED_HEADERS:
        if name in headers:
            stored[name] = headers[name]
    if "content-encoding" in stored:
        # aws-chunked is transfer framing, not a property of the object.
        codings = [c.strip() for c in stored["content-encoding"].split(",")
                   if c.strip() and c.strip().lower() != "aws-chunked"]
        if codings:
            stored["content-encoding"] = ",".join(codings)
        else:
            del stored["content-encoding"]
    meta = {k[len("x-amz-meta-"):]: v for k, v in headers.items()
            if k.startswith("x-amz-meta-")}
    # Each is sent back on every GET/HEAD: refused now if it could not be (PostObject fields
    # and PutObject headers alike).
    ctype = [("content-type", headers["content-type"])] if "content-type" in headers else []
    for name, value in [*stored.items(), *ctype,
                        *((f"x-amz-meta-{k}", v) for k, v in meta.items())]:
        check_name(name)
        check_value(name, value)
    if sum(len(k) + len(v) for k, v in meta.items()) > MAX_USER_META:
        raise errors.MetadataTooLarge(Size=str(sum(len(k) + len(v) for k, v in meta.items())),
                                      MaxSizeAllowed=str(MAX_USER_META))
    storage_class = headers.get("x-amz-storage-class", "STANDARD")
    if storage_class not in STORAGE_CLASSES:
        raise errors.InvalidStorageClass(StorageClassRequested=storage_class)
    return {"content_type": headers.get("content-type") or "binary/octet-stream",
            "headers": stored, "user_meta": meta, "storage_class": storage_class,
            **lock_fields(headers)}


def object_headers(v) -> list[tuple[str, str]]:
    """Headers describing a stored object version (GET/HEAD)."""
    h = [("ETag", quote_etag(v.etag)),
         ("Last-Modified", http_date(from_ts(v.mtime))),
         ("Content-Type", v.content_type),
         ("Accept-Ranges", "bytes")]
    for name, value in v.headers.items():
        h.append((name.title() if name != "expires" else "Expires", value))
    for name, value in v.user_meta.items():
        h.append((f"x-amz-meta-{name}", value))
    if v.storage_class != "STANDARD":
        h.append(("x-amz-storage-class", v.storage_class))
    return h + lock_response_headers(v)


def write_condition(headers: dict):
    """If-None-Match: * / If-Match: ETAG on a write, as a Condition the store checks
    atomically with the commit (None when the write is unconditional)."""
    if_none = headers.get("if-none-match")
    if_match = headers.get("if-match")
    if if_none is None and if_match is None:
        return None
    if if_none is not None and if_none.strip() != "*":
        raise errors.NotImplemented("If-None-Match on writes supports only *.",
                                    Header="If-None-Match")
    return Condition(if_match=if_match.strip().strip('"') if if_match is not None else None,
                     if_none_match=if_none is not None)


def content_md5(headers: dict) -> bytes | None:
    value = headers.get("content-md5")
    if value is None:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise errors.InvalidDigest(Content_MD5=value) from None
    if len(raw) != 16:
        raise errors.InvalidDigest(Content_MD5=value)
    return raw


class ChecksumRequest:
    """Which additional checksum a write carries: algorithm, and the expected value from a
    header now or from a trailer after the body."""

    def __init__(self, headers: dict, default: str = "", form: bool = False):
        """`form`: the fields of a browser POST, where an algorithm alone asks s3ish to
        compute that checksum (a request's x-amz-sdk-checksum-algorithm only names the
        checksum it carries)."""
        for name in headers:
            if name.startswith("x-amz-checksum-") and name not in CHECKSUM_HEADERS \
                    and name not in _CHECKSUM_SETTINGS:
                # A checksum s3ish cannot compute would otherwise be silently unchecked.
                raise errors.NotImplemented(f"The {name} header is not supported yet.",
                                            Header=name)
        found = [(h, a) for h, a in CHECKSUM_HEADERS.items() if h in headers]
        if len(found) > 1:
            raise errors.InvalidRequest("Expecting a single x-amz-checksum- header. Multiple "
                                        "checksum Types are not allowed.")
        self.trailer = None
        self.expected = None
        self.algorithm = ""
        trailer = headers.get("x-amz-trailer", "").strip().lower()
        if trailer:
            if trailer not in CHECKSUM_HEADERS:
                raise errors.InvalidRequest(f"The value specified in the x-amz-trailer header "
                                            f"is not supported: {trailer}")
            self.trailer = trailer
            self.algorithm = CHECKSUM_HEADERS[trailer]
        if found:
            name, self.algorithm = found[0]
            self.expected = headers[name]
            if not checksums.valid_b64_digest(self.algorithm, self.expected):
                raise errors.InvalidRequest(f"Value for {name} header is invalid.")
        sdk = headers.get("x-amz-sdk-checksum-algorithm", "").upper()
        if sdk:
            if sdk not in checksums.ALGORITHMS:
                raise errors.InvalidRequest("Checksum algorithm provided is unsupported. Please "
                                            "try again with any of the valid types: [CRC32, "
                                            "CRC32C, CRC64NVME, SHA1, SHA256]")
            if not self.algorithm and not form:
                raise errors.InvalidRequest("x-amz-sdk-checksum-algorithm specified, but no "
                                            "corresponding x-amz-checksum-* or x-amz-trailer "
                                            "headers were found.")
            if self.algorithm and sdk != self.algorithm:
                raise errors.InvalidRequest("Value for x-amz-sdk-checksum-algorithm header is "
                                            "invalid.")
            self.algorithm = sdk
        self.requested = bool(self.algorithm)
        self.algorithm = self.algorithm or default

    def expected_value(self, trailers: dict | None) -> str | None:
        if self.trailer is None:
            return self.expected
        value = (trailers or {}).get(self.trailer)
        if value is None:
            raise errors.MalformedTrailerError(f"Missing trailer {self.trailer}")
        if not checksums.valid_b64_digest(self.algorithm, value):
            raise errors.InvalidRequest(f"Value for {self.trailer} trailing header is invalid.")
        return value


def make_verifier(req, md5: bytes | None, ck: ChecksumRequest):
    """The check the engine runs after the last byte of a body and before commit."""
    def verify(d):
        check = getattr(req.body, "check", None)
        if check is not None:
            check()
        if md5 is not None and d.md5 != md5:
            raise errors.BadDigest(ExpectedDigest=md5.hex(), CalculatedDigest=d.md5.hex())
        expected = ck.expected_value(req.trailers)
        if expected is not None and checksums.b64(d.checksum) != expected:
            raise errors.BadDigest(f"The {ck.algorithm} you specified did not match the "
                                   "calculated checksum.")
    return verify


def checksum_response_headers(algorithm: str, value: str, ctype: str) -> list[tuple[str, str]]:
    if not algorithm or not value:
        return []
    return [(f"x-amz-checksum-{algorithm.lower()}", value), ("x-amz-checksum-type", ctype)]


def read_checksum_headers(headers: dict, v, part_number: int | None,
                          ranged: bool) -> list[tuple[str, str]]:
    """The checksum a GET/HEAD reports with x-amz-checksum-mode: ENABLED, as AWS does: the
    object's for a whole read, none for a range; for a partNumber read the part's own
    checksum if the object's is COMPOSITE, the object's when that part is the whole object,
    else none (a FULL_OBJECT checksum says nothing of one part)."""
    if headers.get("x-amz-checksum-mode", "").upper() != "ENABLED":
        return []
    if part_number is None:
        return [] if ranged else checksum_response_headers(
            v.checksum_algorithm, v.checksum_value, v.checksum_type)
    if not v.is_multipart or len(v.parts) == 1 and v.checksum_type == "FULL_OBJECT":
        return checksum_response_headers(v.checksum_algorithm, v.checksum_value,
                                         v.checksum_type)
    if v.checksum_type == "COMPOSITE" and part_number <= len(v.parts):
        return checksum_response_headers(v.checksum_algorithm,
                                         v.parts[part_number - 1].checksum, "COMPOSITE")
    return []


def verify_small_body(req, body: bytes, required: bool = False,
                      checksums_: bool = True) -> None:
    """Check Content-MD5 / x-amz-checksum-* (unless they describe something else) of a small
    request document."""
    md5 = content_md5(req.headers)
    ck = ChecksumRequest(req.headers if checksums_ else {})
    if required and md5 is None and ck.expected is None and ck.trailer is None:
        raise errors.InvalidRequest("Missing required header for this request: Content-MD5")
    if md5 is not None and hashlib.md5(body).digest() != md5:
        raise errors.BadDigest()
    expected = ck.expected_value(req.trailers)
    if expected is not None:
        h = checksums.new(ck.algorithm)
        h.update(body)
        if checksums.b64(h.digest()) != expected:
            raise errors.BadDigest(f"The {ck.algorithm} you specified did not match the "
                                   "calculated checksum.")


async def read_xml(req, cls, limit: int = codec.MAX_XML, required_digest: bool = False,
                   body_checksums: bool = True):
    """Read and decode a request document of at most `limit` bytes (the same cap for both)."""
    body = await req.read_all(limit)
    if body is None:
        raise errors.MaxMessageLengthExceeded()
    verify_small_body(req, body, required_digest, body_checksums)
    try:
        return codec.decode(body, cls, max_size=limit)
    except codec.XMLDecodeError:
        raise errors.MalformedXML() from None


def body_length(req) -> int:
    """The payload length a write declares; S3 refuses writes that do not declare one."""
    if req.decoded_length is not None:
        return req.decoded_length
    value = ascii_int(req.headers.get("content-length"))
    if value is None:
        raise errors.MissingContentLength()
    return value
