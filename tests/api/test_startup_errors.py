"""Operator mistakes at start-up: each ends the start with one clear line on stderr and a
non-zero exit, before the server claims to listen; never a traceback. Ctrl-C stops cleanly."""
import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest

from tests.support import ROOT_PASSWORD, ROOT_USER, ServerProcess

ENV = {**os.environ, "S3ISH_ROOT_USER": ROOT_USER, "S3ISH_ROOT_PASSWORD": ROOT_PASSWORD}
SERVER = [sys.executable, "-m", "s3ish", "server"]


def _refused(args, prefix=(), listen="127.0.0.1:0") -> str:
    """Run a server start that must fail; return its one line of explanation."""
    r = subprocess.run([*prefix, *SERVER, "--listen", listen, *args], env=ENV,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0, r.stdout + r.stderr
    assert "listening" not in r.stdout, r.stdout
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_data_is_a_file(tmp_path):
    path = tmp_path / "oops.txt"
    path.write_text("not a folder")
    line = _refused(["--data", str(path)])
    assert "is a file, not a folder" in line and str(path) in line
    assert path.read_text() == "not a folder"


def test_data_folder_cannot_be_created(tmp_path):
    path = tmp_path / "oops.txt"
    path.write_text("x")
    line = _refused(["--data", str(path / "data")])
    assert "cannot create the data folder" in line


def _read_only_prefix(folder) -> tuple[list[str], str]:
    """A way to make `folder` read-only even for root (who ignores permission bits): a
    read-only bind mount in a private mount namespace, else the immutable attribute."""
    remount = ('mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && '
               '{ [ $# -eq 0 ] || exec "$@"; }')
    if shutil.which("unshare"):
        probe = subprocess.run(["unshare", "-m", "sh", "-c", remount + ' && ! touch "$0/x"',
                                str(folder)], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return ["unshare", "-m", "sh", "-c", remount, str(folder)], "read-only file system"
    if shutil.which("chattr") and subprocess.run(["chattr", "+i", str(folder)],
                                                 capture_output=True).returncode == 0:
        if not os.access(folder, os.W_OK) or _cannot_create(folder):
            return [], "not writable"
        subprocess.run(["chattr", "-i", str(folder)])
    pytest.skip("cannot make a folder read-only here (no mount namespace, no chattr +i, "
                "and permission bits do not stop root)" if os.geteuid() == 0 else
                "no read-only mechanism available")


def _cannot_create(folder) -> bool:
    try:
        open(os.path.join(folder, "probe"), "w").close()
    except OSError:
        return True
    os.unlink(os.path.join(folder, "probe"))
    return False


def test_read_only_data_folder(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    if os.geteuid() != 0:
        data.chmod(0o555)
        prefix, why = [], "not writable"
    else:
        prefix, why = _read_only_prefix(data)
    try:
        line = _refused(["--data", str(data)], prefix=prefix)
    finally:
        if os.geteuid() == 0 and shutil.which("chattr"):
            subprocess.run(["chattr", "-i", str(data)], capture_output=True)
        data.chmod(0o755)
    assert "not writable" in line and why in line.lower() and str(data) in line


def test_port_in_use_suggests_listen(tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        line = _refused(["--data", str(tmp_path / "data")], listen=f"127.0.0.1:{port}")
    finally:
        busy.close()
    assert "already in use" in line and "--listen" in line
    assert not os.path.exists(tmp_path / "data" / "meta.sqlite3")   # refused before recovery


def test_address_not_on_this_machine(tmp_path):
    line = _refused(["--data", ":memory:"], listen="192.0.2.1:9000")   # TEST-NET-1
    assert "no such address" in line and "--listen" in line


def test_missing_auth_file_is_reported_before_listening(tmp_path):
    line = _refused(["--data", ":memory:", "--auth-file", str(tmp_path / "users.txt")])
    assert "--auth-file" in line and "no such file" in line


def test_malformed_auth_file_names_the_line(tmp_path):
    users = tmp_path / "users.txt"
    users.write_text("# users\nalice:alice-secret\nbob-without-a-secret\n")
    line = _refused(["--data", ":memory:", "--auth-file", str(users)])
    assert f"{users}:3" in line and "ACCESS_KEY:SECRET_KEY" in line


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_stops_cleanly(tmp_path, workers):
    """`make run` is stopped with Ctrl-C: the terminal sends SIGINT to the whole group."""
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path), workers=workers).start()
    os.killpg(srv.proc.pid, signal.SIGINT)
    try:
        code = srv.proc.wait(timeout=30)
    finally:
        srv.stop()
    log = srv.read_log()
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log
    assert code == 0, log


def test_missing_or_empty_kms_keyring_is_reported_before_listening(tmp_path):
    ring = tmp_path / "keyring.json"
    line = _refused(["--data", ":memory:", "--kms-keyring", str(ring)])
    assert f"--kms-keyring {ring}" in line and "does not exist" in line
    ring.write_text('{"format": 1, "default": null, "keys": {}}')
    line = _refused(["--data", ":memory:", "--kms-keyring", str(ring)])
    assert "holds no keys" in line and "create-key" in line


def test_bad_kms_master_key_is_reported_without_echoing_it(tmp_path):
    line = _refused(["--data", ":memory:"], prefix=["env", "S3ISH_KMS_MASTER_KEY=abc123"])
    assert "S3ISH_KMS_MASTER_KEY" in line and "base64" in line and "abc123" not in line
