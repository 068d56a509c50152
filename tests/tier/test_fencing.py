"""I6: a stale shipper (an older writer generation, another folder on the same prefix, a
racing writer) can never move the remote high-water mark. Races need a remote whose
conditional writes are atomic: a second s3ish (docs/tier.md: moto checks, then stores)."""
import asyncio
import json
import os
import shutil
import time
import uuid

import pytest

from s3ish.tier import localstate
from s3ish.tier.fence import Fenced, ManifestStore
from s3ish.tier.layout import Manifest
from s3ish.tier.remote import Remote
from s3ish.tier.retry import retrying
from tests.tier.shipping import manifest, tier_server, verify, wait_shipped


@pytest.fixture
def s3bucket(s3ish_service):
    name = f"fence-{uuid.uuid4().hex[:12]}"
    s3ish_service.boto().create_bucket(Bucket=name)
    return name


def test_I6_a_second_server_on_the_same_prefix_refuses_to_start(s3ish_service, s3bucket,
                                                                 tmp_path):
    a = tier_server(str(tmp_path / "a"), tmp_path, s3ish_service, s3bucket).start()
    try:
        a.client().create_bucket(Bucket="src")
        wait_shipped(a)
        before = manifest(s3ish_service, s3bucket)
        b = tier_server(str(tmp_path / "b"), tmp_path, s3ish_service, s3bucket)
        with pytest.raises(RuntimeError, match="another writer owns this tier"):
            b.start()
        assert manifest(s3ish_service, s3bucket) == before
    finally:
        a.stop()


def test_I6_a_restored_copy_fences_the_old_writer(s3ish_service, s3bucket, tmp_path):
    """The old server keeps running and writing after a restore elsewhere took the tier
    over: its shipper stops at its next manifest write, the new generation's mark moves."""
    old, new = str(tmp_path / "old"), str(tmp_path / "new")
    srv = tier_server(old, tmp_path, s3ish_service, s3bucket).start()
    try:
        c = srv.client()
        c.create_bucket(Bucket="src")
        c.put_object(Bucket="src", Key="k", Body=b"before")
        hwm = wait_shipped(srv)["s3_hwm"]
    finally:
        srv.stop()
    shutil.copytree(old, new)       # the restored folder: the tier's state at hwm
    os.unlink(os.path.join(new, localstate.FOLDER, localstate.STATE))
    localstate.write_json(os.path.join(new, localstate.FOLDER, localstate.RESTORED),
                          {"lsn": hwm, "generation": 1})
    a = tier_server(old, tmp_path, s3ish_service, s3bucket).start()
    b = None
    try:
        b = tier_server(new, tmp_path, s3ish_service, s3bucket).start()
        b.client().put_object(Bucket="src", Key="k", Body=b"from the new generation")
        st_b = wait_shipped(b)
        m = manifest(s3ish_service, s3bucket)
        assert m["generation"] == 2 and m["generations"][-1] == {
            "gen": 2, "from_lsn": hwm + 1, "time": m["generations"][-1]["time"]}
        a.client().put_object(Bucket="src", Key="k", Body=b"from the stale writer")
        deadline = time.time() + 20
        while "shipping stopped for good" not in a.read_log():
            assert time.time() < deadline, a.read_log()
            time.sleep(0.2)
        after = manifest(s3ish_service, s3bucket)
        assert after["generation"] == 2 and after["hwm"] == st_b["s3_hwm"]
        assert all(s["gen"] == 1 or s["first"] > hwm for s in after["segments"])
        assert verify(b)["ok"]
        assert not os.path.exists(os.path.join(new, localstate.FOLDER, localstate.RESTORED))
    finally:
        a.stop()
        if b is not None:
            b.stop()
    # The stale server cannot even start against the tier again.
    with pytest.raises(RuntimeError, match="fenced"):
        tier_server(old, tmp_path, s3ish_service, s3bucket).start()


def _run(coro):
    return asyncio.run(coro)


def test_I6_racing_manifest_writers_one_wins(s3ish_service, s3bucket):
    config = s3ish_service.config(s3bucket, prefix="race/")

    async def go():
        async with Remote(config) as remote:
            first = ManifestStore(remote, lambda op: op())
            await first.write(Manifest(1, "w0", 0))
            for round_ in range(10):
                stores = [ManifestStore(remote, lambda op: op()) for _ in range(4)]
                for s in stores:
                    await s.read()
                gen = round_ + 2

                async def attempt(i, s):
                    try:
                        await s.write(Manifest(gen, f"w{round_}-{i}", 0))
                        return True
                    except Fenced:
                        return False
                wins = await asyncio.gather(*(attempt(i, s) for i, s in enumerate(stores)))
                assert sum(wins) == 1, wins
                now = await ManifestStore(remote, lambda op: op()).read()
                assert now.writer == f"w{round_}-{wins.index(True)}"
    _run(go())


def test_I6_a_lost_answer_to_our_own_manifest_write_is_ours(service, bucket, proxy):
    """The remote performed the write but its answer was cut: retried, the If-Match fails,
    the manifest read again names us: not fenced."""
    config = service.config(bucket, endpoint=proxy.endpoint, prefix="lost/")

    async def go():
        async with Remote(config) as remote:
            store = ManifestStore(remote, lambda op: retrying(op))
            await store.write(Manifest(1, "me", 0))
            proxy.cut_next(1)
            await store.write(Manifest(1, "me", 0, updated=2.0))
            assert proxy.actions("cut") == 1
            assert (await store.read()).updated == 2.0
            other = ManifestStore(remote, lambda op: op())
            await other.read()
            await other.write(Manifest(2, "newer", 0))
            with pytest.raises(Fenced):
                await store.write(Manifest(1, "me", 0, updated=3.0))
            assert (await other.read()).writer == "newer"
    _run(go())


def test_a_stale_state_file_is_refused(s3ish_service, s3bucket, tmp_path):
    """A folder whose state says it wrote generation 1 meets a tier at generation 2."""
    data = str(tmp_path / "d")
    srv = tier_server(data, tmp_path, s3ish_service, s3bucket).start()
    try:
        srv.client().create_bucket(Bucket="src")
        wait_shipped(srv)
    finally:
        srv.stop()
    m = manifest(s3ish_service, s3bucket)
    m["generation"], m["writer"] = 2, "someone-else"
    s3ish_service.boto().put_object(Bucket=s3bucket, Key="t/manifest.json",
                                    Body=json.dumps(m).encode())
    with pytest.raises(RuntimeError, match="fenced"):
        tier_server(data, tmp_path, s3ish_service, s3bucket).start()
