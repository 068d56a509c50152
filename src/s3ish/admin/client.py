"""The operator's side of /_admin/: requests to a running server signed with AWS SigV4 by the
same functions the server verifies with (the root credentials from S3ISH_ROOT_USER and
S3ISH_ROOT_PASSWORD; the secret never crosses the wire)."""
import json
import os
import time
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit

from ..s3.auth import sigv4


class AdminCallError(Exception):
    """The server answered with an error status; str() is what to show the operator."""


class NoCredentials(Exception):
    """S3ISH_ROOT_USER / S3ISH_ROOT_PASSWORD are not set."""


def call(endpoint: str, region: str, method: str, path: str) -> dict:
    """The JSON answer of `method path` (no request body). Raises NoCredentials,
    AdminCallError (an error status, with the server's answer) or OSError (unreachable)."""
    user, password = os.environ.get("S3ISH_ROOT_USER"), os.environ.get("S3ISH_ROOT_PASSWORD")
    if not (user and password):
        raise NoCredentials("set S3ISH_ROOT_USER and S3ISH_ROOT_PASSWORD")
    url = endpoint.rstrip("/") + path
    req = urllib.request.Request(url, method=method, data=None if method == "GET" else b"",
                                 headers=sign_headers(method, url, user, password, region))
    try:
        with urllib.request.urlopen(req, timeout=3600) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raise AdminCallError(f"{e.code}: {e.read().decode(errors='replace').strip()}") \
            from None


def sign_headers(method: str, url: str, access_key: str, secret_key: str, region: str,
                 when: float | None = None) -> dict[str, str]:
    """The headers that SigV4-sign a request without a body (header auth)."""
    parts = urlsplit(url)
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when))
    headers = {"host": parts.netloc, "x-amz-content-sha256": sigv4.EMPTY_SHA256,
               "x-amz-date": amz_date}
    signed = sorted(headers)
    canonical = sigv4.canonical_request(method, unquote(parts.path) or "/", [], headers,
                                        signed, sigv4.EMPTY_SHA256)
    scope = sigv4.scope(amz_date[:8], region)
    signature = sigv4.sign(sigv4.signing_key(secret_key, amz_date[:8], region),
                           sigv4.string_to_sign(amz_date, scope, canonical))
    headers["authorization"] = (f"{sigv4.ALGORITHM} Credential={access_key}/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={signature}")
    return headers
