"""What a lifecycle rule selects and how its days count: shared by engine/lifecycle.py (the
rules and expiration) and engine/tiering.py (transitions), which both import it."""
import math

from ..meta.bucketconf import LifecycleRule

DAY = 86400
# The storage classes a Transition may name (and --tier-storage-class may be).
TRANSITION_CLASSES = {"GLACIER", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
                      "DEEP_ARCHIVE", "GLACIER_IR"}


def matches(rule: LifecycleRule, key: str, size: int, tags: dict) -> bool:
    """Does the (enabled) rule select this version (prefix, tags, size)?"""
    f = rule.filter
    if rule.status != "Enabled":
        return False
    if f.prefix and not key.startswith(f.prefix):
        return False
    if any(tags.get(k) != v for k, v in f.tags.items()):
        return False
    if f.size_greater_than is not None and not size > f.size_greater_than:
        return False
    if f.size_less_than is not None and not size < f.size_less_than:
        return False
    return True


def after_days(start: float, days: int, day: float) -> float:
    """`days` lifecycle days after `start`: rounded up to the next midnight UTC with real
    days, exact with a debug day length."""
    if day == DAY:
        return math.ceil((start + days * DAY) / DAY) * DAY
    return start + days * day
