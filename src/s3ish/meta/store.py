"""The MetaStore protocol: what the engine needs from a metadata store.

Reads return state records; every write is one mutation record passed to `apply`, which runs
in one transaction and returns the data ids that the mutation freed (to delete after commit).
"""
from typing import Protocol

from .records import Bucket, Mutation, ObjectVersion, Part, Upload


class ListedObject(Protocol):
    key: str
    size: int
    etag: str
    mtime: float
    owner: str
    storage_class: str


class MetaStore(Protocol):
    async def apply(self, mutation: Mutation) -> list[str]: ...
    async def get_bucket(self, name: str) -> Bucket | None: ...
    async def list_buckets(self, owner: str) -> list[Bucket]: ...
    async def get_object(self, bucket: str, key: str) -> ObjectVersion | None: ...
    async def scan_objects(self, bucket: str, start: str, inclusive: bool, upper: str | None,
                           limit: int) -> list[ListedObject]: ...
    async def get_upload(self, upload_id: str) -> Upload | None: ...
    async def list_parts(self, upload_id: str, after: int, limit: int) -> list[Part]: ...
    async def all_data_ids(self) -> set[str]: ...
    async def close(self) -> None: ...
