"""What every mutation record does, written once over a small transaction interface (`Tx`).

A store (SQLite today, PostgreSQL later) only provides `Tx`: row access inside one open
transaction. Everything S3 decides lives here: version ids and the `null` version, delete
markers, conditional writes, object lock checks, bucket configuration rules, and which data
each change frees. The functions run inside the caller's transaction; one that raises a
domain error must leave the transaction as it found it (stores wrap each in a savepoint).

Replays are deterministic: a record carries every input the rules read (the new version's
sort key, the delete marker's, `now`), so the journal replays to the same rows.
"""
from typing import Protocol

from ..util.ids import version_sort_at
from . import errors, iam_rules, ownership, reseal_rules, tier_rules
from . import records as r

DAY = 86400.0


class Tx(Protocol):
    def bucket(self, name: str) -> r.Bucket | None: ...
    def insert_bucket(self, b: r.Bucket) -> None: ...
    def update_bucket(self, b: r.Bucket) -> None: ...
    def delete_bucket(self, name: str) -> None: ...
    def bucket_empty(self, name: str) -> bool: ...             # no versions at all
    def uploads_of(self, bucket: str) -> list[str]: ...
    def current(self, bucket: str, key: str) -> r.ObjectVersion | None: ...
    def version(self, bucket: str, key: str, version_id: str) -> r.ObjectVersion | None: ...
    def noncurrent(self, bucket: str, key: str,
                   version_id: str) -> r.ObjectVersion | None: ...
    def put_current(self, v: r.ObjectVersion) -> None: ...     # the key has no current row
    def demote(self, v: r.ObjectVersion) -> None: ...          # current -> noncurrent
    def put_noncurrent(self, v: r.ObjectVersion) -> None: ...  # older than the current one
    def remove(self, v: r.ObjectVersion, current: bool) -> None: ...
    def promote_newest(self, bucket: str, key: str) -> None: ...
    def update_version(self, v: r.ObjectVersion, current: bool) -> None: ...
    def count(self, bucket: str, objects: int, nbytes: int) -> None: ...
    def upload(self, upload_id: str) -> r.Upload | None: ...
    def insert_upload(self, u: r.Upload) -> None: ...
    def delete_upload(self, upload_id: str) -> list[str]: ...  # its parts' data ids
    def part_ids(self, upload_id: str) -> set[str]: ...
    def part(self, upload_id: str, part_number: int) -> r.Part | None: ...
    def put_part(self, p: r.Part) -> str | None: ...           # the replaced part's data id
    # The lifecycle worker's schedule: look at this key (upload_id "") or upload from `t` on.
    def lc_schedule(self, bucket: str, key: str, upload_id: str, t: float) -> None: ...
    # Schedule afresh the bucket's keys and uploads under these prefixes ([]: none).
    def lc_reset(self, bucket: str, prefixes: list[str]) -> None: ...


def apply(tx: Tx, m) -> r.Outcome:
    rule = _RULES.get(type(m))
    if rule is None:
        return iam_rules.apply(tx, m)      # users, keys, identity policies
    return rule(tx, m)


# ---- buckets ----

def _bucket(tx: Tx, name: str) -> r.Bucket:
    b = tx.bucket(name)
    if b is None:
        raise errors.NoSuchBucket(name)
    return b


def create_bucket(tx: Tx, m: r.CreateBucket) -> r.Outcome:
    existing = tx.bucket(m.bucket.name)
    if existing is not None:
        if existing.owner == m.bucket.owner:
            raise errors.BucketAlreadyOwnedByYou(m.bucket.name)
        raise errors.BucketAlreadyExists(m.bucket.name)
    if m.bucket.object_lock is not None and m.bucket.versioning != "Enabled":
        raise errors.InvalidBucketState("Object lock needs versioning enabled")
    tx.insert_bucket(m.bucket)
    return r.Outcome()


def delete_bucket(tx: Tx, m: r.DeleteBucket) -> r.Outcome:
    _bucket(tx, m.name)
    if not tx.bucket_empty(m.name):
        raise errors.BucketNotEmpty(m.name)
    freed = []
    for upload_id in tx.uploads_of(m.name):
        freed += tx.delete_upload(upload_id)
    tx.delete_bucket(m.name)
    return r.Outcome(freed)


def set_bucket_versioning(tx: Tx, m: r.SetBucketVersioning) -> r.Outcome:
    b = _bucket(tx, m.bucket)
    if m.status not in ("Enabled", "Suspended"):
        raise ValueError(m.status)
    if b.object_lock is not None and m.status != "Enabled":
        raise errors.InvalidBucketState(
            "An Object Lock configuration is present on this bucket, so the versioning "
            "state cannot be changed.")
    b.versioning = m.status
    tx.update_bucket(b)
    return r.Outcome()


def set_bucket_object_lock(tx: Tx, m: r.SetBucketObjectLock) -> r.Outcome:
    b = _bucket(tx, m.bucket)
    if b.object_lock is None and b.versioning != "Enabled":
        raise errors.InvalidBucketState(
            "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
    b.object_lock = m.config
    tx.update_bucket(b)
    return r.Outcome()


def set_bucket_lifecycle(tx: Tx, m: r.SetBucketLifecycle) -> r.Outcome:
    b = _bucket(tx, m.bucket)
    b.lifecycle = m.rules
    tx.update_bucket(b)
    tx.lc_reset(b.name, _lc_prefixes(b))
    return r.Outcome()


def _set_config(tx: Tx, bucket: str, name: str, value) -> r.Outcome:
    """A bucket configuration without rules of its own: replaced as a whole."""
    b = _bucket(tx, bucket)
    setattr(b, name, value)
    tx.update_bucket(b)
    return r.Outcome()


def set_bucket_tags(tx: Tx, m: r.SetBucketTags) -> r.Outcome:
    return _set_config(tx, m.bucket, "tags", m.tags)


def set_bucket_cors(tx: Tx, m: r.SetBucketCors) -> r.Outcome:
    return _set_config(tx, m.bucket, "cors", m.rules)


def set_bucket_policy(tx: Tx, m: r.SetBucketPolicy) -> r.Outcome:
    return _set_config(tx, m.bucket, "policy", m.policy)


def set_public_access_block(tx: Tx, m: r.SetPublicAccessBlock) -> r.Outcome:
    return _set_config(tx, m.bucket, "public_access_block", m.config)


def set_bucket_acl(tx: Tx, m: r.SetBucketAcl) -> r.Outcome:
    return _set_config(tx, m.bucket, "acl", m.acl)


def set_bucket_compression(tx: Tx, m: r.SetBucketCompression) -> r.Outcome:
    return _set_config(tx, m.bucket, "compression", m.mode)


def set_bucket_encryption(tx: Tx, m: r.SetBucketEncryption) -> r.Outcome:
    return _set_config(tx, m.bucket, "encryption", m.config)


def set_bucket_ownership(tx: Tx, m: r.SetBucketOwnership) -> r.Outcome:
    """Ownership controls; BucketOwnerEnforced needs a private bucket ACL (existing object
    ACLs stay, inert, until the controls change again)."""
    b = _bucket(tx, m.bucket)
    if m.ownership == ownership.ENFORCED and b.acl is not None:
        raise errors.InvalidBucketAclWithObjectOwnership(m.bucket)
    return _set_config(tx, m.bucket, "ownership", m.ownership)


# ---- object versions ----

def check_condition(cur: r.ObjectVersion | None, cond: r.Condition | None) -> None:
    """`cur` is the version the condition is about: for writes the current live version
    (None if the key has none or its current version is a delete marker), for deletes the
    current version itself, which may be a delete marker: it has a time and a size (0) but no
    ETag, so If-Match never matches it."""
    if cond is None:
        return
    if cond.if_none_match and cur is not None and not cur.delete_marker:
        raise errors.PreconditionFailed("If-None-Match")
    wants = (cond.if_match, cond.if_match_mtime, cond.if_match_size)
    if wants == (None, None, None):
        return
    if cur is None:
        if cond.if_match is None:
            return      # only time / size conditions: nothing there to differ, nothing to do
        raise errors.NoSuchKey()
    if cond.if_match is not None and (cur.delete_marker
                                      or cond.if_match not in ("*", cur.etag)):
        raise errors.PreconditionFailed("If-Match")
    if cond.if_match_mtime is not None and int(cond.if_match_mtime) != int(cur.mtime):
        raise errors.PreconditionFailed("x-amz-if-match-last-modified-time")
    if cond.if_match_size is not None and cond.if_match_size != cur.size:
        raise errors.PreconditionFailed("x-amz-if-match-size")


def _live(v: r.ObjectVersion | None) -> r.ObjectVersion | None:
    return None if v is None or v.delete_marker else v


def _refuse_if_locked(v: r.ObjectVersion, now: float, bypass: bool) -> None:
    why = v.locked(now)
    if why and not (why == "GOVERNANCE" and bypass):
        raise errors.ObjectLocked(why)


def _check_lock_allowed(b: r.Bucket, mode: str, legal_hold: bool | None) -> None:
    """A retention or legal hold needs the bucket's object lock."""
    if b.object_lock is None and (mode or legal_hold):
        raise errors.ObjectLockNotEnabled(b.name)


def _default_retention(b: r.Bucket, v: r.ObjectVersion) -> None:
    lock = b.object_lock
    if lock is None or not lock.mode or v.lock_mode:
        return
    days = lock.days or lock.years * 365
    v.lock_mode, v.lock_until = lock.mode, v.mtime + days * DAY


def _lc_prefixes(b: r.Bucket) -> list[str]:
    """The key prefixes the bucket's enabled lifecycle rules cover ([""]: every key)."""
    found = {rule.filter.prefix or "" for rule in b.lifecycle if rule.status == "Enabled"}
    return [""] if "" in found else sorted(found)


def _lc_covered(b: r.Bucket, key: str) -> bool:
    return bool(b.lifecycle) and any(key.startswith(p) for p in _lc_prefixes(b))


def _lc_touch(tx: Tx, b: r.Bucket, key: str, t: float) -> None:
    """A key a lifecycle rule may act on changed: the lifecycle worker looks at it."""
    if _lc_covered(b, key):
        tx.lc_schedule(b.name, key, "", t)


def _remove(tx: Tx, v: r.ObjectVersion, current: bool) -> list[str]:
    tx.remove(v, current)
    if not v.delete_marker:
        tx.count(v.bucket, -1, -v.size)
    return v.data_ids() + v.local_copies()


def _drop_null(tx: Tx, b: r.Bucket, key: str, cur: r.ObjectVersion | None, now: float,
               bypass: bool) -> tuple[list[str], r.ObjectVersion | None]:
    """Remove the key's `null` version, wherever it is, before a new one replaces it.
    Returns (freed data ids, the current version left, if any)."""
    if cur is not None and cur.version_id == "null":
        _refuse_if_locked(cur, now, bypass)
        return _remove(tx, cur, current=True), None
    if not b.versioning:
        return [], cur      # never versioned: a key has no version but its current one
    old = tx.noncurrent(b.name, key, "null")
    if old is None:
        return [], cur
    _refuse_if_locked(old, now, bypass)
    return _remove(tx, old, current=False), cur


def write_version(tx: Tx, b: r.Bucket, v: r.ObjectVersion,
                  cond: r.Condition | None) -> r.Outcome:
    """Make `v` the key's current version (PutObject, CompleteMultipartUpload, copies)."""
    if not v.vsort:     # a record of format 1: the key's null version, sorted by its time
        v.vsort = version_sort_at(v.mtime)
    cur = tx.current(v.bucket, v.key)
    check_condition(_live(cur), cond)
    v.version_id = v.vsort if b.versioned else "null"
    ownership.take_ownership(b, v)
    _check_lock_allowed(b, v.lock_mode, v.legal_hold)
    _default_retention(b, v)
    freed = []
    if not b.versioned:
        freed, cur = _drop_null(tx, b, v.key, cur, v.mtime, False)
    _place(tx, cur, v)
    tx.count(v.bucket, 1, v.size)
    _lc_touch(tx, b, v.key, v.mtime)
    return r.Outcome(freed, v.version_id)


def _place(tx: Tx, cur: r.ObjectVersion | None, v: r.ObjectVersion) -> None:
    """Add `v` to its key's history. Of concurrent writes to one key the newest version id
    wins (S3: "the request with the latest timestamp wins"), in whatever order they commit:
    a write that started before the current version's but commits after it (a long upload
    overtaken by a short one, in this or another worker) goes in as noncurrent, so a key's
    current version is always the newest of its history."""
    if cur is not None and cur.vsort and v.vsort > cur.vsort:
        tx.put_noncurrent(v)
        return
    if cur is not None:
        tx.demote(cur)
    tx.put_current(v)


def put_object(tx: Tx, m: r.PutObject) -> r.Outcome:
    return write_version(tx, _bucket(tx, m.version.bucket), m.version, m.condition)


def delete_object(tx: Tx, m: r.DeleteObject) -> r.Outcome:
    b = _bucket(tx, m.bucket)
    if m.version_id is not None:
        return _delete_version(tx, b, m)
    cur = tx.current(m.bucket, m.key)
    check_condition(cur, m.condition)
    if not b.versioning:
        # Never versioned: the key's only version is `null`; removing it leaves nothing.
        if cur is None:
            return r.Outcome()
        _refuse_if_locked(cur, m.now, m.bypass_governance)
        freed = _remove(tx, cur, current=True)
        tx.promote_newest(m.bucket, m.key)
        _lc_touch(tx, b, m.key, m.now)
        return r.Outcome(freed, cur.version_id)
    if not m.marker:
        raise ValueError("a delete in a versioned bucket needs its marker's sort key")
    marker = r.ObjectVersion(bucket=m.bucket, key=m.key, size=0, etag="", mtime=m.now,
                             owner=m.owner, vsort=m.marker, delete_marker=True)
    freed = []
    if b.versioned:
        marker.version_id = m.marker
    else:
        # Suspended: the marker is the `null` version, replacing any earlier one.
        marker.version_id = "null"
        freed, cur = _drop_null(tx, b, m.key, cur, m.now, m.bypass_governance)
    _place(tx, cur, marker)
    _lc_touch(tx, b, m.key, m.now)
    return r.Outcome(freed, marker.version_id, delete_marker=True)


def _delete_version(tx: Tx, b: r.Bucket, m: r.DeleteObject) -> r.Outcome:
    v = tx.version(m.bucket, m.key, m.version_id)
    if v is None:
        # S3 answers success for a version that is not there (already deleted).
        return r.Outcome([], m.version_id)
    cur = tx.current(m.bucket, m.key)
    is_current = cur is not None and cur.version_id == v.version_id
    check_condition(v, m.condition)
    _refuse_if_locked(v, m.now, m.bypass_governance)
    freed = _remove(tx, v, is_current)
    if is_current:
        tx.promote_newest(m.bucket, m.key)
    _lc_touch(tx, b, m.key, m.now)     # e.g. a delete marker left alone
    return r.Outcome(freed, v.version_id, v.delete_marker)


def _target(tx: Tx, bucket: str, key: str,
            version_id: str | None) -> tuple[r.ObjectVersion, bool]:
    """The version an object sub-resource request names: (version, is current). A delete
    marker cannot carry tags, retention or a legal hold."""
    _bucket(tx, bucket)
    cur = tx.current(bucket, key)
    if version_id is None:
        if cur is None:
            raise errors.NoSuchKey(key)
        if cur.delete_marker:
            raise errors.DeleteMarker(cur.version_id, current=True)
        return cur, True
    v = tx.version(bucket, key, version_id)
    if v is None:
        raise errors.NoSuchVersion(version_id)
    if v.delete_marker:
        raise errors.DeleteMarker(v.version_id, current=False)
    return v, cur is not None and cur.version_id == v.version_id


def set_object_tags(tx: Tx, m: r.SetObjectTags) -> r.Outcome:
    v, current = _target(tx, m.bucket, m.key, m.version_id)
    v.tags = m.tags
    tx.update_version(v, current)
    _lc_touch(tx, _bucket(tx, m.bucket), m.key, v.mtime)     # tag filters may now match
    return r.Outcome([], v.version_id)


def _lock_target(tx: Tx, m) -> tuple[r.ObjectVersion, bool]:
    """The version a retention or legal-hold change names, in a bucket with object lock."""
    if _bucket(tx, m.bucket).object_lock is None:
        raise errors.ObjectLockNotEnabled(m.bucket)
    return _target(tx, m.bucket, m.key, m.version_id)


def set_object_retention(tx: Tx, m: r.SetObjectRetention) -> r.Outcome:
    v, current = _lock_target(tx, m)
    if v.lock_mode and v.lock_until > m.now:
        weaker = m.until < v.lock_until or m.mode != v.lock_mode
        if weaker and (v.lock_mode == "COMPLIANCE" or not m.bypass_governance):
            raise errors.ObjectLocked(v.lock_mode)
    v.lock_mode, v.lock_until = m.mode, m.until if m.mode else 0.0
    tx.update_version(v, current)
    _lc_touch(tx, _bucket(tx, m.bucket), m.key, m.now)   # a lock may have ended early
    return r.Outcome([], v.version_id)


def set_object_acl(tx: Tx, m: r.SetObjectAcl) -> r.Outcome:
    v, current = _target(tx, m.bucket, m.key, m.version_id)
    v.acl = m.acl
    tx.update_version(v, current)
    return r.Outcome([], v.version_id)


def set_object_legal_hold(tx: Tx, m: r.SetObjectLegalHold) -> r.Outcome:
    v, current = _lock_target(tx, m)
    v.legal_hold = m.on
    tx.update_version(v, current)
    _lc_touch(tx, _bucket(tx, m.bucket), m.key, v.mtime)
    return r.Outcome([], v.version_id)


# ---- multipart uploads ----

def create_upload(tx: Tx, m: r.CreateUpload) -> r.Outcome:
    b = _bucket(tx, m.upload.bucket)
    _check_lock_allowed(b, m.upload.lock_mode, m.upload.legal_hold)
    # Who will own the object, as ListParts shows it; Complete decides again.
    probe = r.ObjectVersion(b.name, m.upload.key, 0, "", 0.0, m.upload.owner, acl=m.upload.acl)
    ownership.take_ownership(b, probe)
    m.upload.object_owner = probe.owner
    tx.insert_upload(m.upload)
    if _lc_covered(b, m.upload.key):
        tx.lc_schedule(b.name, m.upload.key, m.upload.upload_id, m.upload.initiated)
    return r.Outcome()


def put_part(tx: Tx, m: r.PutPart) -> r.Outcome:
    if tx.upload(m.part.upload_id) is None:
        raise errors.NoSuchUpload(m.part.upload_id)
    old = tx.put_part(m.part)
    return r.Outcome([old] if old and old != m.part.data_id else [])


def complete_upload(tx: Tx, m: r.CompleteUpload) -> r.Outcome:
    if tx.upload(m.upload_id) is None:
        raise errors.NoSuchUpload(m.upload_id)
    b = _bucket(tx, m.version.bucket)
    used = {p.data_id for p in m.version.parts}      # not its manifest: a new unit
    present = tx.part_ids(m.upload_id)
    if not used <= present:
        # A part was re-uploaded after the caller read the part list: its data is gone.
        raise errors.InvalidPart(m.upload_id)
    out = write_version(tx, b, m.version, m.condition)
    tx.delete_upload(m.upload_id)
    out.freed = list(present - used) + out.freed
    return out


def abort_upload(tx: Tx, m: r.AbortUpload) -> r.Outcome:
    if tx.upload(m.upload_id) is None:
        raise errors.NoSuchUpload(m.upload_id)
    return r.Outcome(tx.delete_upload(m.upload_id))


_RULES = {
    r.CreateBucket: create_bucket, r.DeleteBucket: delete_bucket,
    r.SetBucketVersioning: set_bucket_versioning,
    r.SetBucketObjectLock: set_bucket_object_lock,
    r.SetBucketLifecycle: set_bucket_lifecycle, r.SetBucketTags: set_bucket_tags,
    r.SetBucketCors: set_bucket_cors, r.SetBucketAcl: set_bucket_acl,
    r.SetBucketOwnership: set_bucket_ownership,
    r.SetBucketCompression: set_bucket_compression, r.SetObjectAcl: set_object_acl,
    r.SetBucketEncryption: set_bucket_encryption,
    r.PutObject: put_object, r.DeleteObject: delete_object,
    r.SetObjectTags: set_object_tags, r.SetObjectRetention: set_object_retention,
    r.SetObjectLegalHold: set_object_legal_hold,
    r.CreateUpload: create_upload, r.PutPart: put_part, r.CompleteUpload: complete_upload,
    r.AbortUpload: abort_upload,
    r.SetBucketPolicy: set_bucket_policy, r.SetPublicAccessBlock: set_public_access_block,
    **reseal_rules.RULES,       # key rotation: wrapped data keys re-sealed (compare-and-swap)
    **tier_rules.RULES,         # transitions to the cold tier, RestoreObject (compare-and-swap)
}
