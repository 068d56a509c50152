"""Typed records <-> JSON documents: one generic mapping for every dataclass the metadata
keeps (journal records, bucket configuration), driven by the dataclasses' type hints.

Bytes travel as {"$b64": ...}; a field missing from a document takes the dataclass default,
so a record written before a field existed still decodes (older formats replay unchanged).
"""
import base64
import dataclasses
import functools
import types
import typing


def to_doc(value):
    if dataclasses.is_dataclass(value):
        return {f.name: to_doc(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"$b64": base64.b64encode(value).decode()}
    if isinstance(value, list):
        return [to_doc(v) for v in value]
    if isinstance(value, dict):
        return {k: to_doc(v) for k, v in value.items()}
    return value


@functools.cache
def _hints(typ) -> dict:
    return typing.get_type_hints(typ)


def from_doc(typ, doc):
    if doc is None:
        return None
    origin = typing.get_origin(typ)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(typ) if a is not type(None)]
        return from_doc(inner[0], doc)
    if origin is list:
        (item,) = typing.get_args(typ)
        return [from_doc(item, d) for d in doc]
    if dataclasses.is_dataclass(typ):
        hints = _hints(typ)
        return typ(**{k: from_doc(hints[k], v) for k, v in doc.items()})
    # Only a bytes field holds {"$b64": ...}: a dict field (user metadata, tags) may hold
    # that key as client text.
    if typ is bytes and isinstance(doc, dict) and "$b64" in doc:
        return base64.b64decode(doc["$b64"], validate=True)
    return doc
