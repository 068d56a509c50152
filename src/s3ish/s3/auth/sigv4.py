"""AWS Signature Version 4 as pure functions (no I/O, no HTTP objects).

S3 flavour: the canonical URI is the path URI-encoded once (no dot-segment normalisation), and
the payload hash is whatever `x-amz-content-sha256` says.
"""
import functools
import hashlib
import hmac
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


def uri_encode(s: str, encode_slash: bool = True) -> str:
    return quote(s, safe="-_.~" if encode_slash else "-_.~/", errors="surrogateescape")


def canonical_query(params: list[tuple[str, str]]) -> str:
    pairs = sorted((uri_encode(k), uri_encode(v)) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in pairs)


def _trim(value: str) -> str:
    return " ".join(value.split())


def canonical_headers(headers: dict[str, str], signed: list[str]) -> str:
    return "".join(f"{name}:{_trim(headers.get(name, ''))}\n" for name in signed)


def canonical_request(method: str, path: str, params: list[tuple[str, str]],
                      headers: dict[str, str], signed: list[str], payload_hash: str) -> str:
    """`path` is the decoded path; `headers` have lower-case names."""
    return "\n".join([method, uri_encode(path, encode_slash=False) or "/",
                      canonical_query(params), canonical_headers(headers, signed),
                      ";".join(signed), payload_hash])


def scope(date: str, region: str, service: str = "s3") -> str:
    return f"{date}/{region}/{service}/aws4_request"


def string_to_sign(amz_date: str, scope_: str, canonical: str) -> str:
    return "\n".join([ALGORITHM, amz_date, scope_,
                      hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()])


@functools.lru_cache(maxsize=1024)
def signing_key(secret: str, date: str, region: str, service: str = "s3") -> bytes:
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def sign(key: bytes, sts: str) -> str:
    return hmac.new(key, sts.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()


def chunk_string_to_sign(amz_date: str, scope_: str, previous: str, chunk_sha256: str) -> str:
    return "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope_, previous, EMPTY_SHA256,
                      chunk_sha256])


def trailer_string_to_sign(amz_date: str, scope_: str, previous: str,
                           trailer_sha256: str) -> str:
    return "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope_, previous, trailer_sha256])


def parse_authorization(value: str) -> dict[str, str] | None:
    """Split `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`."""
    if not value.startswith(ALGORITHM + " "):
        return None
    out = {}
    for item in value[len(ALGORITHM) + 1:].split(","):
        name, sep, val = item.strip().partition("=")
        if not sep:
            return None
        out[name] = val
    if not {"Credential", "SignedHeaders", "Signature"} <= out.keys():
        return None
    return out


def parse_credential(value: str) -> tuple[str, str, str, str] | None:
    """`AK/20130524/us-east-1/s3/aws4_request` -> (access key, date, region, service)."""
    parts = value.split("/")
    if len(parts) < 5 or parts[-1] != "aws4_request":
        return None
    return "/".join(parts[:-4]), parts[-4], parts[-3], parts[-2]


def verify(expected: str, provided: str) -> bool:
    return hmac.compare_digest(expected.encode(), provided.encode())
