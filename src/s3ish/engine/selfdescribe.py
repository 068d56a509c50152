"""Self-describing data: the metadata each data unit carries in its shard headers, and the
index rebuilt from it when every journal copy and snapshot is lost.

What a unit carries (the `extra` field of its shard headers, see storage/shardfile.py):
- "object": a simple object's version record, without its data layout (the unit is its
  only part): bucket, key, version id, owner, content type, standard headers, user metadata,
  storage class, tags given at upload, checksum algorithm, the retention, legal hold and ACL
  asked at upload, its encryption (mode, KMS key id, context, bucket key); at commit the
  size, ETag, checksum and time, and how the unit is stored (compression, stored size, the
  wrapped data key of an encrypted unit: the shard headers then hold only ciphertext and
  wrapped keys, and a rebuilt index reads encrypted objects back as before). Headers are
  never rewritten: after a key rotation and a reseal (engine/reseal.py) they still name the
  key version the unit was written with, which the keyring keeps.
- "part": a multipart part: bucket, key, upload (the CreateMultipartUpload record), part
  number (the upload record carries the encryption chosen at its creation); at commit size,
  ETag, checksum, time, how the unit is stored (as for objects).
- "manifest": a unit whose bytes are a completed multipart object's whole version record
  (with its part list), written at CompleteMultipartUpload.
Changes made later without new data (tags, retention or legal hold set afterwards, a bucket's
default retention) are not in the headers: a rebuild from headers shows what was given at
upload. A bucket holding a version with a retention or legal hold comes back with object lock
(and versioning) on, as only such a bucket could hold one. An object deleted just before a crash, whose
data was not yet removed, comes back: a header rebuild may keep too much, never too little.

Versions: every version with data comes back with its version id (its sort key) and its
place in the key's history, a `null` version as `null`. What cannot come back:
- delete markers (no data unit): a key whose current version was a marker shows its newest
  version as current again;
- a bucket's versioning state as set last: it is the state its newest version was written
  in (Enabled, or Suspended for a `null` version written after versioned ones); a bucket
  whose versioning was switched on but holds no versioned unit comes back unversioned;
- object lock on a bucket none of whose versions or uploads carries a retention or legal
  hold, and every other bucket configuration (lifecycle, tags, CORS, default retention,
  the compression setting, the default encryption: units written compressed or encrypted
  still read back, they say so);
- users, access keys and identity policies (they are in the journal, not in any unit): the
  root and auth-file users are imported again at the next start with their old canonical
  ids; users and keys made through the IAM API are lost.
"""
import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field

from ..meta import records as r
from ..storage.drives import DriveSet
from ..storage.erasure import make_codec
from ..storage.erasure_store import ErasureDataStore
from ..storage.shardfile import ShardCorrupt, ShardReader
from ..util import checksums
from ..util.errors import QuorumError
from ..util.ids import version_sort_at
from .types import Digests, PutSpec

_KEEP = ("owner", "content_type", "headers", "user_meta", "storage_class",
         "checksum_algorithm", "tags")


_LOCK = {"lock_mode": "", "lock_until": 0.0, "legal_hold": None}   # absent in older units
# A version's encryption (absent in older units and unencrypted ones: none).
_SSE = {"sse": "", "sse_kms_key_id": "", "sse_context": "", "sse_bucket_key": False}


def object_meta(bucket: str, key: str, spec: PutSpec, vsort: str = "",
                versioned: bool = False, sse: dict | None = None) -> dict:
    """`versioned`: the bucket gave new versions ids of their own when this was written (the
    version's id is then its sort key; else it is the key's `null` version). `sse`: the
    version's encryption fields (sse.Applied.fields())."""
    return {"kind": "object", "bucket": bucket, "key": key, "version_id": "null",
            **{name: value for name, value in (sse or {}).items() if value},
            **{name: getattr(spec, name) for name in (*_KEEP, *_LOCK)},
            "acl": [dataclasses.asdict(g) for g in spec.acl] if spec.acl is not None else None,
            "checksum_type": "FULL_OBJECT" if spec.checksum_algorithm else "",
            "vsort": vsort, "versioned": versioned}


def part_meta(upload: r.Upload, part_number: int) -> dict:
    return {"kind": "part", "bucket": upload.bucket, "key": upload.key,
            "upload": dataclasses.asdict(upload), "part_number": part_number}


def final_meta(digests: Digests, etag: str | None = None) -> dict:
    """`etag`: the unit's ETag when it is not the plaintext's MD5 (sse.unit_etag)."""
    return {"size": digests.size, "etag": etag or digests.md5.hex(), "mtime": digests.mtime,
            "checksum": checksums.b64(digests.checksum) if digests.checksum else ""}


def manifest_meta(v: r.ObjectVersion, versioned: bool = False) -> dict:
    return {"kind": "manifest", "bucket": v.bucket, "key": v.key, "versioned": versioned}


def manifest_body(v: r.ObjectVersion) -> bytes:
    doc = dataclasses.asdict(v)
    doc.pop("inline")
    return json.dumps(doc, separators=(",", ":")).encode()


# ---- what a restore writes back (`s3ish restore`: units fetched from the cold tier) ----

def restored_units(v: r.ObjectVersion) -> list[tuple[str, dict | None]]:
    """(data id, shard-header metadata) of each data unit of a restored version: what its
    writer gave, made again from the record, so a header rebuild of the restored drives finds
    the version. The record holds the version as it is now (tags, retention, ACL set later
    included), which a header rebuild then shows. A manifest's entry still lacks the fields
    only its bytes give (`manifest_final`). Units of a multipart object that has no manifest
    unit (written on one folder) get None: without a manifest their headers could only
    describe an open upload, and a header rebuild refuses undescribed units rather than
    invent one."""
    versioned = v.version_id != "null"
    if not v.manifest and len(v.parts) == 1 and not v.is_multipart:
        p = v.parts[0]
        acl = [dataclasses.asdict(g) for g in v.acl] if v.acl is not None else None
        return [(p.data_id, {
            "kind": "object", "bucket": v.bucket, "key": v.key, "version_id": "null",
            **{name: getattr(v, name) for name in (*_KEEP, *_LOCK)}, "acl": acl,
            "checksum_type": v.checksum_type or ("FULL_OBJECT" if v.checksum_algorithm
                                                 else ""),
            "vsort": v.vsort, "versioned": versioned,
            "size": v.size, "etag": v.etag, "mtime": v.mtime, "checksum": v.checksum_value,
            **_stored(p)})]
    if not v.manifest:
        return [(p.data_id, None) for p in v.parts]
    # The upload the parts came from is gone with its completion (its id with it): one made
    # of the version ties the parts together, and the manifest marks it completed.
    upload = r.Upload(upload_id=f"restored-{v.manifest}", bucket=v.bucket, key=v.key,
                      initiated=v.mtime, owner=v.owner, content_type=v.content_type,
                      headers=v.headers, user_meta=v.user_meta,
                      storage_class=v.storage_class, checksum_algorithm=v.checksum_algorithm,
                      checksum_type=v.checksum_type, tags=v.tags, lock_mode=v.lock_mode,
                      lock_until=v.lock_until, legal_hold=v.legal_hold, acl=v.acl)
    out = [(p.data_id, {**part_meta(upload, n), "size": p.size, "etag": p.etag,
                        "mtime": v.mtime, "checksum": p.checksum, **_stored(p)})
           for n, p in enumerate(v.parts, 1)]
    return out + [(v.manifest, manifest_meta(v, versioned))]


def restored_part(upload: r.Upload, part: r.Part) -> dict:
    """The shard-header metadata of an open upload's part, made again from its records."""
    return {**part_meta(upload, part.part_number), "size": part.size, "etag": part.etag,
            "mtime": part.mtime, "checksum": part.checksum, **_stored(part)}


def manifest_final(v: r.ObjectVersion, body: bytes) -> dict:
    """What a manifest unit's commit added to its header: its own size and MD5."""
    return {"size": len(body), "etag": hashlib.md5(body).hexdigest(), "mtime": v.mtime,
            "checksum": ""}


def manifest_matches(v: r.ObjectVersion, body: bytes) -> bool:
    """The manifest unit's bytes are this version's record (same object, same parts)."""
    try:
        m = _version_from_manifest(body)
    except (ValueError, TypeError, AttributeError):
        return False
    return (m.bucket, m.key, m.etag, m.size, [p.data_id for p in m.parts]) == \
        (v.bucket, v.key, v.etag, v.size, [p.data_id for p in v.parts])


def _stored(part) -> dict:
    """How a unit is stored, as a compressing writer adds it to the header."""
    if not part.compression:
        return {}
    return {"compression": part.compression, "stored_size": part.stored_size}


def _version_from_manifest(body: bytes) -> r.ObjectVersion:
    doc = json.loads(body)
    doc["parts"] = [r.DataPart(**p) for p in doc.get("parts", [])]
    return r.ObjectVersion(**doc)


def _version_from_object(data_id: str, extra: dict) -> r.ObjectVersion:
    checksum = extra.get("checksum", "")
    return r.ObjectVersion(vsort=extra.get("vsort", ""),
        bucket=extra["bucket"], key=extra["key"], size=extra["size"], etag=extra["etag"],
        mtime=extra["mtime"], version_id=extra.get("version_id", "null"),
        **{name: extra[name] for name in _KEEP},
        **{name: extra.get(name, default) for name, default in _LOCK.items()},
        **{name: extra.get(name, default) for name, default in _SSE.items()},
        acl=extra.get("acl"),            # absent in older units: private
        checksum_value=checksum, checksum_type=extra.get("checksum_type", "") if checksum
        else "", parts=[r.DataPart(data_id, extra["size"], extra["etag"], checksum,
                                   **_coding(extra))])


def _coding(extra: dict) -> dict:
    """How the unit is stored (absent in older units and plain ones: as it is)."""
    return {"compression": extra.get("compression", ""),
            "stored_size": extra.get("stored_size", 0), "sse_key": extra.get("sse_key", "")}


@dataclass
class Scan:
    """What the shard headers of a set of drives say."""
    units: dict = field(default_factory=dict)        # data id -> header extra
    undescribed: list = field(default_factory=list)  # data ids without metadata
    versions: dict = field(default_factory=dict)     # (bucket, key) -> newest null version
    # (bucket, key, vsort) -> a version written while its bucket had versioning on
    versioned: dict = field(default_factory=dict)
    uploads: int = 0
    parts: int = 0
    buckets: dict = field(default_factory=dict)      # name -> Bucket
    _uploads: dict = field(default_factory=dict)     # upload id -> (Upload, {n: Part})

    @property
    def objects(self) -> int:
        return len(self.versions) + len(self.versioned)

    def mutations(self) -> list:
        """Buckets, then every version of every key oldest first, each written in the
        versioning state it was written in (a bucket is switched to Enabled before a version
        written with its own id, to Suspended before a `null` version that follows one), then
        open uploads. A bucket's object lock is switched on before the first version that
        needs it, or at the end. Delete markers have no data unit: the shard headers cannot
        bring them back."""
        locks = {b.name: b.object_lock for b in self.buckets.values() if b.object_lock}
        out = [r.CreateBucket(dataclasses.replace(b, versioning="", object_lock=None))
               for b in self.buckets.values()]
        state: dict[str, str] = {}
        writes = [(v, False) for v in self.versions.values()]
        writes += [(v, True) for v in self.versioned.values()]
        # Sort keys grow older as they grow: the largest first is the oldest first.
        writes.sort(key=lambda w: w[0].vsort or version_sort_at(w[0].mtime), reverse=True)
        for v, versioned in writes:
            if v.bucket in locks and (v.lock_mode or v.legal_hold):
                out += _lock(state, v.bucket, locks.pop(v.bucket))
            wanted = "Enabled" if versioned else ("Suspended" if state.get(v.bucket) else "")
            out += _switch(state, v.bucket, wanted)
            out.append(r.PutObject(v))
        for name, lock in locks.items():
            out += _lock(state, name, lock)
        for upload, parts in self._uploads.values():
            out.append(r.CreateUpload(upload))
            out += [r.PutPart(p) for p in parts.values()]
        return out


def _lock(state: dict, bucket: str, lock: r.ObjectLockConfig) -> list:
    out = [*_switch(state, bucket, "Enabled"), r.SetBucketObjectLock(bucket, lock)]
    state[bucket] = "locked"
    return out


def _switch(state: dict, bucket: str, wanted: str) -> list:
    """The record that puts `bucket` in versioning state `wanted`, if it is not there yet
    (a bucket never goes back to "", and one with object lock stays Enabled)."""
    if not wanted or state.get(bucket) in (wanted, "locked"):
        return []
    state[bucket] = wanted
    return [r.SetBucketVersioning(bucket, wanted)]


def _headers(drives: list[str]) -> dict:
    """data id -> (header, drive count seen) from the first readable shard of each unit."""
    found = {}
    for drive in drives:
        root = os.path.join(drive, "objects")
        try:
            subs = os.listdir(root)
        except OSError:
            continue
        for sub in subs:
            try:
                names = os.listdir(os.path.join(root, sub))
            except OSError:
                continue
            for name in names:
                data_id = name.split(".")[0]
                if data_id in found:
                    continue
                header = _read_header(os.path.join(root, sub, name))
                if header is not None:
                    found[data_id] = header
    return found


def _read_header(path: str):
    try:
        # The header is read before any chunk: the fragment size does not matter here.
        with ShardReader.open(path, lambda n: n) as reader:
            return reader.header
    except (OSError, ShardCorrupt):
        return None


def scan_drives(drives: list[str], skip=frozenset()) -> Scan:
    """Read every unit's metadata from its shard headers and work out the index: for each
    key the newest version; parts no completed object uses belong to open uploads. Units in
    `skip` (freed, kept for the cold tier: storage/graveyard.py) are not read, nor are
    RestoreObject's temporary copies of units in the tier (kind "copy": bg/transition.py)."""
    scan = Scan()
    headers = {d: h for d, h in _headers(drives).items()
               if d not in skip and h.extra.get("kind") != "copy"}
    for data_id, header in headers.items():
        if _describes(header.extra):
            scan.units[data_id] = header.extra
        else:
            scan.undescribed.append(data_id)
    if not headers:
        return scan
    first = next(iter(headers.values()))
    store = _store(drives, first.k, first.m)
    used = set()
    for data_id, extra in list(scan.units.items()):
        try:
            if extra["kind"] == "object":
                _offer(scan, _version_from_object(data_id, extra), extra.get("versioned"))
            elif extra["kind"] == "manifest":
                v = _version_from_manifest(_read_unit(store, data_id))
                v.manifest = data_id
                _offer(scan, v, extra.get("versioned"))
        except (KeyError, TypeError, ValueError, OSError, QuorumError):
            # Metadata that does not make a record (damaged beyond its CRC, an unreadable
            # manifest): the unit counts as undescribed, and the rebuild is refused.
            del scan.units[data_id]
            scan.undescribed.append(data_id)
    for v in list(scan.versions.values()) + list(scan.versioned.values()):
        used.update(v.data_ids())
    # Uploads some kept object was completed from: their leftover parts were not chosen.
    completed = {scan.units[i]["upload"].get("upload_id") for i in used
                 if scan.units.get(i, {}).get("kind") == "part"}
    for data_id, extra in list(scan.units.items()):
        if extra["kind"] != "part" or data_id in used or \
                extra["upload"].get("upload_id") in completed:
            continue
        try:
            _offer_part(scan, data_id, extra)
        except (KeyError, TypeError, ValueError):
            del scan.units[data_id]
            scan.undescribed.append(data_id)
    every = [*scan.versions.values(), *scan.versioned.values()]
    for v in every:
        _bucket(scan, v.bucket, v.owner, v.mtime)
    for upload, _ in scan._uploads.values():
        _bucket(scan, upload.bucket, upload.owner, upload.initiated)
    for v in [*every, *(u for u, _ in scan._uploads.values())]:
        if v.lock_mode or v.legal_hold:
            b = scan.buckets[v.bucket]
            b.versioning, b.object_lock = "Enabled", b.object_lock or r.ObjectLockConfig()
    scan.uploads = len(scan._uploads)
    scan.parts = sum(len(p) for _, p in scan._uploads.values())
    return scan


_NEEDED = {"object": ("bucket", "key", "etag", "size", "mtime", *_KEEP),
           "part": ("bucket", "key", "etag", "size", "mtime", "upload", "part_number"),
           "manifest": ("bucket", "key", "etag", "size")}


def _describes(extra: dict) -> bool:
    """The header carries complete metadata of a kind this version knows."""
    needed = _NEEDED.get(extra.get("kind"))
    if needed is None or not all(name in extra for name in needed):
        return False
    return extra["kind"] != "part" or isinstance(extra["upload"], dict)


def _store(drives: list[str], k: int, m: int) -> ErasureDataStore:
    drive_set = DriveSet(drives, k, m)
    drive_set.load()
    return ErasureDataStore(drive_set, make_codec(k, m), durable=False)


def _read_unit(store: ErasureDataStore, data_id: str) -> bytes:
    handle = store.open(data_id)
    try:
        return handle.read_at(0, handle.header.size)
    finally:
        handle.close()


def _offer(scan: Scan, v: r.ObjectVersion, versioned: bool = False) -> None:
    """Keep every versioned version, and the newest null version of each key (an overwrite
    whose old data was not removed yet leaves both on the drives)."""
    if versioned and v.vsort:
        scan.versioned[(v.bucket, v.key, v.vsort)] = v
        return
    have = scan.versions.get((v.bucket, v.key))
    if have is None or (v.mtime, v.data_ids()) > (have.mtime, have.data_ids()):
        scan.versions[(v.bucket, v.key)] = v


def _offer_part(scan: Scan, data_id: str, extra: dict) -> None:
    upload = r.Upload(**extra["upload"])
    _, parts = scan._uploads.setdefault(upload.upload_id, (upload, {}))
    n = extra["part_number"]
    part = r.Part(upload.upload_id, n, data_id, extra["size"], extra["etag"], extra["mtime"],
                  extra.get("checksum", ""), **_coding(extra))
    if n not in parts or (part.mtime, data_id) > (parts[n].mtime, parts[n].data_id):
        parts[n] = part


def _bucket(scan: Scan, name: str, owner: str, when: float) -> None:
    have = scan.buckets.get(name)
    if have is None or when < have.created:
        scan.buckets[name] = r.Bucket(name, owner, when, "")
