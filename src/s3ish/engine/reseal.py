"""Key rotation without rewriting data: the reseal pass.

`s3ish admin kms rotate` adds a version to a key-encryption key (storage/kms.py); new data keys
are sealed under it, the ones already stored stay sealed under older versions. This pass moves
them: it walks every bucket's versions (current and noncurrent) and every open multipart
upload's parts, in pages, asks the KMS to re-seal each SSE-S3/SSE-KMS unit's wrapped data key
(`Kms.reseal`: the same data key, wrapped under its key's newest version) and commits one
journaled record per version (ResealDataKeys) and per upload part (ResealPartKey). Object data
is never read or rewritten: the data keys themselves do not change, only their wrapping.

- SSE-C units are wrapped by the customer's key, which is never stored: never touched.
- Compare-and-swap (meta/reseal_rules.py): a record replaces a key only if the unit still holds
  the text the pass read, so a version overwritten or deleted meanwhile is left as it is
  (counted `raced`).
- Idempotent and resumable: a key already under its key's newest version is left alone
  (`current`), so a second pass finds nothing to do and a pass cut short is completed by the
  next one. A version that moves behind the pass while it runs (the current version deleted and
  an older one promoted) may be missed: the next pass takes it.
- Shard headers (engine/selfdescribe.py) keep the wrapped key a unit was written with: they
  are never rewritten, so a rebuild from headers needs the key versions they name. Rotation
  only ever adds versions; never remove one from the keyring.

Memory: one page of records at a time. The event loop: scans run off it (or are short), the
KMS calls of a page run in one worker thread, and a page's records share group commits.
"""
import asyncio
import logging
from dataclasses import asdict, dataclass, field

from ..meta import records as r
from ..obs import metrics
from ..storage.kms import KmsError
from ..util.threads import run_io
from . import sse

log = logging.getLogger("s3ish.engine.reseal")

INLINE = r.ResealedKey.INLINE  # the data id that names a version's inline bytes
PAGE = 200                  # versions, uploads or parts per scan
MAX_FAILURES = 100          # failures reported one by one (all are counted)


@dataclass
class ResealReport:
    resealed: int = 0       # data keys now wrapped under their key's newest version
    current: int = 0        # already were: nothing to do
    sse_c: int = 0          # SSE-C units (wrapped by the customer's key): never touched
    raced: int = 0          # changed between the scan and the commit: left as they are
    failed: int = 0         # the KMS could not re-seal them (see failures)
    failures: list[dict] = field(default_factory=list)
    versions: int = 0       # encrypted versions looked at
    parts: int = 0          # encrypted parts of open uploads looked at

    def to_dict(self) -> dict:
        return asdict(self)

    def fail(self, where: dict, reason: str, n: int = 1) -> None:
        self.failed += n
        if len(self.failures) < MAX_FAILURES:
            self.failures.append({**where, "error": reason})


async def reseal_all(engine, page: int = PAGE) -> ResealReport:
    """Re-seal every SSE-S3/SSE-KMS data key not under its key's newest version."""
    if engine.kms is None:
        raise sse.KmsNotConfigured("reseal")
    report = ResealReport()
    after = ""
    while True:
        buckets = await engine.meta.scan_buckets(after, page)
        for b in buckets:
            await _versions(engine, b.name, report, page)
            await _uploads(engine, b.name, report, page)
        if len(buckets) < page:
            break
        after = buckets[-1].name
    log.info("reseal pass: %d data keys resealed, %d current, %d SSE-C left alone, %d changed "
             "meanwhile, %d failed", report.resealed, report.current, report.sse_c,
             report.raced, report.failed)
    for f in report.failures[:10]:
        log.warning("reseal: %s", f)
    return report


# ---- the units of one page: what the KMS says of each wrapped key (in a worker thread) ----

def _reseal(kms, sealed: str, report: ResealReport, where: dict) -> str | None:
    """The unit's key re-sealed, or None (already current, or failed: counted)."""
    try:
        new = kms.reseal(sealed)
    except KmsError as e:
        report.fail(where, str(e))
        return None
    if new is None:
        report.current += 1
    return new


def _plan_versions(kms, versions: list[r.ObjectVersion],
                   report: ResealReport) -> list[r.ResealDataKeys]:
    out = []
    for v in versions:
        units = [p for p in v.parts if p.sse_key]
        if v.inline_key:        # a small object's sealed bytes in its record
            units.append(r.DataPart(INLINE, v.size, sse_key=v.inline_key))
        if not units or v.delete_marker:
            continue
        report.versions += 1
        if v.sse == sse.SSE_C:
            report.sse_c += len(units)
            continue
        keys = []
        for p in units:
            where = {"bucket": v.bucket, "key": v.key, "version_id": v.version_id,
                     "data_id": p.data_id}
            new = _reseal(kms, p.sse_key, report, where)
            if new is not None:
                keys.append(r.ResealedKey(p.data_id, p.sse_key, new))
        if keys:
            out.append(r.ResealDataKeys(v.bucket, v.key, v.version_id, keys))
    return out


def _plan_parts(kms, upload: r.Upload, parts: list[r.Part],
                report: ResealReport) -> list[r.ResealPartKey]:
    units = [p for p in parts if p.sse_key]
    report.parts += len(units)
    if upload.sse == sse.SSE_C:
        report.sse_c += len(units)
        return []
    out = []
    for p in units:
        where = {"bucket": upload.bucket, "key": upload.key, "upload_id": upload.upload_id,
                 "part_number": p.part_number, "data_id": p.data_id}
        new = _reseal(kms, p.sse_key, report, where)
        if new is not None:
            out.append(r.ResealPartKey(p.upload_id, p.part_number,
                                       r.ResealedKey(p.data_id, p.sse_key, new)))
    return out


# ---- the walk ----

async def _versions(engine, bucket: str, report: ResealReport, page: int) -> None:
    key, vpos = "", None
    while True:
        rows = await engine.meta.scan_versions(bucket, key, vpos, None, page)
        if not rows:
            return
        plan = await run_io(_plan_versions, engine.kms, [row.version for row in rows], report)
        await _commit(plan, engine, report)
        if len(rows) < page:
            return
        key, vpos = rows[-1].key, rows[-1].vpos


async def _uploads(engine, bucket: str, report: ResealReport, page: int) -> None:
    key, upload_id = "", ""
    while True:
        uploads = await engine.meta.scan_uploads(bucket, key, upload_id, None, page)
        for u in uploads:
            if u.sse:
                await _parts(engine, u, report, page)
        if len(uploads) < page:
            return
        key, upload_id = uploads[-1].key, uploads[-1].upload_id


async def _parts(engine, upload: r.Upload, report: ResealReport, page: int) -> None:
    after = 0
    while True:
        parts = await engine.meta.list_parts(upload.upload_id, after, page)
        if not parts:
            return
        plan = await run_io(_plan_parts, engine.kms, upload, parts, report)
        await _commit(plan, engine, report)
        if len(parts) < page:
            return
        after = parts[-1].part_number


async def _commit(records: list, engine, report: ResealReport) -> None:
    """Apply a page's records together (they share the store's group commits)."""
    if not records:
        return
    results = await asyncio.gather(*(engine.meta.apply(m) for m in records),
                                   return_exceptions=True)
    for m, out in zip(records, results):
        units = m.keys if isinstance(m, r.ResealDataKeys) else [m.unit]
        if isinstance(out, BaseException):
            if not isinstance(out, Exception):
                raise out
            where = {"upload_id": m.upload_id, "part_number": m.part_number} \
                if isinstance(m, r.ResealPartKey) else \
                {"bucket": m.bucket, "key": m.key, "version_id": m.version_id}
            report.fail(where, f"commit failed: {out}", len(units))
            continue
        report.resealed += out.changed
        report.raced += len(units) - out.changed
        metrics.KMS_RESEALED.inc(out.changed)
