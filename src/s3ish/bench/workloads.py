"""The workloads: what each concurrent worker does, and what must exist before it starts.

- put: PUT new objects of --size.
- get: pre-populate --objects objects, then GET random ones (whole body read and checked).
- mixed: pre-populate, then a weighted mix of GET / PUT (new keys) / DELETE (--mix G:P:D);
  a key is never deleted while a GET of it is in flight, so a correct server sees no 404.
- list: pre-populate --objects keys, then page through them with ListObjectsV2 (--max-keys per
  page); every complete listing must return exactly the keys written.
- multipart: create / upload parts of --part-size / complete, for objects of --size.
- delete: pre-populate --objects objects, then DELETE each one once.
- versions: switch versioning on, pre-populate --objects keys with --versions versions each,
  then page through them with ListObjectVersions (--max-keys per page); every complete
  listing must return exactly the versions written, each (key, version id) once.

Every worker owns one connection; `Run.take()` decides whether another operation may start
(duration, --count, or the workload running out of objects).
"""
import asyncio
import random
from time import perf_counter

from xml.sax.saxutils import unescape

from .client import S3Error
from ..util.httpclient import HTTPError

ERRORS = (S3Error, HTTPError, OSError, asyncio.TimeoutError)


class Workload:
    name = ""
    ops = ()               # operation names, in report order
    prefill = False        # pre-populate run.objects objects before the measured phase
    aggregates = ()        # operations made of others, left out of the total

    def __init__(self, run):
        self.run = run
        self.keys: list[str] = []   # encoded paths of the pre-populated objects

    async def prepare(self) -> None:
        if self.prefill:
            self.keys = await self.run.fill(self.run.objects)

    async def worker(self, index: int, conn) -> None:
        raise NotImplementedError


async def timed_put(s3, rec, conn, path: str, body) -> bool:
    """One PUT, recorded as an op or an error; True if it succeeded."""
    t = perf_counter()
    try:
        await s3.put(conn, path, body)
    except ERRORS as e:
        rec.error("PUT", e)
        return False
    rec.ok("PUT", perf_counter() - t, len(body))
    return True


class Put(Workload):
    name, ops = "put", ("PUT",)

    async def worker(self, index, conn):
        run, s3, rec, body = self.run, self.run.s3, self.run.rec, self.run.payload
        seq = 0
        while run.take():
            path = s3.key_path(f"{run.prefix}w{index}-{seq}")
            seq += 1
            await timed_put(s3, rec, conn, path, body)


class Get(Workload):
    name, ops, prefill = "get", ("GET",), True

    async def worker(self, index, conn):
        run, s3, rec, keys, size = self.run, self.run.s3, self.run.rec, self.keys, self.run.size
        choice = random.choice
        while run.take():
            t = perf_counter()
            try:
                resp = await s3.get(conn, choice(keys))
            except ERRORS as e:
                rec.error("GET", e)
                continue
            if resp.nbytes != size:
                rec.error("GET", f"GET returned {resp.nbytes} bytes, expected {size}")
                continue
            rec.ok("GET", perf_counter() - t, size)


class KeyPool:
    """Live keys for the mixed workload, with O(1) random pick and removal and a count of
    GETs in flight per key (a key being read is not chosen for deletion)."""

    def __init__(self, keys):
        self.keys = list(keys)
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.reading: dict[str, int] = {}

    def __len__(self):
        return len(self.keys)

    def add(self, key: str) -> None:
        self.index[key] = len(self.keys)
        self.keys.append(key)

    def pick(self) -> str:
        return random.choice(self.keys)

    def take_for_delete(self) -> str | None:
        for _ in range(8):
            key = random.choice(self.keys)
            if not self.reading.get(key):
                i, last = self.index.pop(key), self.keys.pop()
                if last != key:
                    self.keys[i] = last
                    self.index[last] = i
                return key
        return None


class Mixed(Workload):
    name, ops, prefill = "mixed", ("GET", "PUT", "DELETE"), True

    async def prepare(self):
        await super().prepare()
        self.pool = KeyPool(self.keys)
        g, p, d = self.run.mix
        total = g + p + d
        self.cut_get, self.cut_put = g / total, (g + p) / total

    async def worker(self, index, conn):
        run, s3, rec, pool, size = self.run, self.run.s3, self.run.rec, self.pool, self.run.size
        body, seq = run.payload, 0
        while run.take():
            r = random.random()
            key = None
            if r < self.cut_get and len(pool):
                key = pool.pick()
                pool.reading[key] = pool.reading.get(key, 0) + 1
                t = perf_counter()
                try:
                    resp = await s3.get(conn, key)
                except ERRORS as e:
                    rec.error("GET", e)
                    continue
                finally:
                    if pool.reading[key] == 1:
                        del pool.reading[key]
                    else:
                        pool.reading[key] -= 1
                if resp.nbytes != size:
                    rec.error("GET", f"GET returned {resp.nbytes} bytes, expected {size}")
                else:
                    rec.ok("GET", perf_counter() - t, size)
                continue
            if r >= self.cut_put and len(pool):
                key = pool.take_for_delete()
            if key is not None:
                t = perf_counter()
                try:
                    await s3.delete(conn, key)
                except ERRORS as e:
                    rec.error("DELETE", e)
                    continue
                rec.ok("DELETE", perf_counter() - t)
                continue
            path = s3.key_path(f"{run.prefix}w{index}-{seq}")
            seq += 1
            if await timed_put(s3, rec, conn, path, body):
                pool.add(path)


class List(Workload):
    name, ops, prefill = "list", ("LIST",), True

    async def worker(self, index, conn):
        run, s3, rec = self.run, self.run.s3, self.run.rec
        expected, max_keys = len(self.keys), run.max_keys
        while True:
            token, seen = None, 0
            while True:
                if not run.take():
                    return
                t = perf_counter()
                try:
                    resp, keys, token = await s3.list_page(conn, run.prefix, token, max_keys)
                except ERRORS as e:
                    rec.error("LIST", e)
                    break
                rec.ok("LIST", perf_counter() - t, len(resp.body))
                seen += len(keys)
                if not token:
                    if seen != expected:
                        rec.error("LIST", f"a full listing returned {seen} keys, "
                                          f"expected {expected}")
                    break


class Multipart(Workload):
    name = "multipart"
    ops = ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "object")
    aggregates = ("object",)   # one whole upload, create to complete

    async def worker(self, index, conn):
        run, s3, rec = self.run, self.run.s3, self.run.rec
        size, part_size, payload = run.size, run.part_size, memoryview(run.payload)
        seq = 0
        while run.take():
            path = s3.key_path(f"{run.prefix}w{index}-{seq}")
            seq += 1
            start = t = perf_counter()
            try:
                upload_id = await s3.create_multipart(conn, path)
            except ERRORS as e:
                rec.error("CreateMultipartUpload", e)
                continue
            rec.ok("CreateMultipartUpload", perf_counter() - t)
            etags, offset, failed = [], 0, False
            while offset < size or not etags:
                if run.stopping():
                    failed = True  # the run is over: abandon this upload, do not stretch it
                    break
                n = min(part_size, size - offset)
                t = perf_counter()
                try:
                    etags.append(await s3.upload_part(conn, path, upload_id, len(etags) + 1,
                                                      payload[:n]))
                except ERRORS as e:
                    rec.error("UploadPart", e)
                    failed = True
                    break
                rec.ok("UploadPart", perf_counter() - t, n)
                offset += n
            if not failed:
                t = perf_counter()
                try:
                    await s3.complete_multipart(conn, path, upload_id, etags)
                    rec.ok("CompleteMultipartUpload", perf_counter() - t)
                    rec.ok("object", perf_counter() - start, size)
                    continue
                except ERRORS as e:
                    rec.error("CompleteMultipartUpload", e)
            try:
                await s3.abort_multipart(conn, path, upload_id)
            except ERRORS:
                pass


class Delete(Workload):
    name, ops, prefill = "delete", ("DELETE",), True

    async def worker(self, index, conn):
        run, s3, rec, keys = self.run, self.run.s3, self.run.rec, self.keys
        while keys and run.take():
            path = keys.pop()
            t = perf_counter()
            try:
                await s3.delete(conn, path)
            except ERRORS as e:
                rec.error("DELETE", e)
                continue
            rec.ok("DELETE", perf_counter() - t)


class Versions(Workload):
    name, ops, prefill = "versions", ("LIST-VERSIONS",), True

    async def prepare(self):
        run = self.run
        try:
            await run.s3.put_versioning(run.conns[0])
        except ERRORS as e:
            raise RuntimeError(f"cannot switch versioning on: {e}") from None
        self.expected = run.objects * run.versions
        if run.prefilled:
            return
        paths = [run.s3.key_path(f"{run.prefix}{i:08d}") for i in range(run.objects)]
        # Round-robin over the keys: a key's versions are written by many connections.
        todo = (p for _ in range(run.versions) for p in paths)
        conns = [run.s3.connection(run.cfg.timeout) for _ in range(run.cfg.fill_concurrency)]
        try:
            await run.fill_with(conns, todo, self.expected)
        finally:
            for c in conns:
                c.close()

    async def worker(self, index, conn):
        run, s3, rec = self.run, self.run.s3, self.run.rec
        while True:
            marker, seen = None, set()
            while True:
                if not run.take():
                    return
                t = perf_counter()
                try:
                    resp, found, marker = await s3.list_versions_page(conn, run.prefix, marker,
                                                                      run.max_keys)
                except ERRORS as e:
                    rec.error("LIST-VERSIONS", e)
                    break
                rec.ok("LIST-VERSIONS", perf_counter() - t, len(resp.body))
                before = len(seen)
                seen.update(k + b" " + v for k, v in found)
                if len(seen) - before != len(found):
                    rec.error("LIST-VERSIONS", "a version was listed twice")
                    break
                if marker is None:
                    if len(seen) != self.expected:
                        rec.error("LIST-VERSIONS", f"a full listing returned {len(seen)} "
                                                   f"versions, expected {self.expected}")
                    break

    async def cleanup(self, delete_bucket: bool) -> None:
        """Remove every version under the run's prefix for good (a plain delete would only
        stack delete markers), then the bucket if the run created it."""
        run, conn = self.run, self.run.conns[0]
        last = None
        while True:
            # Always the first page: some servers lose their place once its versions are gone.
            _, found, _ = await run.s3.list_versions_page(conn, run.prefix, None, 1000)
            if not found:
                break
            if found[0] == last:
                raise S3Error("DeleteObjects", 200, "", "versions deleted are still listed")
            last = found[0]
            await run.s3.delete_versions(conn, [(unescape(k.decode()), unescape(v.decode()))
                                                for k, v in found])
        if delete_bucket:
            await run.s3.delete_bucket(conn)


WORKLOADS = {w.name: w for w in (Put, Get, Mixed, List, Multipart, Delete, Versions)}
