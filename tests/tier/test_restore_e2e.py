"""End to end: a server with tier flags ships to moto or a second s3ish; its folders are
wiped; `s3ish restore` rebuilds them (to the high-water mark, to an earlier position, to a
time); the restored server serves exactly what was acknowledged up to there, then ships on
as the next generation, and a restore of that timeline brings its writes back too."""
import os
import shutil
import time
import uuid

import pytest

from tests.tier.shipping import manifest, tier_server, verify, wait_shipped
from tests.tier.test_restore import (_iso, _phase_a1, _phase_a2, _phase_b, _phase_c,
                                     restore, serve_state, state)

PREFIX = "t/"


@pytest.fixture
def tier_bucket(service):
    name = f"e2e-{uuid.uuid4().hex[:12]}"
    service.boto().create_bucket(Bucket=name)
    return name


def _folders(tmp_path, name, layout):
    if layout == "folder":
        return [str(tmp_path / name)]
    out = [str(tmp_path / f"{name}{i}") for i in range(1, 5)]
    for d in out:
        os.makedirs(d)
    return out


def _one(data):
    return data if len(data) > 1 else data[0]


# One remote per layout (both remotes, both layouts, in half the time).
@pytest.mark.parametrize(("service", "layout"), [("moto", "folder"), ("s3ish", "drives")],
                         indirect=["service"])
def test_ship_wipe_restore_serve(service, tier_bucket, tmp_path, layout):
    src = _folders(tmp_path, "src", layout)
    srv = tier_server(_one(src), tmp_path, service, tier_bucket, prefix=PREFIX,
                      extra=["--compression", "on", "--scrub-rate", "0"]).start()
    points = {}
    try:
        c = srv.client()
        for name, phase in (("a", lambda c: (_phase_a1(c), _phase_a2(c))), ("b", _phase_b),
                            ("c", _phase_c)):
            phase(c)
            hwm = wait_shipped(srv)["s3_hwm"]
            points[name] = (hwm, state(c), time.time())
            time.sleep(0.05)
        assert verify(srv)["ok"]
    finally:
        srv.stop()
    for d in src:
        shutil.rmtree(d)                       # the machine is lost

    back = _folders(tmp_path, "back", layout)
    summary, _ = restore(service, tier_bucket, back, prefix=PREFIX)
    assert summary["lsn"] == points["c"][0] and summary["generation"] == 1
    assert serve_state(back, tmp_path) == points["c"][1]

    mid = _folders(tmp_path, "mid", "drives" if layout == "folder" else "folder")
    summary, _ = restore(service, tier_bucket, mid, "--to-lsn", str(points["a"][0]),
                         prefix=PREFIX)
    assert serve_state(mid, tmp_path) == points["a"][1]

    when = _folders(tmp_path, "when", layout)
    summary, _ = restore(service, tier_bucket, when, "--to-time",
                         _iso(points["b"][2]), prefix=PREFIX)
    assert summary["lsn"] == points["b"][0]
    assert serve_state(when, tmp_path) == points["b"][1]


@pytest.mark.parametrize("service", ["s3ish"], indirect=True)     # moto: tests/tier/test_shipping.py
def test_a_restored_server_ships_on_as_the_next_generation(service, tier_bucket, tmp_path):
    """Restored to an earlier position and started with the same tier flags: generation 2
    from there on; what it writes is in the tier, and a restore of the new timeline has it
    (and not what the old timeline wrote after the restored position)."""
    src = _folders(tmp_path, "src", "drives")
    srv = tier_server(src, tmp_path, service, tier_bucket, prefix=PREFIX,
                      extra=["--scrub-rate", "0"]).start()
    try:
        c = srv.client()
        _phase_a1(c)
        early = wait_shipped(srv)["s3_hwm"]
        c.put_object(Bucket="plain", Key="old-timeline", Body=b"written after the point")
        wait_shipped(srv)
    finally:
        srv.stop()
    for d in src:
        shutil.rmtree(d)
    back = _folders(tmp_path, "back", "folder")
    restore(service, tier_bucket, back, "--to-lsn", str(early), prefix=PREFIX)
    srv = tier_server(back[0], tmp_path, service, tier_bucket, prefix=PREFIX).start()
    try:
        c = srv.client()
        assert "old-timeline" not in [o["Key"] for o in
                                      c.list_objects_v2(Bucket="plain")["Contents"]]
        c.put_object(Bucket="plain", Key="new-timeline", Body=b"generation 2")
        wait_shipped(srv)
        expected = state(c)
        m = manifest(service, tier_bucket, PREFIX)
        assert m["generation"] == 2 and m["generations"][-1]["from_lsn"] == early + 1
        assert verify(srv)["ok"]
    finally:
        srv.stop()
    again = _folders(tmp_path, "again", "drives")
    summary, _ = restore(service, tier_bucket, again, prefix=PREFIX)
    assert summary["generation"] == 2
    got = serve_state(again, tmp_path)
    assert got == expected
    keys = [v["key"] for v in got["plain"]["versions"]]
    assert "new-timeline" in keys and "old-timeline" not in keys


@pytest.mark.parametrize(("service", "layout"), [("moto", "folder"), ("s3ish", "drives")],
                         indirect=["service"])
def test_kill9_while_shipping_then_wipe_and_restore(service, tier_bucket, proxy, tmp_path,
                                                    layout):
    """Writes under a flaky remote, kill -9 mid-way: a restore to the high-water mark has
    every object whose record is at or below it, byte-exact, and none above it; the
    restored server takes the tier over and `tier verify` is clean."""
    import random

    from s3ish.meta import records, segments
    src = _folders(tmp_path, "src", layout)
    proxy.fail_fraction(0.2, seed=3)
    srv = tier_server(_one(src), tmp_path, service, tier_bucket, endpoint=proxy.endpoint,
                      prefix=PREFIX, interval=0.5, extra=["--scrub-rate", "0"]).start()
    rng = random.Random(11)
    sent = {}
    try:
        c = srv.client()
        c.create_bucket(Bucket="load")
        deadline = time.time() + 4
        n = 0
        while time.time() < deadline:
            body = os.urandom(rng.choice([10, 90_000, 1_200_000]))
            sent[f"k{n}"] = body
            c.put_object(Bucket="load", Key=f"k{n}", Body=body)
            n += 1
    finally:
        srv.kill9()
    proxy.clear()
    hwm = manifest(service, tier_bucket, PREFIX)["hwm"]
    at = {}           # key -> position of the record that wrote it
    for lsn, (_, entry) in segments.merged_lines(src).items():
        for m in entry.mutations:
            if isinstance(m, records.PutObject):
                at[m.version.key] = lsn
    assert set(at) == set(sent)
    below = {k for k, lsn in at.items() if lsn <= hwm}
    assert below and below != set(sent)        # the kill came before everything shipped
    for d in src:
        shutil.rmtree(d)
    back = _folders(tmp_path, "back", layout)
    assert restore(service, tier_bucket, back, prefix=PREFIX)[0]["lsn"] == hwm
    srv = tier_server(_one(back), tmp_path, service, tier_bucket, prefix=PREFIX).start()
    try:
        c = srv.client()
        listed = {o["Key"] for page in c.get_paginator("list_objects_v2").paginate(
            Bucket="load") for o in page.get("Contents", [])}
        assert listed == below
        for key in sorted(below):
            assert c.get_object(Bucket="load", Key=key)["Body"].read() == sent[key], key
        c.put_object(Bucket="load", Key="after", Body=b"next generation")
        wait_shipped(srv)
        assert verify(srv)["ok"]
        assert manifest(service, tier_bucket, PREFIX)["generation"] == 2
    finally:
        srv.stop()


@pytest.mark.parametrize("service", ["s3ish"], indirect=True)     # moto: tests/tier/test_shipping.py
def test_kill9_during_a_checkpoint_then_wipe_and_restore(service, tier_bucket, proxy,
                                                         tmp_path):
    """Twice, the process dies while a checkpoint's upload is under way (the proxy holds
    every request for `checkpoints/`): the restart ships on and lands a checkpoint, the
    manifest never names the half-sent ones (I3) and `tier verify` is clean; then the drives
    are wiped and a restore serves every acknowledged object byte-exact."""
    import random
    src = str(tmp_path / "src")
    rng = random.Random(5)
    sent = {}
    flags = ["--tier-checkpoint-interval", "1", "--scrub-rate", "0"]
    for round_ in range(2):
        proxy.log.clear()
        proxy.stall_matching(f"/{PREFIX}checkpoints/", 60)
        srv = tier_server(src, tmp_path, service, tier_bucket, endpoint=proxy.endpoint,
                          prefix=PREFIX, interval=0.5, extra=flags).start()
        try:
            c = srv.client()
            if round_ == 0:
                c.create_bucket(Bucket="load")
            for i in range(8):
                sent[f"r{round_}/k{i}"] = os.urandom(rng.choice([10, 90_000, 600_000]))
                c.put_object(Bucket="load", Key=f"r{round_}/k{i}", Body=sent[f"r{round_}/k{i}"])
            deadline = time.time() + 30
            while not any(a == "stall" for _, _, a in proxy.log):
                assert time.time() < deadline, "no checkpoint upload began"
                time.sleep(0.1)
        finally:
            srv.kill9()
    proxy.clear()
    srv = tier_server(src, tmp_path, service, tier_bucket, endpoint=proxy.endpoint,
                      prefix=PREFIX, interval=0.5, extra=flags).start()
    try:
        srv.client().put_object(Bucket="load", Key="after", Body=b"after the kills")
        sent["after"] = b"after the kills"
        wait_shipped(srv, timeout=60)
        deadline = time.time() + 30
        while not manifest(service, tier_bucket, PREFIX)["checkpoints"]:
            assert time.time() < deadline, "no checkpoint landed after the kills"
            time.sleep(0.2)
        assert verify(srv)["ok"]
    finally:
        srv.stop()
    listed = {o["Key"] for o in service.boto().list_objects_v2(
        Bucket=tier_bucket, Prefix=f"{PREFIX}checkpoints/").get("Contents", [])}
    named = manifest(service, tier_bucket, PREFIX)["checkpoints"]
    assert named and all(PREFIX + c["key"] in listed for c in named)
    shutil.rmtree(src)
    back = str(tmp_path / "back")
    restore(service, tier_bucket, [back], prefix=PREFIX)
    srv = tier_server(back, tmp_path, service, tier_bucket, prefix=PREFIX).start()
    try:
        c = srv.client()
        listed = {o["Key"] for page in c.get_paginator("list_objects_v2").paginate(
            Bucket="load") for o in page.get("Contents", [])}
        assert listed == set(sent)
        for key, body in sent.items():
            assert c.get_object(Bucket="load", Key=key)["Body"].read() == body, key
        wait_shipped(srv)
        assert verify(srv)["ok"]
    finally:
        srv.stop()
