"""Object lock rules that are not about HTTP: which retention modes exist, what a bucket's
default retention may say, and what a retention asked for a new or existing version must
satisfy. The store-independent rules that enforce a lock (deletes refused, retention only
extended) live in meta/rules.py; these checks run before anything is written.
"""
from ..meta.bucketconf import ObjectLockConfig
from . import errors

MODES = ("GOVERNANCE", "COMPLIANCE")
# AWS's upper bounds of a default retention (a hundred years either way).
MAX_DAYS = 36500
MAX_YEARS = 100


def default_retention(mode: str | None, days: int | None,
                      years: int | None) -> ObjectLockConfig:
    """A bucket's object lock configuration with the default retention given (mode None:
    none). A default retention names a mode and exactly one of days / years, positive."""
    if mode is None:
        if days is not None or years is not None:
            raise errors.InvalidLockConfiguration("a period without a mode")
        return ObjectLockConfig()
    if mode not in MODES:
        raise errors.InvalidLockConfiguration(f"unknown mode {mode!r}")
    if (days is None) == (years is None):
        raise errors.InvalidLockConfiguration("exactly one of Days and Years is required")
    name, value, limit = ("Days", days, MAX_DAYS) if days is not None else \
        ("Years", years, MAX_YEARS)
    if value <= 0:
        raise errors.InvalidRetentionPeriod(
            "Default retention period must be a positive integer value.", name, value)
    if value > limit:
        raise errors.InvalidRetentionPeriod("Default retention period too large.", name, value)
    return ObjectLockConfig(mode=mode, days=days or 0, years=years or 0)


def check_retention(mode: str, until: float, now: float) -> None:
    """A retention asked for a version (on a write or by PutObjectRetention): a known mode
    (or "" for none) and, with a mode, a retain-until date in the future."""
    if mode and mode not in MODES:
        raise errors.InvalidLockMode(mode)
    if mode and until <= now:
        raise errors.RetainUntilInPast(until)
