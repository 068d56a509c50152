"""Drives that fill up or turn read-only degrade, never crash: writes keep a quorum, reads stay
exact, the operator sees the state. Needs mount (root); skipped where it is not allowed."""
import os
import subprocess
import time

import botocore.exceptions
import pytest

from tests.fault.test_erasure_drives import MiB, _admin, _check
from tests.support import ServerProcess


def _mount_tmpfs(path: str, size: str) -> None:
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")


def _umount(path: str) -> None:
    subprocess.run(["umount", "-l", path], capture_output=True)


def _states(srv) -> dict:
    return {d["path"]: d["state"] for d in _admin(srv, "/_admin/drives")["drives"]}


@pytest.mark.slow
@pytest.mark.parametrize("n", [4, 6])
def test_full_and_read_only_drives(tmp_path, n):
    drives = [str(tmp_path / f"d{i}") for i in range(1, n + 1)]
    small, ro = drives[2], drives[3]
    _mount_tmpfs(small, "6m")
    _mount_tmpfs(ro, "64m")
    srv = None
    try:
        # 1. One drive fills up: writes go on with the others (quorum k+1: 3 of 4, 5 of 6).
        srv = ServerProcess(drives, str(tmp_path), extra_args=["--scrub-rate", "0"]).start()
        c = srv.client()
        c.create_bucket(Bucket="degraded")
        want = {}
        for i in range(16 if n == 6 else 8):     # 1-2 MiB of shard per object on each drive
            body = os.urandom(4 * MiB + i)
            c.put_object(Bucket="degraded", Key=f"o{i}", Body=body)
            want[f"o{i}"] = body
        assert _states(srv)[small] == "full"
        _check(c, "degraded", want)
        srv.stop()
        # 2. Another drive is read-only (mounted so at start): n-2 writable is below the
        # quorum, so writes are refused cleanly; reads need only k and still work.
        subprocess.run(["mount", "-o", "remount,ro", ro], check=True)
        srv = ServerProcess(drives, str(tmp_path), extra_args=["--scrub-rate", "0"]).start()
        c = srv.client()
        _check(c, "degraded", want)
        with pytest.raises(botocore.exceptions.ClientError) as e:
            c.put_object(Bucket="degraded", Key="refused", Body=os.urandom(16 * MiB))
        assert e.value.response["Error"]["Code"] == "ServiceUnavailable"
        assert _states(srv)[ro] == "read-only"
        with pytest.raises(botocore.exceptions.ClientError):
            c.head_object(Bucket="degraded", Key="refused")
        # 3. Read-write again: the drive returns to service and writes succeed.
        subprocess.run(["mount", "-o", "remount,rw", ro], check=True)
        deadline = time.time() + 30
        while _states(srv)[ro] != "ok" and time.time() < deadline:
            time.sleep(0.5)
        assert _states(srv)[ro] == "ok"
        c.put_object(Bucket="degraded", Key="after", Body=b"x" * 300_000)
        want["after"] = b"x" * 300_000
        _check(c, "degraded", want)
    finally:
        if srv is not None:
            srv.stop()
        _umount(small)
        _umount(ro)
