"""The data of a restore: every data unit the restored index references, fetched from the
remote's `data/<data id>` and written into the local store under the same id (the fetching
and its checks are bg/tierunits.py's, shared with the follower).

Which units: every part of every version with data (current and noncurrent; inline versions
and delete markers have none) but the parts a lifecycle transition moved to the tier (they
stay there, read through; a RestoreObject copy is not restored either), the manifest unit of
a multipart object written on drives, and every part of every open upload: what
`MetaStore.all_data_ids` lists. Memory stays bounded: units come from a cursor over the
index (never a list of every unit).
"""
import sqlite3

from ...bg.tierunits import (Fetcher, Unit, part_unit, stored_form,  # noqa: F401
                             version_units)
from ...meta.records import ObjectVersion, Part, Upload
from ...meta.sqlite_tx import OBJ_COLS


def iter_units(db_path: str, describing: bool):
    """Every unit the index at `db_path` references. A blocking generator: pull it from a
    worker thread (its connection may move between threads)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)
    try:
        for table in ("objects", "versions"):
            for row in db.execute(f"SELECT {OBJ_COLS} FROM {table} WHERE inline IS NULL"):
                yield from version_units(ObjectVersion.from_row(*row), describing)
        uploads: dict[str, Upload | None] = {}
        for row in db.execute("SELECT p.upload_id, p.part_number, p.data_id, p.size, p.etag, "
                              "p.mtime, p.checksum, p.compression, p.stored_size, u.record "
                              "FROM parts p LEFT JOIN uploads u USING (upload_id) "
                              "ORDER BY p.upload_id, p.part_number"):
            part = Part(*row[:9])
            if part.upload_id not in uploads:
                uploads.clear()           # ordered by upload: one at a time is enough
                uploads[part.upload_id] = Upload.from_json(row[9]) if row[9] else None
            yield part_unit(part, uploads[part.upload_id], describing)
    finally:
        db.close()


def totals(db_path: str) -> tuple[int, int]:
    """(units, bytes) the index references (manifest units count as units only)."""
    n = total = 0
    for unit in iter_units(db_path, describing=False):
        n += 1
        total += unit.size or 0
    return n, total
