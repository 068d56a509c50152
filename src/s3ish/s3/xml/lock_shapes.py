"""Object lock request and response shapes (names and fields as in botocore's S3 model):
ObjectLockConfiguration, Retention (ObjectLockRetention) and LegalHold."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass


@dataclass
class DefaultRetention:
    Mode: str | None = None
    Days: int | None = None
    Years: int | None = None


@dataclass
class ObjectLockRule:
    DefaultRetention: DefaultRetention | None = None


@dataclass
class ObjectLockConfiguration:
    ObjectLockEnabled: str | None = None
    Rule: ObjectLockRule | None = None      # the element is named <Rule>


@dataclass
class Retention:
    Mode: str | None = None
    # Decoded as the client's text (parsed by the handler), encoded from a datetime.
    RetainUntilDate: str | _dt.datetime | None = None


@dataclass
class LegalHold:
    Status: str | None = None
