"""The rules of key rotation's records (ResealDataKeys, ResealPartKey), over rules.Tx: a
wrapped data key is replaced by the same data key wrapped under its KMS key's newest version.

Compare-and-swap: a unit's `sse_key` is replaced only while it still holds the text the
reseal pass read (`old`), so a version overwritten, deleted or resealed by another pass since
then is left as it is and the record does nothing. Nothing but `sse_key` ever changes: not the
data, its size or ETag, not the version's place among the key's versions. A replayed record
finds the same rows and does the same thing, and a record applied twice changes nothing the
second time (the key is no longer `old`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import records as r

if TYPE_CHECKING:
    from .rules import Tx


def _swap(unit, k: r.ResealedKey) -> bool:
    """Replace `unit`'s wrapped key (a DataPart or a Part) if it is still `k.old`."""
    if not (k.old and k.new) or unit.data_id != k.data_id or unit.sse_key != k.old:
        return False
    unit.sse_key = k.new
    return True


def reseal_data_keys(tx: Tx, m: r.ResealDataKeys) -> r.Outcome:
    v = tx.version(m.bucket, m.key, m.version_id)
    if v is None or v.delete_marker:
        return r.Outcome()
    wanted = {k.data_id: k for k in m.keys}
    changed = sum(_swap(p, wanted[p.data_id]) for p in v.parts if p.data_id in wanted)
    k = wanted.get(r.ResealedKey.INLINE)
    if k is not None and k.old and k.new and v.inline_key == k.old:
        v.inline_key = k.new         # the sealed bytes in the record keep their data key
        changed += 1
    if changed:
        cur = tx.current(m.bucket, m.key)
        tx.update_version(v, cur is not None and cur.version_id == v.version_id)
    return r.Outcome([], v.version_id, changed=changed)


def reseal_part_key(tx: Tx, m: r.ResealPartKey) -> r.Outcome:
    p = tx.part(m.upload_id, m.part_number)
    if p is None or not _swap(p, m.unit):
        return r.Outcome()
    tx.put_part(p)          # the same data id: nothing is freed
    return r.Outcome(changed=1)


RULES = {r.ResealDataKeys: reseal_data_keys, r.ResealPartKey: reseal_part_key}
