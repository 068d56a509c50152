"""The s3ish seed design's simple header auth, for curl: `x-access-key` names a user's access
key and `x-secret-key` carries its secret key itself.

Off unless the server runs with `--allow-header-auth`; cli.py refuses that flag on a listener
other than loopback without TLS, because the secret travels in clear in every request. When
it is off, these headers mean nothing and the request is anonymous. The identity found here
goes through the same authorize step as a SigV4 signer's. Never log the secret header.
"""
import hmac

from .. import errors

ACCESS_HEADER = "x-access-key"
SECRET_HEADER = "x-secret-key"


def present(headers) -> bool:
    """Whether the request tries header auth (one of the two headers is enough to try)."""
    return ACCESS_HEADER in headers or SECRET_HEADER in headers


def identify(users, access_key: str, secret: str):
    """The Identity owning `access_key` if `secret` is its secret key (compared in constant
    time). Errors as S3 gives for a signature: unknown key -> InvalidAccessKeyId, wrong
    secret -> SignatureDoesNotMatch."""
    ident = users.get(access_key)
    if ident is None:
        raise errors.InvalidAccessKeyId(AWSAccessKeyId=access_key)
    expected = ident.secret_key.encode("utf-8", "surrogatepass")
    given = secret.encode("utf-8", "surrogatepass")
    # An identity without a secret (a stand-in) can never be proven by an empty header.
    if not expected or not hmac.compare_digest(given, expected):
        raise errors.SignatureDoesNotMatch(
            "The secret key provided in x-secret-key does not match the access key's secret "
            "key.", AWSAccessKeyId=access_key)
    return ident


def from_headers(headers):
    """(access key, secret) of a request that carries header auth; a half pair is refused."""
    access_key, secret = headers.get(ACCESS_HEADER), headers.get(SECRET_HEADER)
    for name, value in ((ACCESS_HEADER, access_key), (SECRET_HEADER, secret)):
        if not value:
            raise errors.InvalidArgument(
                f"Header authentication needs both {ACCESS_HEADER} and {SECRET_HEADER}",
                ArgumentName=name, ArgumentValue="")
    return access_key, secret
