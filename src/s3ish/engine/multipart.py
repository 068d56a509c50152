"""Multipart uploads: each part is its own data unit; completion writes a manifest that lists
the parts (no concatenation copy, O(parts) metadata work, constant memory).

Encryption is chosen at CreateMultipartUpload (the request's, else the bucket default) and
applies to every part; each part is sealed under a data key of its own (engine/sse.py). An
SSE-C upload's parts must each come with the key it was created with."""
import base64
import hashlib
import time

from ..meta import records as r
from ..util import checksums
from ..util.ids import upload_id as new_upload_id, version_id as new_version_id
from . import compress, errors, selfdescribe, sse
from .listing import group_prefix, next_after, skip_scan
from .objects import Engine
from .types import PutSpec, UploadListing

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PARTS = 10000
# As for single PUTs, S3 gives an upload created without a checksum algorithm a CRC64NVME
# FULL_OBJECT checksum: parts sent without a checksum get a CRC64NVME (the only algorithm
# whose digest has 8 bytes, so a part's checksum tells which it is), and the object the
# combination of those when every part has one.
DEFAULT_CHECKSUM = "CRC64NVME"


class PartChecksumMissing(errors.DomainError):
    """A composite-checksum upload completed with a part listed without its checksum."""

    def __init__(self, algorithm: str, part_number: int):
        super().__init__(f"The upload was created using a {algorithm.lower()} checksum. The "
                         "complete request must include the checksum for each part. It was "
                         f"missing for part {part_number} in the request.")


class Multipart:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.meta = engine.meta

    async def create_multipart_upload(self, bucket: str, key: str, spec: PutSpec) -> r.Upload:
        b = await self.engine.get_bucket(bucket)
        applied = sse.resolve(self.engine.kms, b, spec.sse)
        await self.engine.check_lock_request(bucket, spec)
        u = r.Upload(new_upload_id(), bucket, key, time.time(), spec.owner, spec.content_type,
                     spec.headers, spec.user_meta, spec.storage_class, spec.checksum_algorithm,
                     spec.checksum_type or ("COMPOSITE" if spec.checksum_algorithm else ""),
                     spec.tags, spec.lock_mode, spec.lock_until, spec.legal_hold, spec.acl,
                     **applied.fields())
        if applied.sse == sse.SSE_C:
            u.sse_c_check = sse.upload_check(spec.sse.customer)
        await self.meta.apply(r.CreateUpload(u))
        return u

    async def get_upload(self, bucket: str, key: str, upload_id: str) -> r.Upload:
        u = await self.meta.get_upload(upload_id)
        if u is None or u.bucket != bucket or u.key != key:
            await self.engine.get_bucket(bucket)
            raise errors.NoSuchUpload(upload_id)
        return u

    async def upload_part(self, upload: r.Upload, part_number: int, body, algorithm: str,
                          verify=None, customer=None) -> r.Part:
        """`algorithm`: of the checksum the client sent ("" for none: the upload's, or the
        default). `customer`: the sse.CustomerKey sent (an SSE-C upload's own, else none)."""
        sealer = sse.part_sealer(self.engine.kms, upload, customer)
        algorithm = algorithm or upload.checksum_algorithm or DEFAULT_CHECKSUM
        _, parts, digests = await self.engine.ingest(
            body, algorithm, verify, allow_inline=False,
            describe=lambda: selfdescribe.part_meta(upload, part_number),
            compressing=lambda: compress.wanted(self.engine, upload.bucket, upload.key,
                                                upload.content_type),
            sealer=sealer)
        unit = parts[0]
        p = r.Part(upload.upload_id, part_number, unit.data_id, digests.size, unit.etag,
                   digests.mtime, checksums.b64(digests.checksum) if digests.checksum else "",
                   unit.compression, unit.stored_size, unit.sse_key)
        await self.engine.commit(r.PutPart(p), [p.data_id])
        return p

    async def upload_part_copy(self, upload: r.Upload, part_number: int, src_bucket: str,
                               src_key: str, plan, src_version: str | None = None,
                               customer=None, src_customer=None
                               ) -> tuple[r.ObjectVersion, r.Part]:
        """A part whose bytes are (a range of) another object, streamed in constant memory
        (decrypted with the source's keys, sealed with the upload's)."""
        sse.check_upload_key(upload, customer, required=True)
        src, _, stream = await self.engine.get_object(src_bucket, src_key, plan, src_version,
                                                      src_customer)
        try:
            part = await self.upload_part(upload, part_number, stream,
                                          upload.checksum_algorithm, customer=customer)
        finally:
            await stream.aclose()
        return src, part

    async def list_multipart_uploads(self, bucket: str, prefix: str = "", delimiter: str = "",
                                     key_marker: str = "", upload_id_marker: str = "",
                                     max_uploads: int = 1000) -> UploadListing:
        await self.engine.get_bucket(bucket)
        upper = next_after(prefix) if prefix else None
        # The scan returns uploads after (key, uid): (key > K) or (key == K and id > U).
        cursor = (prefix, "")
        if key_marker >= prefix and key_marker:
            # key-marker alone skips every upload of that key; with upload-id-marker, only
            # those up to that id. A marker that is a rolled-up prefix skips the whole group.
            cursor = (key_marker, upload_id_marker or "\U0010ffff")
            cp = group_prefix(key_marker, prefix, delimiter)
            if cp is not None and key_marker == cp:
                cursor = (next_after(cp), "")

        async def fetch(c, limit):
            return await self.meta.scan_uploads(bucket, c[0], c[1], upper, limit)

        page = await skip_scan(fetch, lambda u: (u.key, u.upload_id),
                               lambda cp: (next_after(cp), ""), cursor, prefix, delimiter,
                               max_uploads)
        last = ("", "")
        if isinstance(page.last, str):
            last = (page.last, "")
        elif page.last is not None:
            last = (page.last.key, page.last.upload_id)
        return UploadListing(page.items, page.prefixes, page.truncated, *last)

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
                                        verify=None, condition: r.Condition | None = None,
                                        customer=None) -> r.ObjectVersion:
        """`wanted` is [(part number, etag, {algorithm: checksum})] as the client listed
        them; `verify(version)` may refuse the result before it is committed. `customer`:
        the SSE-C key the request gave (an SSE-C upload's own, as each of its parts)."""
        sse.check_upload_key(upload, customer, required=True)
        have = {}
        after = 0
        while True:
            batch = await self.meta.list_parts(upload.upload_id, after, 1000)
            if not batch:
                break
            have.update((p.part_number, p) for p in batch)
            after = batch[-1].part_number
        chosen = _validate(wanted, have, upload)
        v = r.ObjectVersion(
            bucket=upload.bucket, key=upload.key, size=sum(p.size for p in chosen),
            etag=multipart_etag(chosen), mtime=time.time(), owner=upload.owner,
            content_type=upload.content_type, headers=upload.headers,
            user_meta=upload.user_meta, storage_class=upload.storage_class, tags=upload.tags,
            vsort=new_version_id(), lock_mode=upload.lock_mode, lock_until=upload.lock_until,
            legal_hold=upload.legal_hold, acl=upload.acl, **sse.applied_of(upload).fields(),
            parts=[r.DataPart(p.data_id, p.size, p.etag, p.checksum, p.compression,
                              p.stored_size, p.sse_key) for p in chosen])
        algorithm, ctype = upload.checksum_algorithm, upload.checksum_type
        if not algorithm and all(_is_default(p.checksum) for p in chosen):
            algorithm, ctype = DEFAULT_CHECKSUM, "FULL_OBJECT"
        if algorithm and all(p.checksum for p in chosen):
            v.checksum_algorithm = algorithm
            v.checksum_type = ctype
            if ctype == "FULL_OBJECT":
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


def _validate(wanted, have, upload: r.Upload) -> list[r.Part]:
    """The parts to assemble, as S3 checks a completion: ascending numbers (1, 2, 3, ...
    with no gap when the upload has a checksum algorithm), each uploaded with that ETag and
    checksum, a composite upload's listing every part's checksum, all but the last of the
    minimum size."""
    if not wanted:
        raise errors.InvalidPart("no parts")
    chosen, last = [], 0
    for number, etag, sums in wanted:
        if number <= last or (upload.checksum_algorithm and number != last + 1):
            raise errors.InvalidPartOrder(str(number))
        last = number
        if upload.checksum_type == "COMPOSITE" and not sums.get(upload.checksum_algorithm):
            raise PartChecksumMissing(upload.checksum_algorithm, number)
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


def _is_default(checksum: str) -> bool:
    return bool(checksum) and \
        len(base64.b64decode(checksum)) == checksums.DIGEST_SIZES[DEFAULT_CHECKSUM]


def part_algorithm(upload: r.Upload, checksum: str) -> str:
    """The algorithm of a part's checksum: the upload's, else the default one S3 computed
    ("" for a checksum the client chose for a part of an upload without an algorithm)."""
    if upload.checksum_algorithm:
        return upload.checksum_algorithm
    return DEFAULT_CHECKSUM if _is_default(checksum) else ""


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
