"""Who may use operator endpoints: the root user, by a request signed with AWS SigV4 (header
or presigned query), verified by the S3 front end's own code (signature, credential scope,
clock skew, expiry). HTTP Basic is refused: it sends the root secret itself on every call,
where a signature proves knowledge of it without revealing it."""
import hmac

from ..s3.auth.authenticate import authenticate
from ..s3.auth.sigv4 import ALGORITHM
from ..s3.errors import S3Error

BASIC_REFUSED = ("HTTP Basic authentication is not accepted: it sends the root secret key "
                 "itself. Sign the request with AWS SigV4 as the root user (`s3ish admin` "
                 "does)")


def root_refusal(req, users, root_configured: bool,
                 region: str | None = None) -> tuple[int, str] | None:
    """None if the request is SigV4-signed by the root user; otherwise (HTTP status, why not
    in one line): 401 when no usable signature was sent, 403 when the one sent is wrong."""
    if not root_configured:
        return 403, "no root user is configured (set S3ISH_ROOT_USER and S3ISH_ROOT_PASSWORD)"
    auth = req.headers.get("authorization", "")
    if auth.partition(" ")[0].lower() == "basic":
        return 401, BASIC_REFUSED
    if not (auth.startswith(ALGORITHM + " ") or (not auth and (
            "X-Amz-Algorithm" in req.query or "X-Amz-Signature" in req.query))):
        return 401, "this endpoint needs a request signed with AWS SigV4 by the root user"
    try:
        ident = authenticate(req, users, region=region)
    except S3Error as e:
        return 403, f"{e.code}: {e.message}"
    if ident is None or not ident.is_root:
        return 403, "only the root user may use this endpoint"
    return None


def bearer_ok(req, token: str | None) -> bool:
    scheme, _, cred = req.headers.get("authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(
        cred.strip().encode(), token.encode())
