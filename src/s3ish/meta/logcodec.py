"""The journal's line format: one JSON document per line with a CRC, either a record or a
base line.

A record is `{"lsn": n, "f": FORMAT, "t": commit time, "m": [[type, fields], ...]}`: the
mutations one transaction applied, under one sequence number (LSN). A base line is
`{"base": B}`: the file holds every record after B. Each line ends with a tab, the CRC32 of
the JSON in hex, and a newline, so a torn or damaged line is recognised and skipped.

Records written before commit times existed have no "t": they decode with time None.
"""
import json
import time
import typing
import zlib
from typing import NamedTuple

from . import docs, records

_TYPES = {cls.__name__: cls for cls in typing.get_args(records.Mutation)}


class Entry(NamedTuple):
    """A decoded record: its LSN, its commit time (epoch seconds; None when written before
    times were recorded) and its mutations."""
    lsn: int
    time: float | None
    mutations: list


def _line(doc: dict) -> bytes:
    body = json.dumps(doc, separators=(",", ":")).encode()
    return body + b"\t" + f"{zlib.crc32(body):08x}".encode() + b"\n"


def encode_record(lsn: int, mutations: list, when: float | None = None) -> bytes:
    """A record line; `when` is the commit time (now if not given)."""
    return _line({"lsn": lsn, "f": records.FORMAT,
                  "t": time.time() if when is None else when,
                  "m": [[type(m).__name__, docs.to_doc(m)] for m in mutations]})


def encode_base(base: int) -> bytes:
    return _line({"base": base})


def decode_doc(line: bytes) -> dict | None:
    """The JSON document of an intact line (a record or a base line), else None."""
    body, sep, crc = line.rstrip(b"\n").rpartition(b"\t")
    if not sep or f"{zlib.crc32(body):08x}".encode() != crc:
        return None
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):      # RecursionError: deeply nested JSON
        return None
    if not isinstance(doc, dict):
        return None
    # A line is a base line or a record: exactly one integer position, whatever the CRC says.
    positions = [doc.get(k) for k in ("base", "lsn") if k in doc]
    if len(positions) != 1 or type(positions[0]) is not int:
        return None
    return doc


def entry_of(doc: dict | None) -> Entry | None:
    """The record a decoded document holds, or None (a base line, or content that does not
    decode: a record whose CRC holds but whose content does not decode counts as corrupt)."""
    if doc is None or "lsn" not in doc:
        return None
    lsn = doc["lsn"]
    fmt = doc.get("f", 1)
    if type(fmt) is not int or not 1 <= fmt <= records.FORMAT:
        return None     # written by a newer s3ish (or corrupt): never half-understood
    when = doc.get("t")
    if when is not None and (type(when) not in (int, float) or when != when):
        return None     # not a number (NaN is not equal to itself)
    try:
        mutations = [docs.from_doc(_TYPES[name], d) for name, d in doc["m"]]
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None
    return Entry(lsn, None if when is None else float(when), mutations)


def decode_entry(line: bytes) -> Entry | None:
    """Entry(lsn, time, mutations), or None if the line is torn, corrupt or a base line."""
    return entry_of(decode_doc(line))


def decode_record(line: bytes):
    """(lsn, [mutation]) or None, as decode_entry without the time."""
    entry = decode_entry(line)
    return None if entry is None else (entry.lsn, entry.mutations)


def intact(line: bytes) -> bool:
    return line.endswith(b"\n") and decode_doc(line) is not None


def referenced_ids(mutations: list) -> list[str]:
    """The data units a record's mutations point at (new object versions' parts and
    manifests, uploaded parts): what must exist wherever the record is replayed."""
    out: list[str] = []
    for m in mutations:
        for value in vars(m).values():
            if isinstance(value, records.ObjectVersion):
                out += value.data_ids()
            elif isinstance(value, records.Part):
                out.append(value.data_id)
    return out
