"""Helpers of the follower tests: a follower server (`--follow-tier`) of a tier some writer
ships to, waiting until it applied a position, its status."""
import os
import subprocess
import sys
import time

from tests.support import ServerProcess
from tests.tier.shipping import status

PREFIX = "t/"


def follower_server(data, tmp, service, bucket, endpoint=None, prefix=PREFIX, interval=0.5,
                    extra=(), workers=1, env=None) -> ServerProcess:
    """A follower on `data` of the tier in `bucket` of `service` (through `endpoint`, e.g.
    a proxy). Not started."""
    args = ["--tier-endpoint", endpoint or service.endpoint, "--tier-bucket", bucket,
            "--tier-prefix", prefix, "--follow-tier", "--follow-interval", str(interval),
            "--scrub-rate", "0", *extra]
    return ServerProcess(data, str(tmp), workers=workers, extra_args=args,
                         env={"S3ISH_TIER_ACCESS_KEY": service.access_key,
                              "S3ISH_TIER_SECRET_KEY": service.secret_key, **(env or {})})


def wait_applied(follower, lsn: int, timeout: float = 60.0) -> dict:
    """Until the follower applied position `lsn` (and knows nothing newer); its status."""
    deadline = time.time() + timeout
    while True:
        doc = status(follower)
        if doc["applied_lsn"] >= lsn and doc["lag_records"] == 0 and \
                doc["state"] == "following":
            return doc
        if time.time() > deadline:
            raise AssertionError(f"the follower did not apply {lsn} within {timeout} s: "
                                 f"{doc}\n{follower.read_log()}")
        time.sleep(0.2)


def keyring(tmp) -> str:
    """A KMS keyring with one key (`s3ish admin kms create-key`)."""
    ring = os.path.join(str(tmp), "keyring.json")
    r = subprocess.run([sys.executable, "-m", "s3ish", "admin", "kms", "create-key",
                        "--keyring", ring, "--id", "follow-key"], capture_output=True,
                       text=True, timeout=60,
                       env={k: v for k, v in os.environ.items() if not k.startswith("S3ISH_")})
    assert r.returncode == 0, r.stderr
    return ring


def start_refused(data, args, env=None) -> str:
    """Start a server that must refuse to start: its one line on stderr."""
    r = subprocess.run([sys.executable, "-m", "s3ish", "server", "--listen", "127.0.0.1:0",
                        *[a for d in (data if isinstance(data, list) else [data])
                          for a in ("--data", d)], *args],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "S3ISH_ROOT_USER": "testroot",
                            "S3ISH_ROOT_PASSWORD": "testroot-secret-key", **(env or {})})
    assert r.returncode != 0, r.stdout
    return r.stderr.strip().splitlines()[-1]
