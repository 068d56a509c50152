"""Helpers for the compat suite: real clients (AWS CLI, s3cmd, rclone, minio-py) run as users
run them, against the session's real server. CLIs run as subprocesses with HOME and every
config/credential location pointed into tmp dirs, so the machine's ~/.aws, ~/.s3cfg and
rclone config are never read or written.
"""
import hashlib
import os
import subprocess
import sys

import pytest

MiB = 1024 * 1024
VENV_BIN = os.path.dirname(sys.executable)


def tool(name: str) -> str:
    path = os.path.join(VENV_BIN, name)
    if not os.path.exists(path):
        pytest.skip(f"{name} not installed in {VENV_BIN}")
    return path


def make_file(path, size: int, chunk: int = 4 * MiB) -> str:
    """Write `size` random bytes to `path` in chunks (never the whole file in memory)."""
    path = str(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(chunk, left)
            f.write(os.urandom(n))
            left -= n
    return path


def md5_file(path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def md5_tree(root) -> dict[str, str]:
    """{relative posix path: md5} of every regular file under root."""
    root = str(root)
    out = {}
    for d, _, files in os.walk(root):
        for name in files:
            full = os.path.join(d, name)
            out[os.path.relpath(full, root).replace(os.sep, "/")] = md5_file(full)
    return out


def clean_env(home, **extra) -> dict[str, str]:
    """The process environment minus anything that could point a client elsewhere."""
    drop = ("AWS_", "S3CMD", "RCLONE_", "MINIO_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
            "http_proxy", "https_proxy", "all_proxy")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(HOME=str(home), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
               XDG_CONFIG_HOME=os.path.join(str(home), ".config"),
               XDG_CACHE_HOME=os.path.join(str(home), ".cache"))
    env.update(extra)
    return env


def run(cmd, env, server=None, timeout=300, check=True, input=None) -> subprocess.CompletedProcess:
    p = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, timeout=timeout,
                       input=input)
    if check and p.returncode != 0:
        log = server.read_log()[-4000:] if server is not None else ""
        raise AssertionError(
            f"command failed ({p.returncode}): {' '.join(map(str, cmd))}\n"
            f"--- stdout ---\n{p.stdout.decode(errors='replace')[-4000:]}\n"
            f"--- stderr ---\n{p.stderr.decode(errors='replace')[-4000:]}\n"
            f"--- server log tail ---\n{log}")
    return p


@pytest.fixture(scope="session")
def big_file(tmp_path_factory):
    """One 100 MiB random file shared by the slow tests of every client."""
    path = tmp_path_factory.mktemp("big") / "big-100MiB.bin"
    make_file(path, 100 * MiB)
    return str(path), md5_file(path)
