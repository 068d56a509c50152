"""Wiring: build the stores, the engine, the S3 frontend and the background workers; serve
the reserved endpoints (`/_health`, `/_ready`, `/_metrics`, `/_admin/`, `/_console/`) beside
S3; recover at start-up (launch.py starts the process and runs App in each worker).
"""
import asyncio
import fcntl
import glob
import json
import logging
import os

from . import startup
from .admin.access import bearer_ok, root_refusal
from .admin.api import AdminAPI
from .admin.restore.local import refuse_partial
from .bg import worker
from .bg.drivewatch import DriveWatcher
from .bg.healer import Healer
from .bg.lifecycle import LifecycleWorker
from .bg import followlocal, tiership
from .bg.logkeeper import LogKeeper
from .bg.transition import TierMover
from .bg.scrubber import HealStatus, Scrubber
from .bg.uploads import UploadReaper
from .config import Config
from .console.assets import Console
from .engine.iam import Identities
from .engine.multipart import Multipart
from .engine.cold import ColdStore
from .engine.objects import Engine
from .http import protocol
from .http.asgi import Request, Response, send_response
from .iamapi.handler import IamAPI, is_iam_request
from .obs import logging as obs_logging
from .obs import metrics
from .meta import journal as meta_journal
from .meta.sqlite import SqliteMetaStore
from .meta.sqlite_tx import IndexTooNew
from .s3.auth.users import StoreUsers
from .s3.frontend import S3Frontend, Services, connection_error
from .storage.datastore import FolderDataStore, MemoryDataStore
from .storage.drives import DriveSet, DriveSetError, single_folder_check
from .storage.erasure import default_layout, make_codec
from .storage.erasure_store import ErasureDataStore
from .storage.graveyard import Graveyard
from .storage.kms import KmsError, load_kms
from .tier import localstate as tier_local
from .tier.blocking import BlockingReader
from .util.threads import io_queue_depth, run_io

log = logging.getLogger("s3ish")


def open_stores(cfg: Config, drive_set: DriveSet | None = None):
    """The metadata and data stores. With drives, recovery (one process) has formatted
    them; workers only load their states (`drive_set` is recovery's own). A follower's
    store refuses every mutation (its index moves only by what it applies)."""
    if cfg.in_memory:
        return SqliteMetaStore(":memory:"), MemoryDataStore()
    os.makedirs(cfg.data, exist_ok=True)
    db = os.path.join(cfg.data, "meta.sqlite3")
    journal = None
    if cfg.erasure:
        k, m = default_layout(len(cfg.drives), cfg.parity)
        if drive_set is None:
            drive_set = DriveSet(cfg.drives, k, m)
            drive_set.load()
        data = ErasureDataStore(drive_set, make_codec(k, m), durable=cfg.durable)
        journal = meta_journal.Journal(cfg.drives, drive_set.write_quorum(),
                                       durable=cfg.durable)
    else:
        data = FolderDataStore(cfg.data, durable=cfg.durable)
        # The journal is the commit point on one folder too (startup.py made its folder).
        journal = meta_journal.Journal([cfg.data], 1, durable=cfg.durable)
    if not os.path.exists(db) and data.list_ids():
        # Data without its index: starting would treat every object as an orphan.
        raise SystemExit(f"s3ish: metadata database {db} is missing but the data folders "
                         "hold objects: refusing to start (restore it or rebuild the index)")
    return SqliteMetaStore(db, durable=cfg.durable, journal=journal,
                           read_only=cfg.read_only), data


class App:
    """The ASGI application of one worker process."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.engine = None
        self.kms = None
        self.s3 = None
        self.tasks: list[asyncio.Task] = []
        self.user_watch: asyncio.Task | None = None
        self.grpc = None          # the gRPC server of this worker (--protocol grpc|both)
        self.console = Console()

    def _start(self) -> None:
        self.kms = load_kms(self.cfg.kms_keyring or None, os.environ)
        meta, data = open_stores(self.cfg)
        self.engine = Engine(meta, data, self.cfg.compression, kms=self.kms)
        self.engine.tier_class = self.cfg.tier_storage_class
        self.engine.lifecycle_day = self.cfg.lifecycle_day_seconds
        if self.cfg.writer_tier:
            self.engine.graveyard = Graveyard(tier_local.folder(self.cfg.data))
        if self.cfg.tier:
            # Read-through of transitioned data (engine/cold.py), on its own loop thread; a
            # follower reads the data its writer moved the same way.
            self.engine.cold = ColdStore(BlockingReader(tiership.tier_config(self.cfg)))
        multipart = Multipart(self.engine)
        identities = Identities(meta)
        users = StoreUsers(identities)
        read_only = self.cfg.read_only
        self.iam = IamAPI(identities, users, self.cfg.body_timeout, self.cfg.auth == "none",
                          read_only=read_only)
        self.s3 = S3Frontend(Services(self.engine, multipart, users, self.cfg.region,
                                      tuple(self.cfg.domains), self.cfg.auth == "none",
                                      self.cfg.body_timeout, self.cfg.acl_mode,
                                      self.cfg.default_ownership, kms=self.kms,
                                      allow_insecure_sse_c=self.cfg.allow_insecure_sse_c,
                                      read_only=read_only,
                                      header_auth=self.cfg.allow_header_auth))
        loop = asyncio.get_running_loop()
        self.tasks.append(loop.create_task(_sample_forever()))
        if not read_only:
            # A follower's uploads expire on its writer (the aborts reach it by the log).
            reaper = UploadReaper(multipart, self.cfg.multipart_expiry)
            self.tasks.append(loop.create_task(worker.run(reaper, 600)))
        if hasattr(self.kms, "reload_if_changed"):
            self.tasks.append(loop.create_task(_follow_keyring(self.kms)))
        self.admin = AdminAPI(data)
        if isinstance(data, ErasureDataStore):
            self._start_healing(data, loop)
        self.admin.read_only = read_only
        if not read_only:
            # A follower's lifecycle actions are its writer's (they reach it by the log).
            self._start_lifecycle(multipart, loop)
        if not self.cfg.in_memory:
            self._start_log_jobs(data, loop)
        self.admin.engine = self.engine
        metrics.BUILD.inc()

    async def _start_users(self) -> None:
        """Import root and the auth file's users into the store (every worker: the import
        is idempotent), load them, and follow changes other workers make."""
        root = (self.cfg.root_user, self.cfg.root_password) if self.cfg.root_user else None
        users = self.s3.svc.users
        # A follower's users and keys are its writer's (they reach it by the log): it
        # imports none of its own.
        await users.start(root, self.cfg.auth_file, import_keys=not self.cfg.follow_tier)
        self.user_watch = asyncio.get_running_loop().create_task(users.watch())
        if self.cfg.follow_tier and root and users.get(root[0]) is None:
            log.warning("S3ISH_ROOT_USER %s is not a key of the tier's writer yet: a "
                        "follower's users are its writer's (give it the writer's root "
                        "credentials)", root[0])

    def _start_lifecycle(self, multipart, loop) -> None:
        """Every worker can run a pass on demand (admin); one (holding a file lock) runs
        the background loop, so two processes never act on the same schedule at once."""
        day = self.cfg.lifecycle_day_seconds
        mover = TierMover(self.engine, tiership.tier_config(self.cfg),
                          self.cfg.tier_storage_class) if self.cfg.writer_tier else None
        lifecycle = LifecycleWorker(self.engine, multipart, day, mover=mover)
        self.admin.lifecycle = lifecycle
        if not self.cfg.in_memory:
            status_dir = os.path.join(self.cfg.data, ".status")
            os.makedirs(status_dir, exist_ok=True)
            if not _try_lock(os.path.join(status_dir, "lifecycle.lock")):
                return
        # Poll a tenth of a day (at most a minute): each poll is one indexed query.
        self.tasks.append(loop.create_task(worker.run(lifecycle, max(0.1, min(60, day / 10)))))

    def _start_log_jobs(self, data, loop) -> None:
        """Checkpoints and truncation of the journal run in one process (a lock file);
        every process tries, so they move on when their holder dies."""
        cfg = self.cfg
        status_dir = os.path.join(cfg.data, ".status")
        os.makedirs(status_dir, exist_ok=True)
        lock = worker.ProcessLock(os.path.join(status_dir, "log.lock"))
        drive_set = getattr(data, "set", None)
        keeper = LogKeeper(os.path.join(cfg.data, "meta.sqlite3"), cfg.drives or [cfg.data],
                           drive_set.write_quorum() if drive_set else 1, cfg.durable,
                           lambda: tier_local.keep_above(cfg.data, cfg.writer_tier),
                           startup.JOURNAL_COMPACT_BYTES)
        self.tasks.append(loop.create_task(worker.run(worker.Exclusive(keeper, lock),
                                                      startup.LOG_KEEPER_SECONDS)))
        if cfg.writer_tier:
            # Shipping runs beside the keeper (same lock: they share checkpoints).
            ship, self.admin.tier = tiership.start(cfg, data, keeper)
            self.tasks.append(loop.create_task(worker.run(worker.Exclusive(ship, lock), 0.5)))
        elif cfg.follow_tier:
            # So does following (same lock: one process applies, in order).
            follow, self.admin.tier = followlocal.start(cfg, data)
            self.tasks.append(loop.create_task(worker.run(worker.Exclusive(follow, lock),
                                                          cfg.follow_interval)))

    def _start_healing(self, data, loop) -> None:
        """Every worker heals what its reads found; one worker (holding a file lock) scrubs
        in the background at the configured rate."""
        status = HealStatus()
        scrubber = Scrubber(data, status, self.cfg.scrub_rate)
        status_dir = os.path.join(self.cfg.data, ".status")
        os.makedirs(status_dir, exist_ok=True)
        self.admin = AdminAPI(data, status, scrubber, status_dir)
        rebuild = _try_lock(os.path.join(status_dir, "rebuild.lock"))
        self.tasks.append(loop.create_task(worker.run(Healer(data, status, rebuild), 1.0)))
        self.tasks.append(loop.create_task(_publish_status(status, status_dir)))
        watcher = DriveWatcher(data.set, os.path.join(self.cfg.data, "meta.sqlite3"))
        self.tasks.append(loop.create_task(worker.run(watcher, 5.0)))
        if self.cfg.scrub_rate > 0 and _try_lock(os.path.join(status_dir, "scrub.lock")):
            self.tasks.append(loop.create_task(worker.run(scrubber, 1.0)))

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path.startswith("/_") and (path in ("/_health", "/_ready", "/_metrics", "/_console")
                                      or path.startswith(("/_admin/", "/_console/"))):
            return await self._reserved(scope, receive, send, path)
        if is_iam_request(scope):
            return await self.iam(scope, receive, send)
        if not self.cfg.serves_s3:
            return await send_response(send, Response(
                404, [("Content-Type", "text/plain")], b"this server serves its objects over "
                b"gRPC only (--protocol grpc): see docs/grpc.md\n"))
        await self.s3(scope, receive, send)

    async def _lifespan(self, receive, send):
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                try:
                    self._start()
                    await self._start_users()
                    if self.cfg.serves_grpc:
                        # Imported here: the parent process never loads grpc (it forks).
                        from .grpc import service as grpc_service
                        self.grpc = await grpc_service.start(self.cfg, self.s3.svc)
                except Exception as e:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                if self.grpc is not None:
                    await self.grpc.stop(grace=5)     # calls in flight may finish
                for task in self.tasks:
                    task.cancel()
                if self.user_watch is not None:
                    self.s3.svc.users.stop()
                    await self.user_watch
                if self.engine is not None:
                    await self.engine.meta.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _reserved(self, scope, receive, send, path):
        req = Request(scope, receive, self.cfg.body_timeout)
        if path.startswith("/_admin/"):
            refusal = root_refusal(req, self.s3.svc.users, bool(self.cfg.root_user),
                                   self.cfg.region)
            if refusal is None:
                resp = await self.admin.handle(req)
            else:
                resp = Response(refusal[0], [("Content-Type", "text/plain")],
                                f"the admin API needs root credentials: {refusal[1]}\n"
                                .encode())
        elif path.startswith("/_console"):
            resp = self.console.handle(req.method, req.path, req.headers)
        elif path == "/_metrics":
            resp = await self._metrics(req)
        elif path == "/_health":
            resp = Response(200, [("Content-Type", "text/plain")], b"ok\n")
        else:
            problem = await self._readiness()
            text = problem or "ready"
            degraded = self._degraded()
            if degraded and not problem:
                text = f"ready, degraded: {degraded}"
            if self.cfg.auth == "none":
                text += "\nWARNING: authentication is disabled (--auth none)"
            resp = Response(503 if problem else 200, [("Content-Type", "text/plain")],
                            text.encode() + b"\n")
        await send_response(send, resp, head_only=req.method == "HEAD")

    async def _metrics(self, req: Request) -> Response:
        refusal = self._metrics_refusal(req)
        if refusal is not None:
            return refusal
        stats = await self.engine.meta.bucket_stats()
        ready = await self._readiness() is None
        space = await run_io(self.engine.data.space)
        body, ctype = await run_io(metrics.render, stats, space, ready)
        return Response(200, [("Content-Type", ctype)], body)

    def _metrics_refusal(self, req: Request) -> Response | None:
        """None if this request may read /_metrics: public, bearer token, or root."""
        if self.cfg.metrics_public or bearer_ok(req, self.cfg.metrics_token):
            return None
        refusal = root_refusal(req, self.s3.svc.users, bool(self.cfg.root_user),
                               self.cfg.region)
        if refusal is None:
            return None
        return Response(refusal[0], [("Content-Type", "text/plain"),
                                     ("WWW-Authenticate", 'Bearer realm="s3ish metrics"')],
                        "metrics need a bearer token or a SigV4 request signed by root: "
                        f"{refusal[1]}\n".encode())

    def _degraded(self) -> str | None:
        """Drives not ok (the watcher keeps their states current): served, but at risk."""
        drive_set = getattr(self.engine.data, "set", None)
        return drive_set.degraded() if drive_set is not None else None

    async def _readiness(self) -> str | None:
        try:
            await self.engine.meta.get_bucket("_ready_probe_")
        except Exception as e:  # report why instead of failing the probe with a 500
            return f"metadata store unusable: {e}"
        return await run_io(self.engine.data.usable)


async def _sample_forever(period: float = 0.5) -> None:
    """Event-loop lag, I/O pool queue depth and process gauges, sampled in each worker."""
    loop = asyncio.get_running_loop()
    n = 0
    while True:
        t0 = loop.time()
        await asyncio.sleep(period)
        metrics.LOOP_LAG.observe(max(0.0, loop.time() - t0 - period))
        metrics.IO_QUEUE.set(io_queue_depth())
        n += 1
        if n % 10 == 0:
            metrics.sample_process()


async def _follow_keyring(keyring, period: float = 5.0) -> None:
    """Pick up keys an operator created or rotated (`s3ish admin kms ...`) within seconds.
    A keyring that stops parsing keeps the keys in use; it is reported once per change."""
    reported = None
    while True:
        await asyncio.sleep(period)
        try:
            if await run_io(keyring.reload_if_changed):
                log.info("KMS keyring %s re-read: keys %s, default %s", keyring.path,
                         ", ".join(keyring.key_ids()), keyring.default_key_id)
            reported = None
        except KmsError as e:
            if str(e) != reported:
                log.warning("KMS keyring not re-read, the keys read before stay in use: %s", e)
                reported = str(e)


_held_locks = []


def _try_lock(path: str) -> bool:
    """Take an exclusive lock for this process's lifetime, if nobody holds it."""
    f = open(path, "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        return False
    _held_locks.append(f)
    return True


async def _publish_status(status, folder: str, period: float = 2.0) -> None:
    """Write this worker's HealStatus where the admin API of any worker can sum them."""
    path = os.path.join(folder, f"heal-status-{os.getpid()}.json")
    last = None
    while True:
        doc = status.to_dict()
        if doc != last:
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(doc, f)
            os.replace(tmp, path)
            last = doc
        await asyncio.sleep(period)


def create_app() -> App:
    """uvicorn factory; each worker process builds its own App from the environment."""
    cfg = Config.from_env()
    obs_logging.setup(cfg.log_level, cfg.log_format)
    protocol.configure(protocol.Limits(header_timeout=cfg.header_timeout,
                                       max_connections=cfg.max_connections), connection_error)
    return App(cfg)


def recover(cfg: Config) -> None:
    """Start-up recovery, before any worker serves: check and format the drives, bring the
    index up to date with the journal, seed joining drives, and set aside data files that
    no metadata references (a crash between rename and commit leaves those)."""
    if cfg.in_memory:
        return
    partial = refuse_partial(cfg.drives or [cfg.data])
    if partial:
        raise SystemExit(f"s3ish: {partial}")
    drive_set = None
    keep = tier_local.keep_above(cfg.data, cfg.writer_tier)
    try:
        if cfg.erasure:
            drive_set = startup.recover_drives(cfg, keep)
        else:
            single_folder_check(cfg.data)
            startup.recover_folder(cfg, keep)
    except (DriveSetError, IndexTooNew) as e:
        raise SystemExit(f"s3ish: {e}") from None
    meta, data = open_stores(cfg, drive_set)

    graveyard = Graveyard(tier_local.folder(cfg.data))

    async def sweep():
        referenced = await meta.all_data_ids()
        unreferenced = [d for d in data.list_ids() if d not in referenced]
        await meta.close()
        if cfg.writer_tier:
            # Freed data a restore may still need, or whose free was not recorded (no fsync
            # on the graveyard): kept until the shipper lets it go, never set aside.
            buried = graveyard.ids()
            graveyard.bury([d for d in unreferenced if d not in buried])
            return []
        for d in unreferenced:
            data.set_aside(d)
        graveyard.clear()       # no tier any more: what it kept is ordinary garbage
        return unreferenced
    tmp = data.clean_tmp()
    orphans = asyncio.run(sweep())
    purged = data.purge_aside(cfg.orphan_grace)
    for stale in glob.glob(os.path.join(cfg.data, ".status", "heal-status-*.json")):
        os.unlink(stale)      # published by workers of an earlier run
    if tmp or orphans or purged:
        log.warning("recovery removed %d uncommitted data files, set aside %d unreferenced "
                    "ones (in orphans/, kept %s) and removed %d set aside earlier", tmp,
                    len(orphans), _days(cfg.orphan_grace), purged)


def _days(seconds: float) -> str:
    return f"{seconds / 86400:g} days"
