"""Lifecycle rules: what a configuration may say (validation, with the errors S3 answers) and
what it means (which versions a rule selects, when an action falls due). No HTTP here; the
S3 front end turns documents into `LifecycleRule` records, the background worker
(bg/lifecycle.py) acts on what falls due. Transitions to the cold tier are planned here with
engine/tiering.py, which says which of them act (the server's tier storage class only).

Days: S3 counts a rule's days from the object's time (or, for noncurrent versions, from when
its successor was written) and rounds up to the next midnight UTC. With a debug day length
(`--lifecycle-day-seconds N`, N != 86400, as Ceph's rgw_lc_debug_interval) a day is N seconds
and nothing is rounded. The `x-amz-expiration` header always shows calendar days, as S3 and
Ceph do.
"""
import base64
import datetime as dt
import os
from dataclasses import dataclass, field

from ..meta.bucketconf import LifecycleFilter, LifecycleRule
from ..meta.errors import DomainError
from ..meta.records import ObjectVersion
from . import tiering
from .lifecycle_match import (  # noqa: F401  (re-exported)
    DAY, TRANSITION_CLASSES, after_days, matches)

MAX_RULES = 1000
MAX_ID = 255
MAX_NEWER_NONCURRENT = 100
MALFORMED = ("The XML you provided was not well-formed or did not validate against our "
             "published schema")


class LifecycleConfigError(DomainError):
    """A configuration S3 refuses: `code` is the S3 error code (MalformedXML,
    InvalidArgument, InvalidRequest), with AWS's message and argument."""

    def __init__(self, code: str, message: str = MALFORMED, argument: str | None = None,
                 value: str | None = None):
        super().__init__(message)
        self.code, self.message, self.argument, self.value = code, message, argument, value


def malformed() -> LifecycleConfigError:
    return LifecycleConfigError("MalformedXML")


def _invalid_argument(message: str, argument: str | None = None, value=None):
    return LifecycleConfigError("InvalidArgument", message, argument,
                                None if value is None else str(value))


def _invalid_request(message: str):
    return LifecycleConfigError("InvalidRequest", message)


# ---- validation ----

def validate(rules: list[LifecycleRule]) -> list[LifecycleRule]:
    """Check a whole configuration as S3 does; rules without an ID get a generated one.
    Returns the rules to store, or raises LifecycleConfigError."""
    if not rules or len(rules) > MAX_RULES:
        raise malformed()
    seen = set()
    for rule in rules:
        if len(rule.id) > MAX_ID:
            raise _invalid_argument("ID length should not exceed allowed limit of 255", "ID",
                                    rule.id)
        if not rule.id:
            rule.id = base64.b64encode(os.urandom(36)).decode()
        if rule.id in seen:
            raise _invalid_argument("Rule ID must be unique. Found same ID for more than one "
                                    "rule", "ID", rule.id)
        seen.add(rule.id)
        _validate_rule(rule)
    return rules


def _validate_rule(rule: LifecycleRule) -> None:
    if rule.status not in ("Enabled", "Disabled"):
        raise malformed()
    _validate_filter(rule.filter)
    actions = (rule.expiration_days, rule.expiration_date, rule.expired_object_delete_marker,
               rule.noncurrent_days, rule.newer_noncurrent_versions,
               rule.abort_incomplete_days)
    if all(a is None for a in actions) and not rule.transitions \
            and not rule.noncurrent_transitions:
        raise _invalid_request("At least one action needs to be specified in a rule")
    _validate_expiration(rule)
    if rule.noncurrent_days is not None or rule.newer_noncurrent_versions is not None:
        if rule.noncurrent_days is None:
            raise malformed()
        if rule.noncurrent_days <= 0:
            raise _invalid_argument("'NoncurrentDays' for NoncurrentVersionExpiration action "
                                    "must be a positive integer")
        _check_newer(rule.newer_noncurrent_versions, "NoncurrentVersionExpiration")
    if rule.abort_incomplete_days is not None:
        if rule.filter.tags:
            raise _invalid_request("AbortIncompleteMultipartUpload cannot be specified with "
                                   "Tags.")
        if rule.abort_incomplete_days <= 0:
            raise _invalid_argument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload "
                                    "action must be a positive integer")
    _validate_transitions(rule)


def _check_newer(n: int | None, action: str) -> None:
    if n is not None and not 1 <= n <= MAX_NEWER_NONCURRENT:
        raise _invalid_argument(f"'NewerNoncurrentVersions' for {action} action must be a "
                                f"positive integer up to {MAX_NEWER_NONCURRENT}")


def _validate_filter(f: LifecycleFilter) -> None:
    if f.prefix is not None and len(f.prefix.encode()) > 1024:
        raise _invalid_argument("The maximum size of a prefix is 1024.", "Prefix")
    for size in (f.size_greater_than, f.size_less_than):
        if size is not None and size < 0:
            raise _invalid_argument("Object size must be a non-negative number",
                                    "ObjectSize", size)
    if f.size_greater_than is not None and f.size_less_than is not None \
            and f.size_greater_than >= f.size_less_than:
        raise _invalid_argument("ObjectSizeGreaterThan must be less than "
                                "ObjectSizeLessThan", "ObjectSizeGreaterThan",
                                f.size_greater_than)
    for k, v in f.tags.items():
        if not k or len(k) > 128:
            raise _invalid_request("The TagKey you have provided is invalid")
        if len(v) > 256:
            raise _invalid_request("The TagValue you have provided is invalid")


def _validate_expiration(rule: LifecycleRule) -> None:
    given = [x for x in (rule.expiration_days, rule.expiration_date,
                         rule.expired_object_delete_marker) if x is not None]
    if len(given) > 1:
        raise malformed()
    if rule.expiration_days is not None and rule.expiration_days <= 0:
        raise _invalid_argument("'Days' for Expiration action must be a positive integer")
    if rule.expiration_date is not None and rule.expiration_date % DAY:
        raise _invalid_argument("'Date' must be at midnight GMT", "Date")
    if rule.expired_object_delete_marker is not None and rule.filter.tags:
        raise _invalid_request("ExpiredObjectDeleteMarker cannot be specified with Tags.")


def _validate_transitions(rule: LifecycleRule) -> None:
    classes, kinds = set(), set()
    for t in rule.transitions:
        if (t.days is None) == (t.date is None) or t.storage_class not in TRANSITION_CLASSES:
            raise malformed()
        if t.days is not None and t.days < 0:
            raise _invalid_argument("'Days' in Transition action must be nonnegative")
        if t.date is not None and t.date % DAY:
            raise _invalid_argument("'Date' must be at midnight GMT", "Date")
        kinds.add("days" if t.days is not None else "date")
        _unique_class(classes, t.storage_class, "Transition")
    if len(kinds) > 1:
        raise _invalid_request("Found mixed 'Date' and 'Days' based Transition actions in "
                               "lifecycle rule")
    if kinds and (rule.expiration_days is not None and kinds == {"date"}
                  or rule.expiration_date is not None and kinds == {"days"}):
        raise _invalid_request("Found mixed 'Date' and 'Days' based Expiration and "
                               "Transition actions in lifecycle rule")
    _transitions_before_expiration(rule)
    classes = set()
    for t in rule.noncurrent_transitions:
        if t.days is None or t.storage_class not in TRANSITION_CLASSES:
            raise malformed()
        if t.days < 0:
            raise _invalid_argument("'NoncurrentDays' in NoncurrentVersionTransition action "
                                    "must be nonnegative")
        _check_newer(t.newer_noncurrent_versions, "NoncurrentVersionTransition")
        _unique_class(classes, t.storage_class, "NoncurrentVersionTransition")
        if rule.noncurrent_days is not None and t.days >= rule.noncurrent_days:
            raise _invalid_argument("'NoncurrentDays' in NoncurrentVersionExpiration action "
                                    "must be greater than 'NoncurrentDays' in "
                                    "NoncurrentVersionTransition action")


def _unique_class(seen: set, storage_class: str, action: str) -> None:
    if storage_class in seen:
        raise _invalid_request(f"'StorageClass' must be different for '{action}' actions in "
                               "same 'Rule'")
    seen.add(storage_class)


def _transitions_before_expiration(rule: LifecycleRule) -> None:
    for t in rule.transitions:
        if rule.expiration_days is not None and t.days is not None \
                and t.days >= rule.expiration_days:
            raise _invalid_argument("'Days' in the Expiration action must be greater than "
                                    "'Days' in the Transition action")
        if rule.expiration_date is not None and t.date is not None \
                and t.date >= rule.expiration_date:
            raise _invalid_argument("'Date' in the Expiration action must be later than "
                                    "'Date' in the Transition action")


def parse_date(text: str) -> float:
    """An ISO 8601 date or date-time (as S3 accepts in Date elements) -> epoch seconds.
    Anything else is MalformedXML."""
    text = text.strip()
    try:
        if "T" in text:
            d = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            if len(text) != 10:
                raise ValueError(text)
            d = dt.datetime.fromisoformat(text + "T00:00:00+00:00")
    except ValueError:
        raise malformed() from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    return d.timestamp()


# ---- meaning ----

def expiration_due(rule: LifecycleRule, mtime: float, day: float) -> float | None:
    """When the rule expires a current version written at `mtime` (None: it does not)."""
    if rule.expiration_date is not None:
        return rule.expiration_date
    if rule.expiration_days is not None:
        return after_days(mtime, rule.expiration_days, day)
    return None


def expiration_header(rules: list[LifecycleRule], key: str, size: int, tags: dict,
                      mtime: float) -> str | None:
    """The `x-amz-expiration` value for a current version: the earliest expiration among the
    rules that select it, in calendar days."""
    best = None
    for rule in rules:
        if not matches(rule, key, size, tags):
            continue
        due = expiration_due(rule, mtime, DAY)
        if due is not None and (best is None or due < best[0]):
            best = (due, rule.id)
    if best is None:
        return None
    when = dt.datetime.fromtimestamp(best[0], dt.timezone.utc)
    return f'expiry-date="{when.strftime("%a, %d %b %Y %H:%M:%S GMT")}", rule-id="{best[1]}"'


def has_actions(rules: list[LifecycleRule]) -> bool:
    """Whether any rule could ever act (the worker skips buckets without)."""
    return any(r.status == "Enabled" for r in rules)


# ---- what the worker does to one key ----

@dataclass
class Action:
    # "expire" (the current version: delete the key), "remove" (that version for good),
    # "transition" (move its data to the cold tier), "restore" (fetch its restored copies),
    # "unrestore" (free them: their time is up)
    kind: str
    version: ObjectVersion
    rule_id: str               # "" for restores: asked by RestoreObject, not a rule


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    next_due: float | None = None     # when to look at the key again (None: never)

    def later(self, when: float) -> None:
        self.next_due = when if self.next_due is None else min(self.next_due, when)


def plan_key(rules: list[LifecycleRule], current: ObjectVersion | None,
             noncurrent: list[ObjectVersion], now: float, day: float,
             tier_class: str | None = None) -> Plan:
    """What the rules do to one key now: `current` is its current version (a delete marker
    perhaps), `noncurrent` its other versions, newest first. Versions under object lock are
    not expired (they are looked at again when their retention ends); they may move to the
    cold tier. `tier_class`: the storage class whose transitions act (None: no cold tier).
    A version's restored copies are fetched and freed on time whatever the rules say."""
    plan = _plan_rules([r for r in rules if r.status == "Enabled"], current, noncurrent,
                       now, day, tier_class)
    acted = {id(a.version) for a in plan.actions}
    for v in ([current] if current is not None else []) + noncurrent:
        kind, later = tiering.restore_work(v, now)
        if id(v) in acted:
            continue
        if kind is not None:
            plan.actions.append(Action(kind, v, ""))
        elif later is not None:
            plan.later(later)
    return plan


def _plan_rules(rules, current: ObjectVersion | None, noncurrent: list[ObjectVersion],
                now: float, day: float, tier_class: str | None) -> Plan:
    plan = Plan()
    if current is not None and not current.delete_marker:
        _plan_current(plan, rules, current, now, day, tier_class)
        if any(a.kind == "expire" for a in plan.actions):
            return plan    # the key changes: the hooks schedule it again
    kept = 0
    successor = current
    for rank, v in enumerate(noncurrent):
        since = successor.mtime if successor is not None else v.mtime
        successor = v
        due, rule_id = _noncurrent_due(rules, v, since, rank, day)
        if due is not None and due <= now and not _locked(plan, v, now, day):
            plan.actions.append(Action("remove", v, rule_id))
            continue
        if due is not None and due > now:
            plan.later(due)
        kept += 1
        if tier_class:
            _act_or_wait(plan, tiering.noncurrent_transition_due(rules, v, since, rank, day,
                                                                 tier_class),
                         now, "transition", v)
    if current is not None and current.delete_marker and not kept:
        _plan_lone_marker(plan, rules, current, now, day)
    return plan


def _plan_current(plan: Plan, rules, v: ObjectVersion, now: float, day: float,
                  tier_class: str | None) -> None:
    best = None
    for rule in rules:
        if matches(rule, v.key, v.size, v.tags):
            due = expiration_due(rule, v.mtime, day)
            if due is not None and (best is None or due < best[0]):
                best = (due, rule.id)
    _act_or_wait(plan, best, now, "expire", v)
    if tier_class and not plan.actions:     # expiration wins over a transition due with it
        _act_or_wait(plan, tiering.transition_due(rules, v, day, tier_class), now,
                     "transition", v)


def _noncurrent_due(rules, v: ObjectVersion, since: float, rank: int,
                    day: float) -> tuple[float | None, str]:
    """When the noncurrent version `v` (noncurrent since `since`, with `rank` noncurrent
    versions newer than it) expires, and by which rule."""
    best: tuple[float | None, str] = (None, "")
    for rule in rules:
        if rule.noncurrent_days is None or not matches(rule, v.key, v.size, v.tags):
            continue
        if rule.newer_noncurrent_versions is not None and \
                rank < rule.newer_noncurrent_versions:
            continue
        due = after_days(since, rule.noncurrent_days, day)
        if best[0] is None or due < best[0]:
            best = (due, rule.id)
    return best


def _plan_lone_marker(plan: Plan, rules, marker: ObjectVersion, now: float,
                      day: float) -> None:
    """A delete marker with no other version left: ExpiredObjectDeleteMarker removes it now,
    an Expiration with days or a date when that falls due (as S3 does)."""
    best = None
    for rule in rules:
        if not matches(rule, marker.key, 0, {}):
            continue
        due = now if rule.expired_object_delete_marker else \
            expiration_due(rule, marker.mtime, day)
        if due is not None and (best is None or due < best[0]):
            best = (due, rule.id)
    _act_or_wait(plan, best, now, "remove", marker)


def _act_or_wait(plan: Plan, best: tuple[float, str] | None, now: float, kind: str,
                 v: ObjectVersion) -> None:
    """`best` is (due time, rule id) of the earliest rule acting on `v`, if any: act now if
    it is due, else look again then."""
    if best is None:
        return
    if best[0] > now:
        plan.later(best[0])
    else:
        plan.actions.append(Action(kind, v, best[1]))


def _locked(plan: Plan, v: ObjectVersion, now: float, day: float) -> bool:
    """A version object lock protects is left alone; look again when that may have ended."""
    why = v.locked(now)
    if not why:
        return False
    plan.later(now + day if why == "legal-hold" else v.lock_until)
    return True


def upload_due(rules: list[LifecycleRule], key: str, initiated: float,
               day: float) -> float | None:
    """When AbortIncompleteMultipartUpload aborts an upload of `key` (None: never)."""
    found = upload_rule(rules, key, initiated, day)
    return None if found is None else found[0]


def upload_rule(rules: list[LifecycleRule], key: str, initiated: float,
                day: float = DAY) -> tuple[float, str] | None:
    """(when, rule id) of the earliest AbortIncompleteMultipartUpload for an upload of `key`
    (calendar days by default: the x-amz-abort-date header)."""
    best = None
    for rule in rules:
        if rule.status != "Enabled" or rule.abort_incomplete_days is None:
            continue
        if rule.filter.prefix and not key.startswith(rule.filter.prefix):
            continue
        due = after_days(initiated, rule.abort_incomplete_days, day)
        if best is None or due < best[0]:
            best = (due, rule.id)
    return best
