"""Drive space for s3ish_drive_total_bytes / s3ish_drive_free_bytes: each store reports the
filesystem of each drive it writes to; a drive whose folder is gone is left out (a zero
would read as a full disk: s3ish_drive_ok says it is gone)."""
import os
import shutil

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from s3ish.obs.metrics import ScrapeCollector
from s3ish.storage.datastore import FolderDataStore, MemoryDataStore
from s3ish.storage.drives import DriveSet, disk_space
from s3ish.storage.erasure import make_codec
from s3ish.storage.erasure_store import ErasureDataStore


def _statvfs(path):
    st = os.statvfs(path)
    return st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize


def test_disk_space_is_statvfs_and_none_for_a_missing_folder(tmp_path):
    total, free = disk_space(str(tmp_path))
    want_total, want_free = _statvfs(str(tmp_path))
    assert total == want_total and 0 < free <= total
    assert abs(free - want_free) < 256 * 1024 * 1024
    assert disk_space(str(tmp_path / "not-there")) is None


def test_each_store_reports_its_drives(tmp_path):
    folder = FolderDataStore(str(tmp_path / "one"))
    [(path, total, free)] = folder.space()
    assert path == str(tmp_path / "one") and total == _statvfs(path)[0] and free > 0
    assert MemoryDataStore().space() == []
    drives = [str(tmp_path / f"d{i}") for i in range(1, 5)]
    drive_set = DriveSet(drives, 2, 2)
    drive_set.open(create_missing=True)
    store = ErasureDataStore(drive_set, make_codec(2, 2))
    assert [s[0] for s in store.space()] == drives
    shutil.rmtree(drives[2])                    # the disk is gone: no line for it
    assert [s[0] for s in store.space()] == [drives[0], drives[1], drives[3]]


def test_scrape_collector_exposition():
    registry = CollectorRegistry()
    registry.register(ScrapeCollector([("/d1", 1000, 250), ("/d2", 2000, 0)], ready=False))
    families = {f.name: f for f in text_string_to_metric_families(
        generate_latest(registry).decode())}
    free = {s.labels["drive"]: s.value for s in families["s3ish_drive_free_bytes"].samples}
    total = {s.labels["drive"]: s.value for s in families["s3ish_drive_total_bytes"].samples}
    assert free == {"/d1": 250, "/d2": 0} and total == {"/d1": 1000, "/d2": 2000}
    assert families["s3ish_ready"].samples[0].value == 0
    registry = CollectorRegistry()
    registry.register(ScrapeCollector([], ready=None))     # nothing known: nothing said
    assert "s3ish_ready" not in generate_latest(registry).decode()
