"""Who may use operator endpoints: the root user (HTTP Basic or a signed S3 request)."""
import base64
import hmac

from ..s3.auth.authenticate import authenticate
from ..s3.errors import S3Error


def is_root(req, users, root_configured: bool) -> bool:
    if not root_configured:
        return False
    root = users.root
    auth = req.headers.get("authorization", "")
    scheme, _, cred = auth.partition(" ")
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(cred).decode().partition(":")
        except (ValueError, UnicodeError):
            return False
        return user == root.access_key and hmac.compare_digest(password.encode(),
                                                              root.secret_key.encode())
    if not auth and "X-Amz-Signature" not in req.query:
        return False
    try:
        ident = authenticate(req, users)
    except S3Error:
        return False
    return ident is not None and ident.access_key == root.access_key


def bearer_ok(req, token: str | None) -> bool:
    scheme, _, cred = req.headers.get("authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(
        cred.strip().encode(), token.encode())
