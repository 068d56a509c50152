"""Server-side encryption headers: which operations take which, what a write asks for
(x-amz-server-side-encryption, -aws-kms-key-id, -context, -bucket-key-enabled), the SSE-C
customer key headers (of the request, and of a copy's source), and the headers responses
carry. The engine does the encryption (engine/sse.py); errors are AWS's.

Where each family is accepted (botocore's S3 model), everywhere else refused with AWS's
400 InvalidArgument "... header is not supported for this operation.", never ignored:
- x-amz-server-side-encryption*: the writes that choose an object's encryption (PutObject,
  CopyObject, CreateMultipartUpload, and PostObject's form fields);
- x-amz-server-side-encryption-customer-*: those writes, and every request that reads or
  adds to an SSE-C object or upload (GET, HEAD, GetObjectAttributes, UploadPart,
  UploadPartCopy, CompleteMultipartUpload, ListParts);
- x-amz-copy-source-server-side-encryption-customer-*: CopyObject and UploadPartCopy.
Customer keys travel only over TLS: over plain HTTP such a request is refused as AWS does
(unless the server runs with --allow-insecure-sse-c, for local tests).
"""
import base64
import binascii
import hashlib
import hmac
import json

from ...engine import sse
from .. import errors

SSE = "x-amz-server-side-encryption"
KMS_KEY_ID = SSE + "-aws-kms-key-id"
CONTEXT = SSE + "-context"
BUCKET_KEY = SSE + "-bucket-key-enabled"
CUSTOMER = SSE + "-customer-"
COPY_CUSTOMER = "x-amz-copy-source-server-side-encryption-customer-"
_CUSTOMER_FIELDS = ("algorithm", "key", "key-md5")

CHOOSING = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload", "PostObject"})
CUSTOMER_OPS = CHOOSING | {"GetObject", "HeadObject", "GetObjectAttributes", "UploadPart",
                           "UploadPartCopy", "CompleteMultipartUpload", "ListParts"}
COPY_OPS = frozenset({"CopyObject", "UploadPartCopy"})
_KNOWN = {SSE: CHOOSING, KMS_KEY_ID: CHOOSING, CONTEXT: CHOOSING, BUCKET_KEY: CHOOSING,
          **{CUSTOMER + f: CUSTOMER_OPS for f in _CUSTOMER_FIELDS},
          **{COPY_CUSTOMER + f: COPY_OPS for f in _CUSTOMER_FIELDS}}
_PREFIXES = (SSE, "x-amz-copy-source-server-side-encryption")

INSECURE = ("Requests specifying Server Side Encryption with Customer provided keys must be "
            "made over a secure connection.")


def check_request(ctx, operation: str, headers: dict | None = None) -> None:
    """Every request (and PostObject's form fields, as `headers`): encryption headers only
    where the operation takes them; customer keys only over TLS."""
    headers = ctx.req.headers if headers is None else headers
    customer = False
    for name in headers:
        if not name.startswith(_PREFIXES):
            continue
        if operation not in _KNOWN.get(name, ()):
            raise errors.InvalidArgument(f"{name} header is not supported for this "
                                         "operation.", ArgumentName=name,
                                         ArgumentValue=headers[name])
        customer = customer or name.startswith((CUSTOMER, COPY_CUSTOMER))
    if customer:
        require_secure(ctx)


def require_secure(ctx) -> None:
    if ctx.req.scope.get("scheme") != "https" and not ctx.svc.allow_insecure_sse_c:
        raise errors.InvalidRequest(INSECURE)


def customer_key(headers: dict, prefix: str = CUSTOMER) -> sse.CustomerKey | None:
    """The SSE-C key headers with `prefix` (the request's, or a copy source's), checked as
    AWS does; None when none is there."""
    algorithm = headers.get(prefix + "algorithm")
    key = headers.get(prefix + "key")
    md5 = headers.get(prefix + "key-md5")
    if algorithm is None and key is None and md5 is None:
        return None
    if algorithm != "AES256":
        raise _invalid("Requests specifying Server Side Encryption with Customer provided keys "
                       "must provide a valid encryption algorithm.", prefix + "algorithm",
                       algorithm)
    if key is None:
        raise _invalid("Requests specifying Server Side Encryption with Customer provided keys "
                       "must provide an appropriate secret key.", prefix + "key")
    if md5 is None:
        raise _invalid("Requests specifying Server Side Encryption with Customer provided keys "
                       "must provide the client calculated MD5 of the secret key.",
                       prefix + "key-MD5")
    raw = _b64(key)
    if raw is None or len(raw) != 32:
        raise _invalid("The secret key was invalid for the specified algorithm.",
                       prefix + "key")
    given = _b64(md5)
    if given is None or not hmac.compare_digest(given, hashlib.md5(raw).digest()):
        raise _invalid("The calculated MD5 hash of the key did not match the hash that was "
                       "provided.", prefix + "key-MD5")
    return sse.CustomerKey(raw, md5)


def write_request(headers: dict) -> sse.Encryption | None:
    """What a write's headers (or PostObject's form fields) ask for; None: nothing said (the
    bucket's default encryption applies)."""
    customer = customer_key(headers)
    mode = headers.get(SSE)
    key_id = headers.get(KMS_KEY_ID)
    context = headers.get(CONTEXT)
    bucket_key = headers.get(BUCKET_KEY)
    if mode is not None and mode not in (sse.SSE_S3, sse.SSE_KMS):
        raise _invalid("The encryption method specified is not supported", SSE, mode)
    if customer is not None and mode is not None:
        raise _invalid("Server Side Encryption with Customer provided key is incompatible "
                       "with the encryption method specified", SSE, mode)
    if (key_id is not None or context is not None) and mode != sse.SSE_KMS:
        raise _invalid("Server Side Encryption with AWS KMS managed key requires HTTP header "
                       "x-amz-server-side-encryption : aws:kms", SSE, mode or "null")
    if context is not None:
        _check_context(context)
    said = None
    if bucket_key is not None:
        if bucket_key.lower() not in ("true", "false"):
            raise _invalid(f"Invalid value for header {BUCKET_KEY}: {bucket_key}",
                           BUCKET_KEY, bucket_key)
        said = bucket_key.lower() == "true"
    if customer is None and mode is None and said is None:
        return None
    return sse.Encryption(mode or "", key_id or "", context or "", said, customer)


def _check_context(value: str) -> None:
    """An encryption context: base64 of a JSON object whose values are strings."""
    raw = _b64(value)
    try:
        doc = json.loads(raw.decode("utf-8")) if raw is not None else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        doc = None
    if not isinstance(doc, dict) or not all(isinstance(v, str) for v in doc.values()):
        raise _invalid("The header 'x-amz-server-side-encryption-context' shall be "
                       "Base64-encoded UTF-8 string holding JSON which represents a "
                       "string-string map", CONTEXT)


def response_headers(record, customer: sse.CustomerKey | None = None,
                     context: bool = False) -> list[tuple[str, str]]:
    """What a response about a version or an upload says of its encryption. `customer`: the
    request's SSE-C key (its MD5 is echoed). `context`: include the SSE-KMS encryption
    context (the writes that take one answer with it)."""
    mode = record.sse
    if mode == sse.SSE_C:
        out = [(CUSTOMER + "algorithm", "AES256")]
        if customer is not None:
            out.append((CUSTOMER + "key-MD5", customer.md5))
        return out
    if not mode:
        return []
    out = [(SSE, mode)]
    if mode == sse.SSE_KMS:
        out.append((KMS_KEY_ID, sse.key_arn(record.sse_kms_key_id)))
        if context and record.sse_context:
            out.append((CONTEXT, record.sse_context))
    if record.sse_bucket_key:
        out.append((BUCKET_KEY, "true"))
    return out


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _invalid(message: str, name: str, value: str | None = None) -> errors.S3Error:
    return errors.InvalidArgument(message, ArgumentName=name,
                                  **({"ArgumentValue": value} if value is not None else {}))
