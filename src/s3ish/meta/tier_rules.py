"""The rules of the cold tier's object records (tier_records.py), over rules.Tx: a lifecycle
transition marking a version's units remote, and RestoreObject's temporary local copies.

Each record names the version it is about and checks, inside the transaction, that it still
is the one its writer read (compare-and-swap): a version overwritten, deleted, already moved
or restored meanwhile is left as it is and the record does nothing (`Outcome.changed` 0). A
write racing a transition therefore always wins, and nothing it keeps is freed. Nothing but
the storage class and the tier fields of the version change: not its data, size, ETag, tags,
lock or ACL, nor its place among the key's versions. Records carry every input they read
(`now`, `expiry`), so a replay does the same thing.

What is freed goes the way of every free (Engine.free_data: the graveyard with a cold tier):
a transition frees the units' local copies (the tier holds them: confirmed before the
record), an expired restore its copies. Remote units are never deleted.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors
from . import records as r

if TYPE_CHECKING:
    from .rules import Tx


class InvalidObjectState(errors.DomainError):
    """RestoreObject of a version that is not in the cold tier's storage class."""


class RestoreAlreadyInProgress(errors.DomainError):
    """RestoreObject while the version's copies are still being fetched."""


def _version(tx: Tx, bucket: str, key: str, version_id: str
             ) -> tuple[r.ObjectVersion | None, bool]:
    v = tx.version(bucket, key, version_id)
    if v is None or v.delete_marker:
        return None, False
    cur = tx.current(bucket, key)
    return v, cur is not None and cur.version_id == v.version_id


def transition_version(tx: Tx, m: r.TransitionVersion) -> r.Outcome:
    v, current = _version(tx, m.bucket, m.key, m.version_id)
    if v is None or v.etag != m.etag or v.mtime != m.mtime or \
            [p.data_id for p in v.parts] != m.data_ids or any(p.remote for p in v.parts):
        return r.Outcome()
    for p in v.parts:
        p.remote = True
    v.storage_class = m.storage_class
    tx.update_version(v, current)
    return r.Outcome(list(m.data_ids), v.version_id, changed=1)


def request_restore(tx: Tx, m: r.RequestRestore) -> r.Outcome:
    v, current = _version(tx, m.bucket, m.key, m.version_id)
    if v is None:
        raise errors.NoSuchVersion(m.version_id)
    if not v.in_tier(m.storage_class):
        raise InvalidObjectState(m.key)
    if v.restore_days:
        raise RestoreAlreadyInProgress(m.key)
    began = v.restore_expiry <= m.now      # none, or kept past their time (not freed yet)
    if v.restore_expiry or not v.parts:
        # Copies already here (or nothing to copy: a small object kept in its record):
        # kept until the new expiry, nothing to fetch.
        v.restore_expiry = m.expiry
        tx.lc_schedule(m.bucket, m.key, "", m.expiry)
    else:
        v.restore_days = m.days
        tx.lc_schedule(m.bucket, m.key, "", m.now)    # the lifecycle worker fetches them
    tx.update_version(v, current)
    return r.Outcome([], v.version_id, changed=int(began))


def complete_restore(tx: Tx, m: r.CompleteRestore) -> r.Outcome:
    v, current = _version(tx, m.bucket, m.key, m.version_id)
    remote = {p.data_id for p in v.parts if p.remote} if v is not None else set()
    if v is None or not v.restore_days or set(m.copies) != remote:
        return r.Outcome(list(m.copies.values()))       # a copy nothing will ever read
    freed = []
    for p in v.parts:
        if p.remote:
            if p.restored:
                freed.append(p.restored)
            p.restored = m.copies[p.data_id]
    v.restore_days, v.restore_expiry = 0, m.expiry
    tx.update_version(v, current)
    tx.lc_schedule(m.bucket, m.key, "", m.expiry)      # the copies are freed then
    return r.Outcome(freed, v.version_id, changed=1)


def expire_restore(tx: Tx, m: r.ExpireRestore) -> r.Outcome:
    v, current = _version(tx, m.bucket, m.key, m.version_id)
    if v is None or not v.restore_expiry or v.restore_expiry > m.now:
        return r.Outcome()
    freed = v.local_copies()
    for p in v.parts:
        p.restored = ""
    v.restore_expiry = 0.0
    tx.update_version(v, current)
    return r.Outcome(freed, v.version_id, changed=1)


RULES = {r.TransitionVersion: transition_version, r.RequestRestore: request_restore,
         r.CompleteRestore: complete_restore, r.ExpireRestore: expire_restore}
