"""Lifecycle transitions to the cold tier and RestoreObject, in the engine: when a rule moves a
version (what engine/lifecycle.py's plan asks of the worker), the records that say it moved or
was restored (meta/tier_rules.py), and the `x-amz-restore` header. No HTTP and no remote here:
bg/transition.py moves the bytes, engine/cold.py reads them back.

Which rules act: Transition and NoncurrentVersionTransition rules whose StorageClass is the
server's `--tier-storage-class` (default GLACIER_IR), and only with a cold tier configured;
rules naming another class are stored and shown but move nothing. As S3 does by default
(`x-amz-transition-default-minimum-object-size: all_storage_classes_128K`), objects under
128 KiB are not transitioned unless the rule has an object size filter. A small object kept
in its metadata record (no data unit) only changes storage class: its bytes stay in the record.

Days count as for expiration (engine/lifecycle.py): from the version's time (or, noncurrent,
from its successor's), rounded up to midnight UTC, exact with a debug day length. A restored
copy is kept `Days` days from when it is complete (from the request if it was already there).
"""
import datetime as dt
import time

from ..meta import records as r
from ..meta.bucketconf import LifecycleRule
from . import errors
from .lifecycle_match import after_days, matches

MIN_TRANSITION_SIZE = 128 * 1024
MAX_RESTORE_DAYS = 2147483647     # RestoreRequest Days is an Integer in S3's model


class InvalidRestoreDays(errors.DomainError):
    """RestoreRequest Days that is not a positive integer (S3: 400 InvalidArgument)."""


class TierNotConfigured(errors.DomainError):
    """A restore of data in a cold tier this server was started without."""

    def __str__(self) -> str:
        return "the object's data is in a cold tier this server was started without"


# ---- when a rule moves a version ----

def _selects(rule: LifecycleRule, v: r.ObjectVersion, tier_class: str) -> bool:
    """The enabled rule's filter selects `v` (as lifecycle.matches) and the 128 KiB default
    minimum lets it move."""
    f = rule.filter
    if v.delete_marker or v.in_tier(tier_class) or not matches(rule, v.key, v.size, v.tags):
        return False
    sized = f.size_greater_than is not None or f.size_less_than is not None
    return sized or v.size >= MIN_TRANSITION_SIZE


def transition_due(rules: list[LifecycleRule], v: r.ObjectVersion, day: float,
                   tier_class: str) -> tuple[float, str] | None:
    """(when, rule id) the current version `v` moves to the tier, or None."""
    best = None
    for rule in rules:
        if not _selects(rule, v, tier_class):
            continue
        for t in rule.transitions:
            if t.storage_class != tier_class:
                continue
            due = t.date if t.date is not None else after_days(v.mtime, t.days, day)
            if best is None or due < best[0]:
                best = (due, rule.id)
    return best


def noncurrent_transition_due(rules: list[LifecycleRule], v: r.ObjectVersion, since: float,
                              rank: int, day: float, tier_class: str
                              ) -> tuple[float, str] | None:
    """(when, rule id) the noncurrent version `v` (noncurrent since `since`, `rank` newer
    noncurrent versions) moves to the tier, or None."""
    best = None
    for rule in rules:
        if not _selects(rule, v, tier_class):
            continue
        for t in rule.noncurrent_transitions:
            if t.storage_class != tier_class or (t.newer_noncurrent_versions is not None
                                                 and rank < t.newer_noncurrent_versions):
                continue
            due = after_days(since, t.days, day)
            if best is None or due < best[0]:
                best = (due, rule.id)
    return best


# ---- restores ----

def restore_work(v: r.ObjectVersion, now: float) -> tuple[str | None, float | None]:
    """What a version's restore needs now: ("restore", None) its copies fetched,
    ("unrestore", None) its copies freed, (None, when) a look at `when`, or (None, None)."""
    if v.delete_marker:
        return None, None
    if v.restore_days:
        return "restore", None
    if v.restore_expiry:
        return ("unrestore", None) if v.restore_expiry <= now else (None, v.restore_expiry)
    return None, None


def restore_header(v: r.ObjectVersion, now: float | None = None) -> str | None:
    """`x-amz-restore` of a version: a restore in progress, or copies kept until a date."""
    if v.restore_days:
        return 'ongoing-request="true"'
    if v.restore_expiry > (time.time() if now is None else now):
        when = dt.datetime.fromtimestamp(v.restore_expiry, dt.timezone.utc)
        return ('ongoing-request="false", '
                f'expiry-date="{when.strftime("%a, %d %b %Y %H:%M:%S GMT")}"')
    return None


def check_days(days: int) -> None:
    if not 1 <= days <= MAX_RESTORE_DAYS:
        raise InvalidRestoreDays(str(days))


# ---- the records ----

async def restore_object(engine, bucket: str, key: str, version_id: str | None,
                         days: int) -> tuple[r.ObjectVersion, bool]:
    """RestoreObject: (the version, whether a restore began (202) rather than the expiry
    of copies already here moved (200))."""
    check_days(days)
    v = await engine.head_object(bucket, key, version_id)
    if engine.cold is None and any(p.remote for p in v.parts):
        raise TierNotConfigured(f"{bucket}/{key}")
    now = time.time()
    out = await engine.meta.apply(r.RequestRestore(
        bucket, key, v.version_id, engine.tier_class, days,
        after_days(now, days, engine.lifecycle_day), now))
    return v, bool(out.changed)


async def transition(engine, v: r.ObjectVersion, storage_class: str) -> bool:
    """Record that `v`'s units are in the tier (the caller confirmed each there), then free
    the local copies. False if `v` changed meanwhile (nothing happened)."""
    out = await engine.commit(r.TransitionVersion(
        v.bucket, v.key, v.version_id, storage_class, [p.data_id for p in v.parts], v.etag,
        v.mtime), [])
    return bool(out.changed)


async def complete_restore(engine, v: r.ObjectVersion, copies: dict[str, str],
                           expiry: float) -> bool:
    """Record the local copies of `v`'s remote units (written and committed by the caller);
    if the restore is no longer wanted they are freed."""
    out = await engine.commit(r.CompleteRestore(v.bucket, v.key, v.version_id, copies,
                                                expiry), list(copies.values()))
    return bool(out.changed)


async def expire_restore(engine, v: r.ObjectVersion, now: float) -> bool:
    out = await engine.commit(r.ExpireRestore(v.bucket, v.key, v.version_id, now), [])
    return bool(out.changed)
