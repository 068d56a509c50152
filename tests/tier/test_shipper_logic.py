"""The shipper's rules over a fake local log (no server): a takeover after a restore inside
a segment cuts that segment, a local log that does not continue the tier is never shipped
over its gap (I4), a data unit missing locally holds its segment back (I3), and the
high-water mark never passes the local log end (I1)."""
import os

from s3ish.meta import journal, records as r
from s3ish.tier import localstate
from s3ish.tier.layout import Manifest, SegmentEntry, CheckpointEntry, GenerationEntry
from s3ish.tier.remote import Remote
from s3ish.tier.shipper import LocalSegment, Outgoing, Shipper
from tests.tier.conftest import run

TIER = "fake-tier"


class FakeUnit:
    def __init__(self, blob):
        self.blob, self.size = blob, len(blob)

    async def chunks(self):
        yield self.blob

    def close(self):
        pass


class FakeLog:
    """Records 1..end in segments of `per` records, sealed up to `sealed_to`."""

    def __init__(self, folder, end, sealed_to, per=3, units=None, refs=None):
        self.data_folder = folder
        self.end, self.sealed_to, self.per = end, sealed_to, per
        self.units = units or {}
        self.refs = refs or {}          # lsn -> [data id]
        self.start = 0                  # local segments begin after this
        os.makedirs(folder, exist_ok=True)

    async def positions(self):
        return self.end, self.sealed_to

    async def seal(self):
        self.sealed_to = self.end

    async def sealed_after(self, lsn):
        out, first = [], self.start + 1
        while first <= self.sealed_to:
            last = min(first + self.per - 1, self.sealed_to)
            if last > lsn:
                out.append(LocalSegment(first, last))
            first = last + 1
        return out

    async def outgoing(self, seg):
        path = os.path.join(self.data_folder, f"{seg.first}-{seg.last}.seg")
        lines = [journal.encode_base(seg.first - 1)] + [
            journal.encode_record(n, [r.AbortUpload(f"u{n}")], when=1000.0 + n)
            for n in range(seg.first, seg.last + 1)]
        with open(path, "wb") as f:
            f.writelines(lines)
        ids = tuple(d for n in range(seg.first, seg.last + 1) for d in self.refs.get(n, []))
        return Outgoing(seg.first, seg.last, path, os.path.getsize(path), ids,
                        1000.0 + seg.first, 1000.0 + seg.last)

    async def done_with(self, path):
        if os.path.exists(path):
            os.unlink(path)

    async def unit(self, data_id):
        blob = self.units.get(data_id)
        return None if blob is None else FakeUnit(blob)

    async def checkpoint(self):
        return self.sealed_to

    async def checkpoint_lsn(self):
        return self.sealed_to

    async def checkpoint_file(self):
        path = os.path.join(self.data_folder, "ckpt")
        with open(path, "wb") as f:
            f.write(b"index at %d" % self.sealed_to)
        return self.sealed_to, path

    async def checkpoint_ids(self, path):
        for d in []:
            yield d

    async def reap(self, hwm):
        return 0


def _shipper(remote, local, **kw):
    return Shipper(remote, local, TIER, interval=0.01, **kw)


def test_takeover_inside_a_segment_cuts_it(service, bucket, tmp_path):
    config = service.config(bucket, prefix="take/")

    async def go():
        async with Remote(config) as remote:
            # Generation 1 shipped records 1..6 in two segments, a checkpoint at 0 and at 6.
            old = FakeLog(str(tmp_path / "old"), end=6, sealed_to=0)
            s = _shipper(remote, old)
            assert await s.run_once() == "idle" and s.hwm == 0     # created at 0
            old.end = old.sealed_to = 6
            assert await s.run_once() in ("idle", "busy")
            assert s.hwm == 6
            m = s.manifests.current
            assert [(x.first, x.last) for x in m.segments] == [(1, 3), (4, 6)]
            # A restore to 5 (inside 4..6) takes over as generation 2.
            new = FakeLog(str(tmp_path / "new"), end=5, sealed_to=5)
            new.start = 5
            localstate.write_json(os.path.join(localstate.folder(new.data_folder),
                                               localstate.RESTORED), {"lsn": 5, "generation": 1})
            t = _shipper(remote, new)
            assert await t.run_once() == "idle"
            m = t.manifests.current
            assert (m.generation, m.hwm) == (2, 5)
            assert [(x.gen, x.first, x.last) for x in m.segments] == [(1, 1, 3), (1, 4, 5)]
            cut = m.segments[-1]
            assert cut.key == "log/00000001/00000000000000000004-00000000000000000005.seg"
            body = await remote.get_bytes(cut.key)
            assert [journal.decode_record(x)[0] for x in body.splitlines(keepends=True)
                    if journal.decode_record(x)] == [4, 5]
            assert (cut.first_time, cut.last_time) == (1004.0, 1005.0)
            assert [c.lsn for c in m.checkpoints] == [0]
            assert m.generations[-1].gen == 2 and m.generations[-1].from_lsn == 6
            # The old writer is fenced at its next write.
            old.end = old.sealed_to = 9
            assert await s.run_once() == "done" and "stale" in s.fenced
            assert (await remote.get_bytes("manifest.json")) == m.to_json()
    run(go)


def test_I4_a_local_gap_is_never_shipped_over(service, bucket, tmp_path):
    async def go():
        async with Remote(service.config(bucket, prefix="gap/")) as remote:
            local = FakeLog(str(tmp_path / "l"), end=3, sealed_to=3)
            s = _shipper(remote, local)
            await s.run_once()
            hwm = s.hwm
            local.start = hwm + 2          # segments after the mark were lost locally
            local.end = local.sealed_to = hwm + 8
            assert await s.run_once() == "paused"
            assert "does not continue" in s.last_error and s.hwm == hwm
            assert Manifest.from_json(await remote.get_bytes("manifest.json")).hwm == hwm
    run(go)


def test_I3_a_missing_local_unit_holds_its_segment_back(service, bucket, tmp_path):
    async def go():
        async with Remote(service.config(bucket, prefix="unit/")) as remote:
            local = FakeLog(str(tmp_path / "l"), end=0, sealed_to=0,
                            units={"u-ok": b"bytes"}, refs={2: ["u-ok"], 5: ["u-missing"]})
            s = _shipper(remote, local)
            await s.run_once()
            local.end = local.sealed_to = 6
            assert await s.run_once() == "paused"
            assert s.hwm == 3 and "u-missing" in s.last_error     # 1..3 went, 4..6 waits
            assert "data/u-missing" in s.failing
            assert await remote.head("data/u-ok") is not None
            m = Manifest.from_json(await remote.get_bytes("manifest.json"))
            assert m.hwm == 3 and not m.problem()
            local.units["u-missing"] = b"found again"
            s._pause_until = 0
            assert await s.run_once() == "idle" and s.hwm == 6
    run(go)


def test_I1_the_hwm_never_passes_the_local_log_end(service, bucket, tmp_path):
    """Only sealed segments are shipped, and a restart whose local log ends before the
    tier's mark (the folder lost records) refuses to ship at all."""
    async def go():
        async with Remote(service.config(bucket, prefix="i1/")) as remote:
            local = FakeLog(str(tmp_path / "l"), end=5, sealed_to=3)
            s = _shipper(remote, local, )
            s.interval = 3600                 # no time seal in this test
            await s.run_once()
            assert s.hwm <= 3 <= local.end
            await s.run_once()
            assert s.hwm == 3
            local.end = 2                      # the folder lost records since
            again = _shipper(remote, local)
            assert await again.run_once() == "done"
            assert "lost acknowledged records" in again.fenced
    run(go)


def test_manifest_layout_round_trips():
    m = Manifest(3, "w", 7, (SegmentEntry(2, 5, 7, "log/x", 10, 1.0, 2.0),),
                 (CheckpointEntry(4, 2, "checkpoints/y", 5, 3.0),),
                 (GenerationEntry(1, 1, 0.5), GenerationEntry(3, 5, 4.0)), 9.0)
    assert Manifest.from_json(m.to_json()) == m
    assert m.log_start() == 4 and m.newest_checkpoint().lsn == 4
