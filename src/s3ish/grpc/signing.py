"""The signature of a gRPC call, as pure functions shared by the server (auth.py) and the
client (client.py). It imports nothing of the server.

A call carries five metadata entries (docs/grpc.md, "Authentication"):

    s3ish-access-key   the access key
    s3ish-date         the time of signing, YYYYMMDDTHHMMSSZ (UTC)
    s3ish-nonce        16+ random characters, new for every call
    s3ish-payload      UNSIGNED-PAYLOAD, or the hex SHA-256 of the request message in
                       protobuf's deterministic serialization (unary requests)
    s3ish-signature    hex HMAC-SHA256 of the string to sign under the signing key

The signing key is derived as SigV4 derives it, with service "grpc":
HMAC(HMAC(HMAC(HMAC("AWS4" + secret, yyyymmdd), region), "grpc"), "aws4_request"). The string
to sign names the method, the resource (bucket and key, each percent-encoded), the time, the
nonce and the payload policy, so a signature is good for one call on one resource only.
Streams of data (WriteObject) are UNSIGNED-PAYLOAD: every chunk carries its CRC32C and the
whole object may carry a CRC32C or MD5 checked before commit.
"""
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote

ALGORITHM = "S3ISH-GRPC-HMAC-SHA256"
SERVICE = "grpc"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
ACCESS_KEY, DATE, NONCE, PAYLOAD, SIGNATURE = (
    "s3ish-access-key", "s3ish-date", "s3ish-nonce", "s3ish-payload", "s3ish-signature")
DATE_FORMAT = "%Y%m%dT%H%M%SZ"


def resource(bucket: str = "", key: str = "") -> str:
    """`bucket/key`, `bucket` or "" (the service), each part percent-encoded (a key may hold
    any character, `/` and newlines included, so the form is unambiguous)."""
    if not bucket:
        return ""
    out = quote(bucket, safe="-_.~")
    return out + "/" + quote(key, safe="-_.~", errors="surrogateescape") if key else out


def payload_hash(message) -> str:
    """The payload policy value of a unary request message."""
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()


def signing_key(secret: str, day: str, region: str) -> bytes:
    k = hmac.digest(("AWS4" + secret).encode(), day.encode(), "sha256")
    for part in (region, SERVICE, "aws4_request"):
        k = hmac.digest(k, part.encode(), "sha256")
    return k


def string_to_sign(method: str, res: str, date: str, nonce: str, payload: str,
                   region: str) -> str:
    scope = f"{date[:8]}/{region}/{SERVICE}/aws4_request"
    return "\n".join([ALGORITHM, date, scope, method, res, nonce, payload])


def signature(secret: str, method: str, res: str, date: str, nonce: str, payload: str,
              region: str) -> str:
    sts = string_to_sign(method, res, date, nonce, payload, region)
    return hmac.new(signing_key(secret, date[:8], region), sts.encode("utf-8", "surrogateescape"),
                    hashlib.sha256).hexdigest()


def sign(access_key: str, secret: str, region: str, method: str, res: str,
         payload: str = UNSIGNED_PAYLOAD, now: float | None = None,
         nonce: str | None = None) -> list[tuple[str, str]]:
    """The metadata of one call (`method` is the full name, `/s3ish.v1.Storage/ReadObject`)."""
    date = time.strftime(DATE_FORMAT, time.gmtime(time.time() if now is None else now))
    nonce = nonce or secrets.token_hex(16)
    sig = signature(secret, method, res, date, nonce, payload, region)
    return [(ACCESS_KEY, access_key), (DATE, date), (NONCE, nonce), (PAYLOAD, payload),
            (SIGNATURE, sig)]
