"""Identifiers: time-ordered data ids, request ids, upload ids."""
import base64
import os
import time


def data_id() -> str:
    """A unique, time-ordered id for one data unit: 48-bit ms clock + 80 random bits, hex."""
    ms = int(time.time() * 1000) & ((1 << 48) - 1)
    return f"{ms:012x}{os.urandom(10).hex()}"


def is_data_id(text: str) -> bool:
    """`text` has the form data_id() gives (32 lowercase hex digits): safe as a file name."""
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


def request_id() -> str:
    return os.urandom(8).hex().upper()


def host_id() -> str:
    return base64.b64encode(os.urandom(24)).decode()


def upload_id() -> str:
    """Opaque multipart upload id; time-ordered so listings of uploads sort by initiation."""
    return base64.urlsafe_b64encode(bytes.fromhex(data_id()) + os.urandom(8)).decode().rstrip("=")


_NS_MAX = (1 << 64) - 1
_last_version = [0]


def version_id() -> str:
    """A new object version id: 32 hex digits that sort newest first (the inverted
    nanosecond clock, strictly decreasing within a process, then 64 random bits so that
    processes never collide). Opaque to clients; also the version's sort key."""
    ns = max(time.time_ns(), _last_version[0] + 1)
    _last_version[0] = ns
    return f"{_NS_MAX - ns:016x}{os.urandom(8).hex()}"


def version_sort_at(t: float) -> str:
    """The sort key of a `null` version written at `t` (seconds) before versions had sort
    keys of their own (data folders and journals of format 1)."""
    return f"{_NS_MAX - int(t * 1e9):016x}{'0' * 16}"


def is_version_id(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)
