"""Where the cold tier lives and how to talk to it: `TierConfig`.

The endpoint is any S3 service (`http://` or `https://`, an optional path below which buckets
are addressed); the bucket and an optional key prefix hold everything s3ish ships. Credentials
come from the environment (`S3ISH_TIER_ACCESS_KEY`, `S3ISH_TIER_SECRET_KEY`) so they never appear
on a command line; `from_env` reads them. The secret is kept out of `repr`.
"""
import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

ACCESS_KEY_ENV = "S3ISH_TIER_ACCESS_KEY"
SECRET_KEY_ENV = "S3ISH_TIER_SECRET_KEY"


class TierConfigError(ValueError):
    """The cold tier's settings cannot work (bad URL, no bucket, no credentials)."""


@dataclass(frozen=True)
class TierConfig:
    endpoint: str                        # http(s)://host[:port][/path]
    bucket: str
    access_key: str
    secret_key: str = field(repr=False)
    prefix: str = ""                     # keys live under it ("" or ending in "/")
    region: str = "us-east-1"
    path_style: bool = True              # /bucket/key; False: bucket.host/key
    verify_tls: bool = True
    ca_file: str | None = None           # PEM CAs to trust instead of the system's
    connect_timeout: float = 10.0        # seconds to open a connection
    idle_timeout: float = 30.0           # a request in flight may make no progress this long
    op_timeout: float = 60.0             # bound on a whole non-streamed operation
    pool_size: int = 8                   # connections in use at once
    list_page_size: int = 1000           # ListObjectsV2 max-keys
    trailing_checksum: bool = True       # streamed PUTs carry a CRC32C trailer (aws-chunked)

    def __post_init__(self):
        url = urlsplit(self.endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise TierConfigError(f"tier endpoint must be an http:// or https:// URL, "
                                  f"not {self.endpoint!r}")
        if not self.bucket or "/" in self.bucket:
            raise TierConfigError(f"bad tier bucket name {self.bucket!r}")
        if not self.access_key or not self.secret_key:
            raise TierConfigError(f"the cold tier needs credentials: set {ACCESS_KEY_ENV} "
                                  f"and {SECRET_KEY_ENV}")
        prefix = self.prefix.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"  # "p" and "p/" name the same folder; "p" never matches "p2/..."
        object.__setattr__(self, "prefix", prefix)
        for name in ("connect_timeout", "idle_timeout", "op_timeout"):
            if getattr(self, name) <= 0:
                raise TierConfigError(f"{name} must be positive")
        if not 1 <= self.list_page_size <= 1000:
            raise TierConfigError("list_page_size must be between 1 and 1000")
        if self.pool_size < 1:
            raise TierConfigError("pool_size must be at least 1")

    @classmethod
    def from_env(cls, endpoint: str, bucket: str, prefix: str = "", region: str = "us-east-1",
                 environ=None, **options) -> "TierConfig":
        """A config whose credentials come from S3ISH_TIER_ACCESS_KEY / S3ISH_TIER_SECRET_KEY."""
        env = os.environ if environ is None else environ
        return cls(endpoint=endpoint, bucket=bucket, prefix=prefix, region=region,
                   access_key=env.get(ACCESS_KEY_ENV, ""),
                   secret_key=env.get(SECRET_KEY_ENV, ""), **options)
