"""A small AWS Signature Version 4 signer for s3ish's own S3 clients (S3 flavour, header auth):
the benchmark (`s3ish bench`) and the cold tier's remote client (`tier.remote`).

Per request it does one SHA-256 of the canonical request and one HMAC; the signing key and the
credential scope are derived once per (UTC day, region) and reused, and the `x-amz-date` string
is cached for the current second. Bodies are sent as `UNSIGNED-PAYLOAD` by default so the client
never hashes them (the caller may pass any other payload hash, e.g. a small body's SHA-256).

Paths are taken already URI-encoded (`encode_path`), as S3 signs the path as sent, without
normalisation or double encoding.
"""
import hashlib
import hmac
import time
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def encode_path(path: str) -> str:
    """URI-encode a decoded path ('/bucket/key') once, keeping '/' (S3 canonical URI rules)."""
    return quote(path, safe="/-_.~") or "/"


def encode_query(params) -> str:
    """Canonical query string from (name, value) pairs or a dict: encoded, sorted by name."""
    items = params.items() if isinstance(params, dict) else params
    pairs = sorted((quote(str(k), safe="-_.~"), quote(str(v), safe="-_.~")) for k, v in items)
    return "&".join(f"{k}={v}" for k, v in pairs)


def derive_key(secret: str, date: str, region: str, service: str = "s3") -> bytes:
    k = hmac.digest(("AWS4" + secret).encode(), date.encode(), "sha256")
    for part in (region, service, "aws4_request"):
        k = hmac.digest(k, part.encode(), "sha256")
    return k


class Signer:
    """Signs requests for one endpoint host with one key pair and region."""

    def __init__(self, access_key: str, secret_key: str, region: str, host: str,
                 service: str = "s3", clock=time.time):
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.host = host
        self.service = service
        self.clock = clock
        self._second = -1
        self._amz_date = ""
        self._day = ""
        self._key = b""
        self._scope = ""
        self._cred_prefix = ""

    def _refresh(self, now: float) -> None:
        second = int(now)
        if second == self._second:
            return
        self._second = second
        self._amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
        day = self._amz_date[:8]
        if day != self._day:
            self._day = day
            self._key = derive_key(self.secret_key, day, self.region, self.service)
            self._scope = f"{day}/{self.region}/{self.service}/aws4_request"
            self._cred_prefix = f"{ALGORITHM} Credential={self.access_key}/{self._scope}, "

    def sign(self, method: str, path: str, query: str = "",
             payload_hash: str = UNSIGNED_PAYLOAD, extra=(), now: float | None = None):
        """Return (amz_date, authorization) for a request.

        `path` and `query` are already canonical (see `encode_path`, `encode_query`); `extra`
        holds further (lower-case name, trimmed value) headers to sign, e.g. content-md5.
        """
        self._refresh(self.clock() if now is None else now)
        amz_date = self._amz_date
        if extra:
            headers = sorted((("host", self.host), ("x-amz-content-sha256", payload_hash),
                              ("x-amz-date", amz_date), *extra))
            canonical_headers = "".join(f"{k}:{v}\n" for k, v in headers)
            signed = ";".join(k for k, _ in headers)
        else:  # the common case, without sorting
            canonical_headers = (f"host:{self.host}\nx-amz-content-sha256:{payload_hash}\n"
                                 f"x-amz-date:{amz_date}\n")
            signed = "host;x-amz-content-sha256;x-amz-date"
        canonical = f"{method}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{payload_hash}"
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        sts = f"{ALGORITHM}\n{amz_date}\n{self._scope}\n{digest}"
        signature = hmac.digest(self._key, sts.encode(), "sha256").hex()
        return amz_date, (f"{self._cred_prefix}SignedHeaders={signed}, "
                          f"Signature={signature}")
