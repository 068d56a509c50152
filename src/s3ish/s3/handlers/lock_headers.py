"""Object lock headers: the retention and legal hold a write asks for
(x-amz-object-lock-mode, -retain-until-date, -legal-hold, on PutObject, CopyObject,
CreateMultipartUpload and PostObject fields), the ones a GET/HEAD answers, and
x-amz-bypass-governance-retention."""
import datetime as _dt

from ...engine.objectlock import MODES
from ...util.clock import UTC, from_ts, iso
from .. import errors

MODE = "x-amz-object-lock-mode"
UNTIL = "x-amz-object-lock-retain-until-date"
LEGAL_HOLD = "x-amz-object-lock-legal-hold"
BYPASS = "x-amz-bypass-governance-retention"


def parse_iso_date(text: str) -> float | None:
    """Epoch seconds of an ISO 8601 date-time (no zone: UTC), or None if it is not one."""
    try:
        dt = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def lock_fields(headers: dict) -> dict:
    """PutSpec's lock_mode, lock_until and legal_hold from a write's headers (or form
    fields), checked as S3 checks them."""
    mode, until, hold = headers.get(MODE), headers.get(UNTIL), headers.get(LEGAL_HOLD)
    fields = {"lock_mode": "", "lock_until": 0.0, "legal_hold": None}
    if (mode is None) != (until is None):
        raise errors.InvalidArgument(f"{UNTIL} and {MODE} must both be supplied.",
                                     ArgumentName=UNTIL if until is None else MODE)
    if mode is not None:
        if mode not in MODES:
            raise errors.InvalidArgument("Unknown wormMode directive.", ArgumentName=MODE,
                                         ArgumentValue=mode)
        ts = parse_iso_date(until)
        if ts is None:
            raise errors.InvalidArgument("The retain until date must be provided in ISO 8601 "
                                         "format", ArgumentName=UNTIL, ArgumentValue=until)
        fields["lock_mode"], fields["lock_until"] = mode, ts
    if hold is not None:
        if hold not in ("ON", "OFF"):
            raise errors.InvalidArgument("Legal Hold must be either of 'ON' or 'OFF'",
                                         ArgumentName=LEGAL_HOLD, ArgumentValue=hold)
        fields["legal_hold"] = hold == "ON"
    return fields


def lock_response_headers(v) -> list[tuple[str, str]]:
    """What GET/HEAD say about a version's retention and legal hold (only what was set)."""
    h = []
    if v.lock_mode:
        h += [("x-amz-object-lock-mode", v.lock_mode), (UNTIL, iso(from_ts(v.lock_until)))]
    if v.legal_hold is not None:
        h.append((LEGAL_HOLD, "ON" if v.legal_hold else "OFF"))
    return h


def bypass_governance(headers: dict) -> bool:
    return headers.get(BYPASS, "").strip().lower() == "true"
