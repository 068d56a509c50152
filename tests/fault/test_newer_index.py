"""Rolling back by starting an older s3ish on folders a newer one has opened is refused, one
line, before anything is written: migrate() would otherwise stamp the older schema number
over the newer schema (docs/operations.md, "Upgrades": roll back by a restore)."""
import os
import sqlite3
import subprocess
import sys

import pytest

from s3ish.meta.sqlite_tx import MIGRATIONS
from tests.support import ROOT_PASSWORD, ROOT_USER, ServerProcess


def _bump(db: str) -> None:
    """What a newer version with one more migration leaves behind."""
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    conn.commit()
    conn.close()


def _version(db: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("n_drives", [1, 4])
def test_an_index_from_a_newer_version_is_refused(tmp_path, n_drives):
    drives = [str(tmp_path / f"d{i}") for i in range(1, n_drives + 1)]
    srv = ServerProcess(drives if n_drives > 1 else drives[0], str(tmp_path)).start()
    try:
        srv.client().create_bucket(Bucket="kept")
        srv.client().put_object(Bucket="kept", Key="k", Body=b"v")
    finally:
        srv.stop()
    db = os.path.join(drives[0], "meta.sqlite3")
    _bump(db)
    r = subprocess.run([sys.executable, "-m", "s3ish", "server", "--listen", "127.0.0.1:0",
                        *[a for d in drives for a in ("--data", d)]], capture_output=True,
                       text=True, timeout=60,
                       env={**os.environ, "S3ISH_ROOT_USER": ROOT_USER,
                            "S3ISH_ROOT_PASSWORD": ROOT_PASSWORD})
    assert r.returncode != 0 and "listening" not in r.stdout
    assert "Traceback" not in r.stderr, r.stderr
    assert f"schema version {len(MIGRATIONS) + 1}, newer than this s3ish's " \
           f"{len(MIGRATIONS)}" in r.stderr, r.stderr
    assert _version(db) == len(MIGRATIONS) + 1          # left as the newer version left it
