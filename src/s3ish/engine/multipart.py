"""Multipart uploads: each part is its own data unit; completion writes a manifest that lists
the parts (no concatenation copy, O(parts) metadata work, constant memory)."""
import base64
import hashlib
import time

from ..meta import records as r
from ..util import checksums
from ..util.ids import upload_id as new_upload_id, version_id as new_version_id
from . import errors, selfdescribe
from .listing import group_prefix, next_after
from .objects import Engine
from .types import PutSpec, UploadListing

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10000


class Multipart:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.meta = engine.meta

    async def create_multipart_upload(self, bucket: str, key: str, spec: PutSpec) -> r.Upload:
        await self.engine.get_bucket(bucket)
        await self.engine.check_lock_request(bucket, spec)
        u = r.Upload(new_upload_id(), bucket, key, time.time(), spec.owner, spec.content_type,
                     spec.headers, spec.user_meta, spec.storage_class, spec.checksum_algorithm,
                     spec.checksum_type or ("COMPOSITE" if spec.checksum_algorithm else ""),
                     spec.tags, spec.lock_mode, spec.lock_until, spec.legal_hold)
        await self.meta.apply(r.CreateUpload(u))
        return u

    async def get_upload(self, bucket: str, key: str, upload_id: str) -> r.Upload:
        u = await self.meta.get_upload(upload_id)
        if u is None or u.bucket != bucket or u.key != key:
            await self.engine.get_bucket(bucket)
            raise errors.NoSuchUpload(upload_id)
        return u

    async def upload_part(self, upload: r.Upload, part_number: int, body, algorithm: str,
                          verify=None) -> r.Part:
        _, parts, digests = await self.engine.ingest(
            body, algorithm, verify, allow_inline=False,
            describe=lambda: selfdescribe.part_meta(upload, part_number))
        p = r.Part(upload.upload_id, part_number, parts[0].data_id, digests.size,
                   digests.md5.hex(), digests.mtime,
                   checksums.b64(digests.checksum) if digests.checksum else "")
        await self.engine.commit(r.PutPart(p), [p.data_id])
        return p

    async def upload_part_copy(self, upload: r.Upload, part_number: int, src_bucket: str,
                               src_key: str, plan, src_version: str | None = None
                               ) -> tuple[r.ObjectVersion, r.Part]:
        """A part whose bytes are (a range of) another object, streamed in constant memory."""
        src, _, stream = await self.engine.get_object(src_bucket, src_key, plan, src_version)
        try:
            part = await self.upload_part(upload, part_number, stream,
                                          upload.checksum_algorithm)
        finally:
            await stream.aclose()
        return src, part

    async def list_multipart_uploads(self, bucket: str, prefix: str = "", delimiter: str = "",
                                     key_marker: str = "", upload_id_marker: str = "",
                                     max_uploads: int = 1000) -> UploadListing:
        await self.engine.get_bucket(bucket)
        upper = next_after(prefix) if prefix else None
        # The scan returns uploads after (key, uid): (key > K) or (key == K and id > U).
        key, uid = prefix, ""
        if key_marker >= prefix and key_marker:
            # key-marker alone skips every upload of that key; with upload-id-marker, only
            # those up to that id. A marker that is a rolled-up prefix skips the whole group.
            key, uid = key_marker, upload_id_marker or "\U0010ffff"
            cp = group_prefix(key_marker, prefix, delimiter)
            if cp is not None and key_marker == cp:
                key, uid = next_after(cp), ""
        uploads, prefixes, last = [], [], ("", "")
        while True:
            batch = await self.meta.scan_uploads(bucket, key, uid, upper, 1000)
            if not batch:
                return UploadListing(uploads, prefixes, False, *last)
            for u in batch:
                key, uid = u.key, u.upload_id
                cp = group_prefix(u.key, prefix, delimiter)
                if cp is not None and prefixes and prefixes[-1] == cp:
                    continue    # already rolled up into the last common prefix
                if len(uploads) + len(prefixes) >= max_uploads:
                    return UploadListing(uploads, prefixes, True, *last)
                if cp is not None:
                    prefixes.append(cp)
                    last = (cp, "")
                    continue
                uploads.append(u)
                last = (u.key, u.upload_id)

    async def expire_uploads(self, older_than: float, limit: int = 100) -> int:
        """Abort uploads initiated before `older_than`; returns how many were aborted."""
        ids = (await self.meta.expired_uploads(older_than))[:limit]
        for upload_id in ids:
            try:
                await self.engine.free_data((await self.meta.apply(r.AbortUpload(upload_id))).freed)
            except errors.NoSuchUpload:
                pass    # completed or aborted meanwhile
        return len(ids)

    async def list_parts(self, upload: r.Upload, after: int = 0, limit: int = 1000):
        return await self.meta.list_parts(upload.upload_id, after, limit)

    async def abort_multipart_upload(self, upload: r.Upload) -> None:
        await self.engine.free_data(
            (await self.meta.apply(r.AbortUpload(upload.upload_id))).freed)

    async def complete_multipart_upload(self, upload: r.Upload, wanted: list[tuple[int, str]],
                                        verify=None, condition: r.Condition | None = None
                                        ) -> r.ObjectVersion:
        """`wanted` is [(part number, etag, {algorithm: checksum})] as the client listed
        them; `verify(version)` may refuse the result before it is committed."""
        have = {}
        after = 0
        while True:
            batch = await self.meta.list_parts(upload.upload_id, after, 1000)
            if not batch:
                break
            have.update((p.part_number, p) for p in batch)
            after = batch[-1].part_number
        chosen = _validate(wanted, have)
        v = r.ObjectVersion(
            bucket=upload.bucket, key=upload.key, size=sum(p.size for p in chosen),
            etag=multipart_etag(chosen), mtime=time.time(), owner=upload.owner,
            content_type=upload.content_type, headers=upload.headers,
            user_meta=upload.user_meta, storage_class=upload.storage_class, tags=upload.tags,
            vsort=new_version_id(), lock_mode=upload.lock_mode, lock_until=upload.lock_until,
            legal_hold=upload.legal_hold, parts=[r.DataPart(p.data_id, p.size, p.etag, p.checksum) for p in chosen])
        algorithm = upload.checksum_algorithm
        if algorithm and all(p.checksum for p in chosen):
            v.checksum_algorithm = algorithm
            v.checksum_type = upload.checksum_type
            if upload.checksum_type == "FULL_OBJECT":
                v.checksum_value = checksums.combine(algorithm,
                                                     [(p.checksum, p.size) for p in chosen])
            else:
                v.checksum_value = composite_checksum(algorithm, chosen)
        if verify is not None:
            verify(v)
        if self.engine.data.self_describing:
            v.manifest = await self.engine.write_manifest(v)
        out = await self.engine.commit(r.CompleteUpload(upload.upload_id, v, condition),
                                       [v.manifest] if v.manifest else [])
        v.version_id = out.version_id
        return v


def _validate(wanted, have) -> list[r.Part]:
    if not wanted:
        raise errors.InvalidPart("no parts")
    chosen, last = [], 0
    for number, etag, sums in wanted:
        if number <= last:
            raise errors.InvalidPartOrder(str(number))
        last = number
        p = have.get(number)
        if p is None or etag.strip('"').lower() != p.etag:
            raise errors.InvalidPart(str(number))
        if any(value and value != p.checksum for value in sums.values()):
            raise errors.InvalidPart(str(number))
        chosen.append(p)
    for p in chosen[:-1]:
        if p.size < MIN_PART_SIZE:
            raise errors.EntityTooSmall(str(p.part_number))
    return chosen


def multipart_etag(parts) -> str:
    h = hashlib.md5()
    for p in parts:
        h.update(bytes.fromhex(p.etag))
    return f"{h.hexdigest()}-{len(parts)}"


def composite_checksum(algorithm: str, parts) -> str:
    h = checksums.new(algorithm)
    for p in parts:
        h.update(base64.b64decode(p.checksum))
    return f"{checksums.b64(h.digest())}-{len(parts)}"
