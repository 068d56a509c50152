"""Typed metadata: the state records (bucket, object version, upload, part) and the mutation
records that change them. Every change to metadata is one mutation applied in one transaction
by `MetaStore.apply`, so a log of these records could replay the whole store.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field


@dataclass
class Bucket:
    name: str
    owner: str
    created: float
    region: str = ""


@dataclass
class DataPart:
    """One data unit of an object: a part of a multipart object or the whole of a simple one."""
    data_id: str
    size: int
    etag: str = ""            # hex MD5 of this part
    checksum: str = ""        # base64 additional checksum of this part, if any


@dataclass
class ObjectVersion:
    bucket: str
    key: str
    size: int
    etag: str                 # as S3 shows it, without quotes: md5 hex or md5-of-md5s-N
    mtime: float
    owner: str
    version_id: str = "null"
    content_type: str = "binary/octet-stream"
    headers: dict = field(default_factory=dict)     # standard headers: Cache-Control, ...
    user_meta: dict = field(default_factory=dict)   # x-amz-meta-* without the prefix
    storage_class: str = "STANDARD"
    checksum_algorithm: str = ""
    checksum_value: str = ""
    checksum_type: str = ""   # FULL_OBJECT or COMPOSITE
    inline: bytes | None = None                     # small objects live in the record
    parts: list[DataPart] = field(default_factory=list)
    tags: dict = field(default_factory=dict)
    # With self-describing drives: the data unit holding this record (multipart objects),
    # so the index can be rebuilt from the drives alone. Freed with the object.
    manifest: str = ""

    def meta_json(self) -> str:
        """Everything but the columns the listing needs and the inline bytes."""
        d = dataclasses.asdict(self)
        for name in ("bucket", "key", "size", "etag", "mtime", "owner", "storage_class", "inline"):
            d.pop(name)
        return json.dumps(d, separators=(",", ":"))

    @classmethod
    def from_row(cls, bucket, key, size, etag, mtime, owner, storage_class, meta, inline):
        d = json.loads(meta)
        d["parts"] = [DataPart(**p) for p in d.get("parts", [])]
        return cls(bucket=bucket, key=key, size=size, etag=etag, mtime=mtime, owner=owner,
                   storage_class=storage_class, inline=inline, **d)

    def data_ids(self) -> list[str]:
        return [p.data_id for p in self.parts] + ([self.manifest] if self.manifest else [])

    @property
    def is_multipart(self) -> bool:
        """Completed from a multipart upload (its ETag is md5-of-md5s-N)."""
        return "-" in self.etag


@dataclass
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    owner: str
    content_type: str = "binary/octet-stream"
    headers: dict = field(default_factory=dict)
    user_meta: dict = field(default_factory=dict)
    storage_class: str = "STANDARD"
    checksum_algorithm: str = ""
    checksum_type: str = ""
    tags: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Upload":
        return cls(**json.loads(text))


@dataclass
class Part:
    upload_id: str
    part_number: int
    data_id: str
    size: int
    etag: str
    mtime: float
    checksum: str = ""


# ---- mutation records: each is applied by MetaStore.apply in one transaction ----

@dataclass
class CreateBucket:
    bucket: Bucket


@dataclass
class DeleteBucket:
    name: str
    owner: str


@dataclass
class Condition:
    """A conditional write, checked inside the transaction that applies it."""
    if_match: str | None = None       # the current object's ETag must be this
    if_none_match: bool = False       # no current object may exist (If-None-Match: *)


@dataclass
class PutObject:
    version: ObjectVersion
    condition: Condition | None = None


@dataclass
class SetObjectTags:
    bucket: str
    key: str
    tags: dict


@dataclass
class DeleteObject:
    bucket: str
    key: str


@dataclass
class CreateUpload:
    upload: Upload


@dataclass
class PutPart:
    part: Part


@dataclass
class CompleteUpload:
    upload_id: str
    version: ObjectVersion    # its parts are the chosen upload parts, in order
    condition: Condition | None = None


@dataclass
class AbortUpload:
    upload_id: str


Mutation = (CreateBucket | DeleteBucket | PutObject | DeleteObject | CreateUpload | PutPart
            | CompleteUpload | AbortUpload | SetObjectTags)
