"""The object engine: buckets, the PUT commit protocol, reads, deletes.

PUT: stream the body into a data unit (hashing as bytes pass, in a worker thread) -> fsync ->
rename -> one metadata transaction -> the caller responds. Small bodies are kept inline in
the metadata record instead (sealed, for encrypted ones). Data freed by an overwrite or delete is
removed after commit. Compression and encryption wrap each unit's writer and reader
(engine/compress.py, engine/sse.py).
"""
import asyncio
import functools
import logging
import time

from ..meta import records as r
from ..util import checksums
from ..util.errors import QuorumError
from ..util.ids import is_version_id, version_id as new_version_id
from ..util.threads import run_io
from . import cold, compress, errors, objectlock, selfdescribe, sse
from .listing import list_objects
from .versions import VersionListing, list_object_versions
from .types import Digests, ListResult, PutSpec

log = logging.getLogger("s3ish.engine")

INLINE_MAX = 128 * 1024          # bodies up to this size live in the metadata record
BLOCK = 1024 * 1024              # bytes handed to a worker thread at a time
READ_BLOCK = 1024 * 1024


class Engine:
    # With a cold tier, freed data goes to the graveyard (storage/graveyard.py) instead of
    # being deleted: the shipper deletes it once the tier has what a restore to before the
    # free needs. Set by the app.
    graveyard = None
    # With a cold tier: the read-through of transitioned units (engine/cold.py), the storage
    # class transitions give (--tier-storage-class) and the lifecycle day (RestoreObject's
    # Days). Set by the app.
    cold = None
    tier_class = "GLACIER_IR"
    lifecycle_day = 86400.0

    def __init__(self, meta, data, compression: bool = False, kms=None):
        self.meta = meta
        self.data = data
        self.compression = compression    # the server's --compression (buckets may override)
        self.kms = kms                    # storage/kms.py's Kms for SSE-S3/SSE-KMS, or None

    # ---- buckets ----
    async def create_bucket(self, name: str, owner: str, region: str,
                            object_lock: bool = False, tags: dict | None = None,
                            acl: list | None = None, ownership: str = "") -> None:
        """`acl`: in stored form (engine/acl.py); `ownership`: the object ownership controls
        ("": none, as buckets made before they existed)."""
        b = r.Bucket(name, owner, time.time(), region, tags=tags or {}, acl=acl,
                     ownership=ownership)
        if object_lock:
            b.versioning, b.object_lock = "Enabled", r.ObjectLockConfig()
        await self.meta.apply(r.CreateBucket(b))

    async def delete_bucket(self, name: str, owner: str) -> None:
        await self.free_data((await self.meta.apply(r.DeleteBucket(name, owner))).freed)

    async def get_bucket(self, name: str) -> r.Bucket:
        b = await self.meta.get_bucket(name)
        if b is None:
            raise errors.NoSuchBucket(name)
        return b

    async def list_buckets(self, owner: str) -> list[r.Bucket]:
        return await self.meta.list_buckets(owner)

    # ---- bucket configuration (each a typed, journaled record; meta/rules.py decides) ----
    async def set_bucket_versioning(self, bucket: str, status: str) -> None:
        await self.meta.apply(r.SetBucketVersioning(bucket, status))

    async def set_bucket_object_lock(self, bucket: str, config: r.ObjectLockConfig) -> None:
        """Enable object lock (for good) with `config`'s default retention; build `config`
        with objectlock.default_retention, which checks it."""
        await self.meta.apply(r.SetBucketObjectLock(bucket, config))

    async def set_bucket_lifecycle(self, bucket: str, rules: list) -> None:
        """Replace the bucket's lifecycle rules ([] deletes the configuration)."""
        await self.meta.apply(r.SetBucketLifecycle(bucket, rules))

    async def set_bucket_tags(self, bucket: str, tags: dict) -> None:
        """Replace the bucket's tag set ({} deletes it)."""
        await self.meta.apply(r.SetBucketTags(bucket, tags))

    async def set_bucket_cors(self, bucket: str, rules: list) -> None:
        """Replace the bucket's CORS rules ([] deletes the configuration); build `rules`
        with engine.cors.validate, which checks them."""
        await self.meta.apply(r.SetBucketCors(bucket, rules))

    async def set_bucket_policy(self, bucket: str, policy: str) -> None:
        """Replace the bucket policy ("" deletes it); validate it first (iam.policy.parse)."""
        await self.meta.apply(r.SetBucketPolicy(bucket, policy))

    async def set_public_access_block(self, bucket: str, config) -> None:
        """Replace the bucket's PublicAccessBlock (None deletes it)."""
        await self.meta.apply(r.SetPublicAccessBlock(bucket, config))

    async def set_bucket_acl(self, bucket: str, acl: list | None) -> None:
        """Replace the bucket's ACL (stored form, engine/acl.py; None: private)."""
        await self.meta.apply(r.SetBucketAcl(bucket, acl))

    async def set_object_acl(self, bucket: str, key: str, acl: list | None,
                             version_id: str | None = None) -> r.Outcome:
        check_version_id(version_id)
        return await self.meta.apply(r.SetObjectAcl(bucket, key, acl, version_id))

    async def set_bucket_compression(self, bucket: str, mode: str) -> None:
        """Compress new data of this bucket ("on"), never ("off"), or as the server's
        --compression says (""). Data already stored keeps its form."""
        if mode not in compress.MODES:
            raise ValueError(f"compression mode must be on, off or default, not {mode!r}")
        await self.meta.apply(r.SetBucketCompression(bucket, mode))

    async def set_bucket_encryption(self, bucket: str,
                                    config: r.EncryptionConfig | None) -> None:
        """Set (None deletes) the bucket's default encryption; refused if this server could
        not apply it (no KMS, a KMS key it lacks)."""
        sse.check_bucket_default(self.kms, config)
        await self.meta.apply(r.SetBucketEncryption(bucket, config))

    async def set_bucket_ownership(self, bucket: str, ownership: str) -> None:
        """Set ("" deletes) the bucket's object ownership controls."""
        await self.meta.apply(r.SetBucketOwnership(bucket, ownership))

    async def set_object_retention(self, bucket: str, key: str, version_id: str | None,
                                   mode: str, until: float,
                                   bypass_governance: bool = False) -> r.Outcome:
        """Set (mode "" removes) a version's retention; shortening or removing a retention in
        force needs GOVERNANCE mode and the bypass (COMPLIANCE: never)."""
        check_version_id(version_id)
        now = time.time()
        objectlock.check_retention(mode, until, now)
        return await self.meta.apply(r.SetObjectRetention(
            bucket, key, version_id, mode, until if mode else 0.0, now, bypass_governance))

    async def set_object_legal_hold(self, bucket: str, key: str, version_id: str | None,
                                    on: bool) -> r.Outcome:
        check_version_id(version_id)
        return await self.meta.apply(r.SetObjectLegalHold(bucket, key, version_id, on))

    # ---- writes ----
    async def put_object(self, bucket: str, key: str, body, spec: PutSpec, verify=None,
                         condition: r.Condition | None = None) -> r.ObjectVersion:
        """Store `body` (an async iterator of bytes) as `bucket/key`. `verify(digests)` runs
        after the last byte and before commit; whatever it raises aborts the write. The
        condition is checked atomically with the commit."""
        vsort = new_version_id()
        b = await self.get_bucket(bucket)
        applied = sse.resolve(self.kms, b, spec.sse)
        sealer = sse.sealer_for(self.kms, applied, spec.sse and spec.sse.customer)
        versioned = self.data.self_describing and b.versioned
        await self.check_lock_request(bucket, spec)
        inline, parts, digests = await self.ingest(
            body, spec.checksum_algorithm, verify, allow_inline=True,
            describe=lambda: selfdescribe.object_meta(bucket, key, spec, vsort, versioned,
                                                      applied.fields()),
            compressing=lambda: compress.wanted(self, bucket, key, spec.content_type),
            sealer=sealer)
        etag, inline_key = parts[0].etag if parts else digests.md5.hex(), ""
        if inline is not None and sealer is not None:
            inline, inline_key, etag = await run_io(sse.seal_inline, sealer, inline,
                                                    digests.md5)
        v = r.ObjectVersion(
            bucket=bucket, key=key, size=digests.size, etag=etag, inline_key=inline_key,
            mtime=digests.mtime, owner=spec.owner, content_type=spec.content_type,
            headers=spec.headers, user_meta=spec.user_meta, storage_class=spec.storage_class,
            checksum_algorithm=spec.checksum_algorithm,
            checksum_value=checksums.b64(digests.checksum) if digests.checksum else "",
            checksum_type="FULL_OBJECT" if digests.checksum else "",
            inline=inline, parts=parts, tags=spec.tags, vsort=vsort,
            lock_mode=spec.lock_mode, lock_until=spec.lock_until, legal_hold=spec.legal_hold,
            acl=spec.acl, **applied.fields())
        out = await self.commit(r.PutObject(v, condition), v.data_ids())
        v.version_id = out.version_id
        return v

    async def check_lock_request(self, bucket: str, spec: PutSpec) -> None:
        """A write asking for a retention or a legal hold: refused before any byte is stored
        if the retention is invalid or the bucket has no object lock (the rules check the
        latter again at commit)."""
        if not spec.lock_mode and spec.legal_hold is None:
            return
        objectlock.check_retention(spec.lock_mode, spec.lock_until, time.time())
        if (await self.get_bucket(bucket)).object_lock is None:
            raise errors.ObjectLockNotEnabled(bucket)

    async def copy_object(self, src_bucket: str, src_key: str, plan, dst_bucket: str,
                          dst_key: str, make_spec, condition: r.Condition | None = None,
                          src_version: str | None = None, src_customer=None):
        """Stream a copy of the source (constant memory). `plan(source)` checks the source's
        conditions and returns the byte range to copy; `make_spec(source)` the new object's
        PutSpec (its own encryption: the copy is re-encrypted as it streams). `src_customer`:
        the key of an SSE-C source. Returns (source, new version)."""
        src, _, stream = await self.get_object(src_bucket, src_key, plan, src_version,
                                               src_customer)
        try:
            v = await self.put_object(dst_bucket, dst_key, stream, make_spec(src),
                                      condition=condition)
        finally:
            await stream.aclose()
        return src, v

    async def set_object_tags(self, bucket: str, key: str, tags: dict,
                              version_id: str | None = None) -> r.Outcome:
        await self.get_bucket(bucket)
        check_version_id(version_id)
        return await self.meta.apply(r.SetObjectTags(bucket, key, tags, version_id))

    async def ingest(self, body, algorithm: str, verify, allow_inline: bool,
                     describe=None, compressing=None, sealer=None):
        """Stream a body into storage. Returns (inline bytes | None, [DataPart], Digests).
        `describe()`: the unit's metadata, for self-describing stores only (selfdescribe.py);
        such stores keep nothing inline, so every object can be rebuilt from the drives.
        `await compressing()`: whether to store it compressed, asked only of bodies over
        compress.MIN_SIZE. `sealer` (sse.Sealer): a data unit is stored encrypted (inline
        bytes are returned in clear: the caller seals them, sse.seal_inline)."""
        describing = self.data.self_describing
        allow_inline = allow_inline and not describing
        describe = describe() if describing and describe is not None else None
        md5 = checksums.new("MD5")
        extra = checksums.new(algorithm) if algorithm else None
        # Hashers the body asks to be fed (e.g. a signed payload's SHA-256), in the same pass.
        taps = tuple(getattr(body, "taps", ()))
        buf = bytearray()
        writer = None
        size = 0
        # Double buffering: one block is hashed and written in a thread while the next one
        # arrives; memory per request stays at about two blocks.
        in_thread = None
        try:
            async for chunk in body:
                size += len(chunk)
                buf += chunk
                if len(buf) >= BLOCK:   # BLOCK > INLINE_MAX: this body goes to a data unit
                    if writer is None:
                        writer = await sse.open_writer(self.data, describe, False,
                                                       compressing, sealer)
                    if in_thread is not None:
                        await in_thread
                    block, buf = buf, bytearray()
                    in_thread = asyncio.ensure_future(
                        run_io(_hash_and_write, writer, md5, extra, taps, block))
            if in_thread is not None:
                await in_thread
                in_thread = None
            inline = writer is None and allow_inline and size <= INLINE_MAX
            if inline:
                _hash_and_write(None, md5, extra, taps, buf)   # at most INLINE_MAX: cheap
            else:
                if writer is None:     # the whole body is in hand, under one block
                    writer = await sse.open_writer(
                        self.data, describe, True, size > compress.MIN_SIZE and compressing,
                        sealer)
                await run_io(_hash_and_write, writer, md5, extra, taps, buf)
            digests = Digests(size, md5.digest(), extra.digest() if extra else None,
                              time.time())
            if verify is not None:
                verify(digests)
            if inline:
                return bytes(buf), [], digests
            etag = sse.unit_etag(writer, digests.md5)
            await run_io(writer.commit, selfdescribe.final_meta(digests, etag) if describing
                         else None)
            part = r.DataPart(writer.data_id, size, etag,
                              checksums.b64(digests.checksum) if digests.checksum else "",
                              **sse.part_fields(writer))
            return None, [part], digests
        except QuorumError as e:
            await self._abort(in_thread, writer)
            raise errors.ServiceUnavailable(str(e)) from e
        except BaseException:
            await self._abort(in_thread, writer)
            raise

    @staticmethod
    async def _abort(in_thread, writer) -> None:
        if in_thread is not None:
            # Let the block in flight finish before the file is closed under it.
            await asyncio.gather(in_thread, return_exceptions=True)
        if writer is not None:
            await run_io(writer.abort)

    async def write_manifest(self, v: r.ObjectVersion) -> str:
        """Store a version's record as a small data unit of its own (multipart objects on
        self-describing drives): the drives alone then hold everything about the object."""
        body = selfdescribe.manifest_body(v)
        versioned = (await self.get_bucket(v.bucket)).versioned

        async def one():
            yield body
        _, parts, _ = await self.ingest(
            one(), "", None, allow_inline=False,
            describe=lambda: selfdescribe.manifest_meta(v, versioned))
        return parts[0].data_id

    async def commit(self, mutation, new_ids: list[str]) -> r.Outcome:
        """Apply a mutation; if it fails, the data written for it is orphaned: remove it.
        The apply is shielded: a cancelled request cannot tell whether its mutation will
        still commit, so the clean-up waits for the outcome."""
        applying = asyncio.ensure_future(self.meta.apply(mutation))
        try:
            out = await asyncio.shield(applying)
        except asyncio.CancelledError:
            applying.add_done_callback(lambda t: asyncio.ensure_future(self._settled(
                t, new_ids)))
            raise
        except QuorumError as e:
            await self.free_data(new_ids)
            raise errors.ServiceUnavailable(str(e)) from e
        except BaseException:
            await self.free_data(new_ids)
            raise
        await self.free_data(out.freed)
        return out

    async def _settled(self, applying, new_ids: list[str]) -> None:
        if applying.cancelled() or applying.exception() is not None:
            await self.free_data(new_ids)
        else:
            await self.free_data(applying.result().freed)

    async def free_data(self, data_ids: list[str]) -> None:
        if data_ids:
            await run_io(self.graveyard.bury if self.graveyard is not None else
                         functools.partial(_delete_all, self.data), data_ids)

    async def delete_object(self, bucket: str, key: str, version_id: str | None = None,
                            owner: str = "", bypass_governance: bool = False,
                            condition: r.Condition | None = None) -> r.Outcome:
        """Delete a key (a delete marker where versioning is on) or, with `version_id`, one
        version for good. Returns what happened (the version id, whether a marker)."""
        b = await self.get_bucket(bucket)
        check_version_id(version_id)
        m = r.DeleteObject(bucket, key, version_id, "" if version_id or not b.versioning
                           else new_version_id(), time.time(), bypass_governance, condition,
                           owner)
        out = await self.meta.apply(m)
        await self.free_data(out.freed)
        return out

    # ---- reads ----
    async def head_object(self, bucket: str, key: str,
                          version_id: str | None = None) -> r.ObjectVersion:
        """The current version, or the one named. A delete marker raises DeleteMarker."""
        if version_id is None:
            v = await self.meta.get_object(bucket, key)
        else:
            check_version_id(version_id)
            v = await self.meta.get_version(bucket, key, version_id)
        if v is None:
            await self.get_bucket(bucket)
            raise errors.NoSuchKey(key) if version_id is None else errors.NoSuchVersion(key)
        if v.delete_marker:
            raise errors.DeleteMarker(v.version_id, current=version_id is None)
        return v

    async def get_object(self, bucket: str, key: str, plan, version_id: str | None = None,
                         customer=None):
        """Look up an object and open its data. `plan(version)` returns the (start, end)
        inclusive byte range to serve, or None for no body; it may raise to refuse. Then the
        read is checked against the object's encryption (`customer`: the sse.CustomerKey
        given, an SSE-C object needs its own). Returns (version, range, async iterator of
        bytes)."""
        for _ in range(5):
            v = await self.head_object(bucket, key, version_id)
            rng = plan(v)
            sse.check_read(v, customer)
            keys = sse.Unsealer(self.kms, v, customer) if v.sse else None
            if v.inline_key and rng is not None and rng[1] >= rng[0]:
                block = await run_io(sse.read_inline, v, keys, *rng)
                return v, rng, _blocks(block)
            if rng is None or v.inline is not None or rng[1] < rng[0]:
                # No body, an inline one, or an empty object (in a data unit on drives).
                return v, rng, _inline_stream(v, rng)
            try:
                if rng[1] - rng[0] < READ_BLOCK and len(v.parts) == 1:
                    # A small read (objects kept in data units on drives): open, read and
                    # close in one trip to a thread; each trip costs as much as the read.
                    block = await run_io(_read_small, self.data, v, rng, keys, self.cold)
                    return v, rng, _blocks(block)
                handles = await run_io(_open_parts, self.data, v, rng, keys, self.cold)
            except errors.DataGone:
                continue   # overwritten between lookup and open: look again
            if any(p.remote for p in v.parts):
                # Read through the cold tier: its first block before the response starts,
                # so a tier that does not answer is a 503, not a cut body.
                return v, rng, await cold.primed(_stream(handles))
            return v, rng, _stream(handles)
        raise errors.DataGone(f"{bucket}/{key}")

    async def list_object_versions(self, bucket: str, prefix: str = "", delimiter: str = "",
                                   key_marker: str = "", version_id_marker: str = "",
                                   max_keys: int = 1000) -> VersionListing:
        await self.get_bucket(bucket)
        return await list_object_versions(self.meta, bucket, prefix, delimiter, key_marker,
                                          version_id_marker, max_keys)

    async def list_objects(self, bucket: str, prefix: str = "", delimiter: str = "",
                           start_after: str = "", max_keys: int = 1000) -> ListResult:
        await self.get_bucket(bucket)
        return await list_objects(self.meta, bucket, prefix, delimiter, start_after, max_keys)


def check_version_id(version_id: str | None) -> None:
    """A version id this store could have made ("null" or one of ours), else InvalidVersionId
    (S3 answers 400 for ids it could never have issued)."""
    if version_id is not None and version_id != "null" and not is_version_id(version_id):
        raise errors.InvalidVersionId(version_id)


def _hash_and_write(writer, md5, extra, taps, block) -> None:
    md5.update(block)
    if extra is not None:
        extra.update(block)
    for t in taps:
        t.update(block)
    if writer is not None and block:
        writer.write(block)


def _delete_all(data, data_ids) -> None:
    for d in data_ids:
        data.delete(d)


def _open_parts(data, v: r.ObjectVersion, rng, keys=None, cold_store=None):
    """Open, up front, every data unit the range touches, so a racing overwrite cannot pull
    one away mid-stream (an open file survives unlink). Returns [(handle, offset, length)]."""
    start, end = rng
    out, pos = [], 0
    try:
        for p in v.parts:
            lo, hi = max(start, pos), min(end, pos + p.size - 1)
            if lo <= hi:
                out.append((cold.open_part(data, cold_store, p, keys), lo - pos,
                            hi - lo + 1))
            pos += p.size
    except BaseException as e:
        for h, _, _ in out:     # a damaged unit (sse.open_unit reads a footer) too
            h.close()
        if isinstance(e, FileNotFoundError):
            raise errors.DataGone(v.key) from e
        raise
    return out


def _read_small(data, v: r.ObjectVersion, rng, keys=None, cold_store=None) -> bytes:
    [(handle, offset, length)] = _open_parts(data, v, rng, keys, cold_store)
    try:
        block = handle.read_at(offset, length)
    finally:
        handle.close()
    if len(block) != length:
        raise IOError("data unit shorter than its metadata says")
    return block


async def _blocks(*blocks):
    for block in blocks:
        yield block


async def _inline_stream(v: r.ObjectVersion, rng):
    if rng is not None and v.inline:
        yield v.inline[rng[0]: rng[1] + 1]


async def _stream(handles):
    try:
        for h, offset, length in handles:
            while length > 0:
                n = min(READ_BLOCK, length)
                block = await run_io(h.read_at, offset, n)
                if not block:
                    raise IOError("data unit shorter than its metadata says")
                yield block
                offset += len(block)
                length -= len(block)
    finally:
        for h, _, _ in handles:
            h.close()
