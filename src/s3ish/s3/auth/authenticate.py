"""Authenticate a request before its body is read, and wrap the body in the verification the
signature calls for (payload SHA-256, aws-chunked signatures, trailers).

Ways in: SigV4 (Authorization header, presigned query), SigV2 (header, query) and, when the
server allows it, the seed design's x-access-key/x-secret-key pair (header_auth.py).
Returns the Identity, or None for an anonymous request.
"""
import datetime as _dt
import hashlib
import re

from ...util.clock import now, parse_amz_date, parse_http_date
from ...util.numbers import ascii_int
from .. import errors
from . import chunked, header_auth, sigv2, sigv4

MAX_SKEW = _dt.timedelta(minutes=15)
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_PRESIGN_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                   "X-Amz-SignedHeaders", "X-Amz-Signature")


def authenticate(req, users, vhost_bucket: str | None = None, region: str | None = None,
                 allow_header_auth: bool = False):
    """`vhost_bucket` is the bucket named by the Host header (SigV2 signs it in the path);
    `region` the one a SigV4 credential scope must name (None: any region);
    `allow_header_auth`: whether x-access-key/x-secret-key headers are a way in (header_auth.py;
    otherwise they are plain headers and the request is anonymous)."""
    auth = req.headers.get("authorization")
    v4_query = "X-Amz-Algorithm" in req.query or "X-Amz-Signature" in req.query
    v2_query = "Signature" in req.query
    simple = allow_header_auth and header_auth.present(req.headers)
    if (auth is not None) + v4_query + v2_query + simple > 1:
        raise errors.InvalidArgument(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
            "Signature query string parameter or the Authorization header should be "
            "specified", ArgumentName="Authorization",
            ArgumentValue=auth if auth is not None else "")
    if auth is not None:
        if auth.startswith("AWS "):
            return _header_v2(req, users, auth, vhost_bucket)
        return _header_v4(req, users, auth, region)
    if v4_query:
        return _presigned_v4(req, users, region)
    if "AWSAccessKeyId" in req.query or "Signature" in req.query:
        return _presigned_v2(req, users, vhost_bucket)
    if simple:
        return _header_simple(req, users)
    return None


def _header_simple(req, users):
    """The secret itself is the proof; nothing signs the body, so it is checked only against
    an x-amz-content-sha256 the client sends (none: unchecked, as UNSIGNED-PAYLOAD)."""
    ident = header_auth.identify(users, *header_auth.from_headers(req.headers))
    _wrap_body(req, req.headers.get("x-amz-content-sha256", sigv4.UNSIGNED), None)
    return ident


def accept_unauthenticated(req, users):
    """`--auth none`: no signature is checked, everyone is the root user; the body is still
    de-framed (aws-chunked) and integrity-checked (payload SHA-256, trailers)."""
    payload = req.headers.get("x-amz-content-sha256", sigv4.UNSIGNED)
    _wrap_body(req, payload, None, verify_signatures=False)
    return users.root


def _check_v2(req, ident, date: str, provided: str, vhost_bucket) -> None:
    for resource in sigv2.canonical_resources(req.raw_path, req.query_items(), vhost_bucket):
        sts = sigv2.string_to_sign(req.method, req.headers, date, resource)
        if sigv4.verify(sigv2.sign(ident.secret_key, sts), provided):
            return
    raise errors.SignatureDoesNotMatch(AWSAccessKeyId=ident.access_key, StringToSign=sts,
                                       SignatureProvided=provided)


def _header_v2(req, users, auth, vhost_bucket):
    access_key, sep, provided = auth[4:].strip().rpartition(":")
    if not sep or not access_key:
        raise errors.InvalidArgument("AWS authorization header is invalid.  Expected "
                                     "AwsAccessKeyId:signature", ArgumentName="Authorization")
    ident = users.get(access_key)
    if ident is None:
        raise errors.InvalidAccessKeyId(AWSAccessKeyId=access_key)
    # With x-amz-date, the Date line of the string to sign is empty (x-amz-date is signed
    # among the x-amz-* headers instead).
    amz_date = req.headers.get("x-amz-date")
    raw_date = amz_date or req.headers.get("date")
    when = parse_http_date(raw_date) if raw_date else None
    if when is None:
        raise errors.AccessDenied("AWS authentication requires a valid Date or x-amz-date "
                                  "header")
    if abs(now() - when) > MAX_SKEW:
        raise errors.RequestTimeTooSkewed(RequestTime=raw_date, ServerTime=now().isoformat(),
                                          MaxAllowedSkewMilliseconds="900000")
    _check_v2(req, ident, "" if amz_date else req.headers.get("date", ""), provided,
              vhost_bucket)
    return ident


def _presigned_v2(req, users, vhost_bucket):
    q = req.query
    if not {"AWSAccessKeyId", "Signature", "Expires"} <= q.keys():
        raise errors.AccessDenied("Query-string authentication requires the Signature, "
                                  "Expires and AWSAccessKeyId parameters")
    ident = users.get(q["AWSAccessKeyId"])
    if ident is None:
        raise errors.InvalidAccessKeyId(AWSAccessKeyId=q["AWSAccessKeyId"])
    try:
        expires = int(q["Expires"])
    except ValueError:
        raise errors.AccessDenied("Invalid date (should be seconds since epoch): "
                                  + q["Expires"]) from None
    if now().timestamp() > expires:
        raise errors.AccessDenied("Request has expired", Expires=q["Expires"],
                                  ServerTime=now().isoformat())
    _check_v2(req, ident, q["Expires"], q["Signature"], vhost_bucket)
    return ident


def authenticate_service(req, users, service: str, body: bytes):
    """A request to another AWS service on this endpoint (IAM's Query API), signed with SigV4
    in the Authorization header: its credential scope names `service` (in any region: IAM is
    global), and its payload hash is the SHA-256 of `body`, read whole beforehand (those SDKs
    send no x-amz-content-sha256). Returns the Identity, or None for an unsigned request."""
    auth = req.headers.get("authorization")
    if auth is None:
        return None
    if auth.startswith("AWS "):
        raise errors.AccessDenied(f"{service} requests must be signed with SigV4")
    return _header_v4(req, users, auth, None, service, hashlib.sha256(body).hexdigest())


def check_scope(region: str, service: str, expected_region: str | None, query: bool,
                expected_service: str = "s3") -> None:
    """The credential scope must name this endpoint's service and region, as S3 requires
    (a signature for another region is refused even when it is valid). The error names the
    region expected, which SDKs use to re-sign."""
    if query:
        bad, lead = errors.AuthorizationQueryParametersError, \
            "Error parsing the X-Amz-Credential parameter;"
    else:
        bad, lead = errors.AuthorizationHeaderMalformed, "The authorization header is malformed;"
    if service != expected_service:
        raise bad(f"{lead} incorrect service \"{service}\". This endpoint belongs to "
                  f"\"{expected_service}\".")
    if expected_region is not None and region != expected_region:
        raise bad(f"{lead} the region '{region}' is wrong; expecting '{expected_region}'",
                  Region=expected_region)


def _lookup(users, credential: str, query: bool, expected_region: str | None,
            expected_service: str = "s3"):
    parsed = sigv4.parse_credential(credential)
    bad = errors.AuthorizationQueryParametersError if query else \
        errors.AuthorizationHeaderMalformed
    if parsed is None:
        raise bad("The authorization header is malformed; the Credential is mal-formed; "
                  "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
    access_key, date, region, service = parsed
    check_scope(region, service, expected_region, query, expected_service)
    ident = users.get(access_key)
    if ident is None:
        raise errors.InvalidAccessKeyId(AWSAccessKeyId=access_key)
    return ident, date, region


def _signed_list(value: str, bad) -> list[str]:
    signed = value.split(";")
    if "host" not in signed or signed != sorted(signed):
        raise bad("The authorization header is malformed; SignedHeaders must include host "
                  "and be sorted.")
    return signed


def _check_signature(req, ident, date, region, amz_date, signed, payload_hash, provided,
                     params, service="s3"):
    canonical = sigv4.canonical_request(req.method, req.path, params, req.headers, signed,
                                        payload_hash)
    scope = sigv4.scope(date, region, service)
    sts = sigv4.string_to_sign(amz_date, scope, canonical)
    key = sigv4.signing_key(ident.secret_key, date, region, service)
    if not sigv4.verify(sigv4.sign(key, sts), provided):
        raise errors.SignatureDoesNotMatch(AWSAccessKeyId=ident.access_key, StringToSign=sts,
                                           SignatureProvided=provided,
                                           CanonicalRequest=canonical)
    return key, scope


def _header_v4(req, users, auth, expected_region, service="s3", body_hash=None):
    """`body_hash`: the payload's SHA-256, for a service whose requests carry no
    x-amz-content-sha256 (the body was read whole and is not wrapped)."""
    parts = sigv4.parse_authorization(auth)
    if parts is None:
        raise errors.AuthorizationHeaderMalformed()
    ident, date, region = _lookup(users, parts["Credential"], False, expected_region, service)
    signed = _signed_list(parts["SignedHeaders"], errors.AuthorizationHeaderMalformed)
    amz_date = req.headers.get("x-amz-date")
    when = parse_amz_date(amz_date) if amz_date else None
    if when is None and "date" in req.headers:
        when = parse_http_date(req.headers["date"])
        amz_date = when.strftime("%Y%m%dT%H%M%SZ") if when else None
    if when is None:
        raise errors.AccessDenied("AWS authentication requires a valid Date or x-amz-date "
                                  "header")
    if abs(now() - when) > MAX_SKEW:
        raise errors.RequestTimeTooSkewed(RequestTime=amz_date, ServerTime=now().isoformat(),
                                          MaxAllowedSkewMilliseconds="900000")
    if date != amz_date[:8]:
        raise errors.AuthorizationHeaderMalformed(
            f"The authorization header is malformed; Invalid credential date \"{date}\". "
            "This date is not the same as X-Amz-Date: \"" + amz_date[:8] + "\".")
    payload = body_hash or req.headers.get("x-amz-content-sha256")
    if payload is None:
        raise errors.InvalidRequest("Missing required header for this request: "
                                    "x-amz-content-sha256")
    params = list(req.query_items())
    key, scope = _check_signature(req, ident, date, region, amz_date, signed, payload,
                                  parts["Signature"], params, service)
    _require_signed_amz_headers(req, signed)
    if body_hash is None:
        _wrap_body(req, payload, chunked.ChunkSigner(key, amz_date, scope,
                                                     parts["Signature"]))
    return ident


def _presigned_v4(req, users, expected_region):
    q = req.query
    missing = [p for p in _PRESIGN_PARAMS if p not in q]
    if missing:
        raise errors.AuthorizationQueryParametersError(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
            "X-Amz-Expires parameters.")
    if q["X-Amz-Algorithm"] != sigv4.ALGORITHM:
        raise errors.AuthorizationQueryParametersError(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
    when = parse_amz_date(q["X-Amz-Date"])
    if when is None:
        raise errors.AuthorizationQueryParametersError(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    try:
        expires = int(q["X-Amz-Expires"])
    except ValueError:
        raise errors.AuthorizationQueryParametersError(
            "X-Amz-Expires should be a number") from None
    if expires < 0:
        raise errors.AuthorizationQueryParametersError(
            "X-Amz-Expires must be non-negative")
    if expires > MAX_PRESIGN_EXPIRES:
        raise errors.AuthorizationQueryParametersError(
            "X-Amz-Expires must be less than a week (in seconds) that is; 604800 seconds")
    ident, date, region = _lookup(users, q["X-Amz-Credential"], True, expected_region)
    signed = _signed_list(q["X-Amz-SignedHeaders"], errors.AuthorizationQueryParametersError)
    current = now()
    if when - current > MAX_SKEW:
        raise errors.AccessDenied("Request is not valid yet")
    if current > when + _dt.timedelta(seconds=expires):
        raise errors.AccessDenied("Request has expired", X_Amz_Expires=str(expires),
                                  Expires=(when + _dt.timedelta(seconds=expires)).isoformat(),
                                  ServerTime=current.isoformat())
    payload = req.headers.get("x-amz-content-sha256", sigv4.UNSIGNED)
    params = [(k, v) for k, v in req.query_items() if k != "X-Amz-Signature"]
    key, scope = _check_signature(req, ident, date, region, q["X-Amz-Date"], signed, payload,
                                  q["X-Amz-Signature"], params)
    _require_signed_amz_headers(req, signed)
    _wrap_body(req, payload, None)
    return ident


# x-amz-* headers that may travel unsigned: the payload hash is checked against the body
# anyway, and SDK user-agent headers change nothing.
_UNSIGNED_OK = frozenset({"x-amz-content-sha256", "x-amz-user-agent"})


def _require_signed_amz_headers(req, signed: list[str]) -> None:
    """Every x-amz-* header must be covered by the signature, as S3 requires: otherwise
    whoever holds a presigned URL could add, say, x-amz-copy-source and turn an upload into a
    copy of any object the signer can read."""
    unsigned = sorted(h for h in req.headers
                      if h.startswith("x-amz-") and h not in _UNSIGNED_OK and h not in signed)
    if unsigned:
        raise errors.AccessDenied("There were headers present in the request which were not "
                                  "signed", HeadersNotSigned=", ".join(unsigned))


def _wrap_body(req, payload: str, signer, verify_signatures: bool = True) -> None:
    """Replace req.body with a stream that verifies what the signature promised."""
    if payload == sigv4.UNSIGNED:
        return
    if payload in (sigv4.STREAMING, sigv4.STREAMING_TRAILER, sigv4.STREAMING_UNSIGNED_TRAILER):
        if signer is None and verify_signatures:
            raise errors.InvalidRequest("Streaming uploads need an Authorization header")
        decoded = ascii_int(req.headers.get("x-amz-decoded-content-length"))
        if decoded is None:
            raise errors.MissingContentLength()
        req.trailers = {}
        req.decoded_length = decoded
        req.body = chunked.decode(req.body, None if payload == sigv4.STREAMING_UNSIGNED_TRAILER
                                  else signer, payload != sigv4.STREAMING, req.trailers,
                                  decoded)
        return
    if not _HEX64.match(payload):
        raise errors.InvalidArgument("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                                     "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 "
                                     "value.", ArgumentName="x-amz-content-sha256",
                                     ArgumentValue=payload)
    req.body = Sha256Body(req.body, payload)


class Sha256Body:
    """A body whose SHA-256 must equal the signed `x-amz-content-sha256`. Consumers feed
    `taps` (in a worker thread, with their own hashing) and call check() at the end."""

    def __init__(self, inner, expected: str):
        self.inner = inner
        self.expected = expected
        self.taps = [hashlib.sha256()]

    def __aiter__(self):
        return self.inner.__aiter__()

    def check(self) -> None:
        if self.taps[0].hexdigest() != self.expected:
            raise errors.XAmzContentSHA256Mismatch(ClientComputedContentSHA256=self.expected,
                                                   S3ComputedContentSHA256=self.taps[0]
                                                   .hexdigest())
