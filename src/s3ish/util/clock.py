"""Time formats S3 uses: ISO-8601 in XML, RFC 1123 in headers, compact in SigV4."""
import datetime as _dt
from email.utils import parsedate_to_datetime

UTC = _dt.timezone.utc


def now() -> _dt.datetime:
    return _dt.datetime.now(UTC)


def from_ts(ts: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ts, UTC)


def iso(dt: _dt.datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
           "Dec")


def http_date(dt: _dt.datetime) -> str:
    """RFC 1123 (`Sun, 06 Nov 1994 08:49:37 GMT`), locale-independent and cheap."""
    t = dt.astimezone(UTC)
    return (f"{_DAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month]} {t.year} "
            f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} GMT")


def parse_http_date(value: str) -> _dt.datetime | None:
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):   # e.g. a 20-digit year
        return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def parse_amz_date(value: str) -> _dt.datetime | None:
    """Parse `20130524T000000Z` (SigV4) into an aware datetime."""
    try:
        return _dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def parse_iso(value: str) -> _dt.datetime | None:
    """An ISO-8601 timestamp as S3 documents carry them (`2026-12-07T03:40:00.000Z`); a value
    without a zone is UTC."""
    try:
        dt = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
