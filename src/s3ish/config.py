"""Server configuration: one dataclass, passed to worker processes as JSON in the environment."""
import dataclasses
import json
import os
import re
from dataclasses import dataclass, field

ENV = "S3ISH_CONFIG"


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 9000
    data: str = "./data"                 # a folder, or ":memory:"; the first drive
    drives: list[str] = field(default_factory=list)   # all drives when erasure coding
    parity: int | None = None            # m; default from the drive count
    scrub_rate: float = 10.0             # background scrub, MB/s (0: off)
    auth_file: str | None = None
    workers: int = 1
    domains: list[str] = field(default_factory=list)
    region: str = "us-east-1"
    root_user: str | None = None
    root_password: str | None = None
    durable: bool = True
    log_level: str = "info"
    log_format: str = "text"
    metrics_public: bool = False
    metrics_token: str | None = None
    auth: str = "required"               # "none": every request acts as root (development)
    multipart_expiry: float = 7 * 24 * 3600   # abort uploads older than this (seconds)
    lifecycle_day_seconds: float = 86400.0    # a lifecycle rule's day (shorter for tests)
    create_drives: bool = False          # create missing drive folders (a new set)
    orphan_grace: float = 7 * 24 * 3600  # unreferenced data set aside this long before removal
    idle_timeout: float = 30.0           # close a keep-alive connection idle this long
    header_timeout: float = 20.0         # a request head must arrive in full within this
    body_timeout: float = 20.0           # a request body may send nothing this long
    max_connections: int = 1000          # open connections per worker
    tls_cert: str | None = None          # PEM certificate (chain): serve HTTPS
    tls_key: str | None = None           # its private key
    acl_mode: str = "enforce"            # ACLs: enforce (AWS) | record | ignore
    # Of buckets created without x-amz-object-ownership ("": none, behaving as ObjectWriter).
    default_ownership: str = "BucketOwnerEnforced"
    # Transparent zstd compression of new data (buckets override it: `s3ish admin compression`).
    compression: bool = False
    # Accept SSE-C customer keys over plain HTTP (local tests only; AWS refuses them).
    allow_insecure_sse_c: bool = False
    # The seed design's x-access-key/x-secret-key request headers authenticate (for curl).
    allow_header_auth: bool = False
    # Keyring of key-encryption keys for SSE-S3/SSE-KMS ("": the master key in
    # S3ISH_KMS_MASTER_KEY if set, else no server-side encryption with managed keys).
    kms_keyring: str = ""
    # The cold tier (docs/tier.md): any S3 bucket receives the journal's sealed segments,
    # checkpoints and data units; credentials come from S3ISH_TIER_ACCESS_KEY/SECRET_KEY.
    tier_endpoint: str = ""              # "": no cold tier
    tier_bucket: str = ""
    tier_prefix: str = ""
    tier_region: str = "us-east-1"
    tier_ship_interval: float = 10.0     # a record is shipped within about this (seconds)
    tier_checkpoint_interval: float = 3600.0   # a checkpoint goes to the tier this often
    tier_rate: float = 0.0               # upload rate limit, MB/s (0: none)
    # Lifecycle transitions to the tier act for rules naming this class (docs/tier.md).
    tier_storage_class: str = "GLACIER_IR"
    # A read-only follower of the tier (docs/tier.md, "Follower"): it applies what another
    # server ships there instead of shipping; writes to it are refused.
    follow_tier: bool = False
    follow_interval: float = 2.0         # seconds between two looks at the tier's manifest
    # The interfaces served (docs/grpc.md): "http" (S3), "grpc" (proto/s3ish/v1; the HTTP
    # listener keeps only the reserved endpoints and the IAM API) or "both".
    protocol: str = "http"
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 9001

    @property
    def serves_grpc(self) -> bool:
        return self.protocol in ("grpc", "both")

    @property
    def serves_s3(self) -> bool:
        return self.protocol in ("http", "both")

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    @property
    def in_memory(self) -> bool:
        return self.data == ":memory:"

    @property
    def tier(self) -> str | None:
        """Names the cold tier (tier.localstate.identity), None without one."""
        if not self.tier_endpoint:
            return None
        return f"{self.tier_endpoint.rstrip('/')}/{self.tier_bucket}/{self.tier_prefix}"

    @property
    def writer_tier(self) -> str | None:
        """The cold tier this server writes (ships to): `tier`, unless it follows it."""
        return None if self.follow_tier else self.tier

    @property
    def read_only(self) -> str:
        """Why this server refuses writes ("": it does not)."""
        if not self.follow_tier:
            return ""
        return (f"this server is a read-only follower of the cold tier s3://{self.tier_bucket}/"
                f"{self.tier_prefix} at {self.tier_endpoint}: send writes to the server that "
                "writes that tier")

    @property
    def erasure(self) -> bool:
        return len(self.drives) > 1

    def to_env(self) -> None:
        os.environ[ENV] = json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_env(cls) -> "Config":
        return cls(**json.loads(os.environ[ENV]))


def expand_drives(values: list[str]) -> list[str]:
    """`/d{1...4}` -> /d1 /d2 /d3 /d4 (MinIO's ellipsis notation); plain paths as given."""
    out = []
    for value in values:
        m = re.fullmatch(r"(.*)\{(\d+)\.\.\.(\d+)\}(.*)", value)
        if m:
            lo, hi = int(m.group(2)), int(m.group(3))
            out += [f"{m.group(1)}{i}{m.group(4)}" for i in range(lo, hi + 1)]
        else:
            out.append(value)
    return out
