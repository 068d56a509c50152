"""Mutation records of the cold tier's object states (meta/tier_rules.py says what each
does): a lifecycle transition moving a version's data units to the tier, and RestoreObject's
temporary local copies of them (requested, completed, expired). Part of records.Mutation."""
from dataclasses import dataclass


@dataclass
class TransitionVersion:
    """A lifecycle transition (meta/tier_rules.py): the version's data units are in the cold
    tier (`data/<data id>`, confirmed there before this record), so they are marked remote,
    its storage class set, and the local copies freed. Applied only to the version planned
    on: its ETag, time and units (`data_ids`, in order, none remote yet) must still be what
    the lifecycle worker read; else (overwritten, deleted, already moved) it does nothing."""
    bucket: str
    key: str
    version_id: str
    storage_class: str
    data_ids: list[str]
    etag: str = ""
    mtime: float = 0.0


@dataclass
class RequestRestore:
    """RestoreObject of a transitioned version (`storage_class` is the tier's): a restore
    begins (its copies are fetched by the lifecycle worker), or restored copies kept until
    `expiry` (`now` + the days asked, worked out by the engine) are kept until then."""
    bucket: str
    key: str
    version_id: str
    storage_class: str
    days: int
    expiry: float
    now: float


@dataclass
class CompleteRestore:
    """The local copies of a version's remote units are written: `copies` maps each remote
    data id to its copy's. Applied only while that restore is in progress and the units are
    those; else the copies are freed."""
    bucket: str
    key: str
    version_id: str
    copies: dict
    expiry: float


@dataclass
class ExpireRestore:
    """Restored copies whose time is up (expiry <= `now`) are freed; the remote units stay."""
    bucket: str
    key: str
    version_id: str
    now: float


TierMutation = TransitionVersion | RequestRestore | CompleteRestore | ExpireRestore
