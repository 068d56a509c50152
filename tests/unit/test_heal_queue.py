"""`s3ish admin heal status` counts what the healers hold as the s3ish_heal_queue_depth
gauge does: units reported damaged, plus units a healer took (a drive rebuild takes every
unit at once), summed over the worker processes' published status."""
import asyncio
import json

from s3ish.admin.api import AdminAPI
from s3ish.bg.healer import Healer
from s3ish.bg.scrubber import HealStatus
from s3ish.obs import metrics


class FakeStore:
    def __init__(self, damaged):
        self.damaged = list(damaged)
        self.healed = []

    def take_damaged(self):
        out, self.damaged = self.damaged, []
        return out

    def damaged_count(self):
        return len(self.damaged)

    def heal(self, data_id):
        self.healed.append(data_id)
        return []


def test_heal_status_counts_the_units_a_healer_took(tmp_path):
    store = FakeStore([f"u{i}" for i in range(5)])
    status = HealStatus()
    healer = Healer(store, status)
    asyncio.run(healer.step())
    assert store.healed == ["u4"] and status.heal_taken == 4
    assert metrics.HEAL_QUEUE._value.get() == 4
    store.damaged = ["x", "y"]            # reported since, not taken yet
    # Another worker process published a healer holding 3 units.
    other = HealStatus(heal_taken=3, repaired_shards=1)
    (tmp_path / "heal-status-1.json").write_text(json.dumps(other.to_dict()))
    doc = AdminAPI(store, status, status_dir=str(tmp_path))._heal_status()
    assert doc["heal_queue"] == 4 + 3 + 2 and "heal_taken" not in doc
