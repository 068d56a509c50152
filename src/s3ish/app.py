"""Wiring: build the stores, the engine, the S3 frontend and the background workers; serve
the reserved endpoints (`/_health`, `/_ready`, `/_metrics`, `/_admin/`) beside S3; recover at
start-up; run it all on uvicorn with N workers sharing one socket.
"""
import asyncio
import fcntl
import glob
import json
import logging
import os
import socket

from .admin.access import bearer_ok, is_root
from .admin.api import AdminAPI
from .bg import worker
from .bg.healer import Healer
from .bg.scrubber import HealStatus, Scrubber
from .bg.uploads import UploadReaper
from .config import Config
from .engine.multipart import Multipart
from .engine.objects import Engine
from .http import protocol
from .http.asgi import Request, Response, send_response
from .obs import logging as obs_logging
from .obs import metrics
from .meta import journal as meta_journal
from .meta.sqlite import SqliteMetaStore, catch_up, compact, has_snapshot, rebuild_index
from .s3.auth.credentials import Users
from .s3.frontend import S3Frontend, Services, connection_error
from .storage.datastore import FolderDataStore, MemoryDataStore
from .storage.drives import DriveSet
from .storage.erasure import default_layout, make_codec
from .storage.erasure_store import ErasureDataStore
from .util.threads import io_queue_depth, run_io

log = logging.getLogger("s3ish")

# A journal larger than this is folded into index snapshots on the drives at start-up.
JOURNAL_COMPACT_BYTES = int(os.environ.get("S3ISH_JOURNAL_COMPACT_BYTES", 64 * 1024 * 1024))


def open_stores(cfg: Config):
    if cfg.in_memory:
        return SqliteMetaStore(":memory:"), MemoryDataStore()
    os.makedirs(cfg.data, exist_ok=True)
    db = os.path.join(cfg.data, "meta.sqlite3")
    journal = None
    if cfg.erasure:
        k, m = default_layout(len(cfg.drives), cfg.parity)
        drive_set = DriveSet(cfg.drives, k, m)
        drive_set.open()
        data = ErasureDataStore(drive_set, make_codec(k, m), durable=cfg.durable)
        journal = meta_journal.Journal(cfg.drives, drive_set.write_quorum(),
                                       durable=cfg.durable)
    else:
        data = FolderDataStore(cfg.data, durable=cfg.durable)
    if not os.path.exists(db) and data.list_ids():
        # Data without its index: starting would treat every object as an orphan.
        raise SystemExit(f"metadata database {db} is missing but the data folders hold "
                         "objects: refusing to start (restore it or rebuild the index)")
    return SqliteMetaStore(db, durable=cfg.durable, journal=journal), data


class App:
    """The ASGI application of one worker process."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.engine = None
        self.s3 = None
        self.tasks: list[asyncio.Task] = []

    def _start(self) -> None:
        meta, data = open_stores(self.cfg)
        self.engine = Engine(meta, data)
        multipart = Multipart(self.engine)
        root = (self.cfg.root_user, self.cfg.root_password) if self.cfg.root_user else None
        users = Users.load(root, self.cfg.auth_file)
        self.s3 = S3Frontend(Services(self.engine, multipart, users, self.cfg.region,
                                      tuple(self.cfg.domains), self.cfg.auth == "none",
                                      self.cfg.body_timeout))
        reaper = UploadReaper(multipart, self.cfg.multipart_expiry)
        loop = asyncio.get_running_loop()
        self.tasks += [loop.create_task(worker.run(reaper, 600)),
                       loop.create_task(_sample_forever())]
        self.admin = AdminAPI(data)
        if isinstance(data, ErasureDataStore):
            self._start_healing(data, loop)
        metrics.BUILD.inc()

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
        self.tasks.append(loop.create_task(_drive_gauges(data.set)))
        if self.cfg.scrub_rate > 0 and _try_lock(os.path.join(status_dir, "scrub.lock")):
            self.tasks.append(loop.create_task(worker.run(scrubber, 1.0)))

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path.startswith("/_") and (path in ("/_health", "/_ready", "/_metrics")
                                      or path.startswith("/_admin/")):
            return await self._reserved(scope, receive, send, path)
        await self.s3(scope, receive, send)

    async def _lifespan(self, receive, send):
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                try:
                    self._start()
                except Exception as e:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                for task in self.tasks:
                    task.cancel()
                if self.engine is not None:
                    await self.engine.meta.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _reserved(self, scope, receive, send, path):
        req = Request(scope, receive, self.cfg.body_timeout)
        if path.startswith("/_admin/"):
            if is_root(req, self.s3.svc.users, bool(self.cfg.root_user)):
                resp = await self.admin.handle(req)
            else:
                resp = Response(403, [("Content-Type", "text/plain")],
                                b"the admin API needs root credentials\n")
        elif path == "/_metrics":
            resp = await self._metrics(req)
        elif path == "/_health":
            resp = Response(200, [("Content-Type", "text/plain")], b"ok\n")
        else:
            problem = await self._readiness()
            text = problem or "ready"
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
        body, ctype = await run_io(metrics.render, stats)
        return Response(200, [("Content-Type", ctype)], body)

    def _metrics_refusal(self, req: Request) -> Response | None:
        """None if this request may read /_metrics: public, bearer token, or root."""
        if self.cfg.metrics_public or bearer_ok(req, self.cfg.metrics_token) or \
                is_root(req, self.s3.svc.users, bool(self.cfg.root_user)):
            return None
        return Response(401, [("Content-Type", "text/plain"),
                              ("WWW-Authenticate", 'Bearer realm="s3ish metrics"')],
                        b"metrics need a bearer token or root credentials\n")

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


async def _drive_gauges(drive_set, period: float = 5.0) -> None:
    while True:
        await run_io(drive_set.refresh)     # it touches the drives: never on the loop
        for d in drive_set.drives:
            metrics.DRIVE_STATE.labels(d.path).set(1 if d.state == "ok" else 0)
            metrics.DRIVE_ERRORS.labels(d.path).set(d.errors)
        await asyncio.sleep(period)


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
    """Start-up recovery, before any worker serves: drop uncommitted writes and data files
    that no metadata references (a crash between rename and commit leaves those)."""
    if cfg.in_memory:
        return
    if cfg.erasure:
        meta_journal.repair(cfg.drives)
        db = os.path.join(cfg.data, "meta.sqlite3")
        if not os.path.exists(db) and (meta_journal.exists(cfg.drives)
                                       or has_snapshot(cfg.drives)):
            log.warning("metadata index %s is missing: rebuilding it from the journal on "
                        "the drives", db)
            log.warning("rebuilt: %s", rebuild_index(db, cfg.drives))
        elif os.path.exists(db):
            # Never sweep "orphans" with an index that is behind the journal.
            result = catch_up(db, cfg.drives)
            if result["records"]:
                log.warning("index caught up from the journal: %s", result)
            if meta_journal.size(cfg.drives) > JOURNAL_COMPACT_BYTES:
                k, m = default_layout(len(cfg.drives), cfg.parity)
                lsn = compact(db, cfg.drives, k + 1 if m else k)
                log.warning("journal compacted: index snapshot at %s on the drives", lsn)
    meta, data = open_stores(cfg)

    async def sweep():
        referenced = await meta.all_data_ids()
        orphans = [d for d in data.list_ids() if d not in referenced]
        for d in orphans:
            data.delete(d)
        await meta.close()
        return orphans
    tmp = data.clean_tmp()
    orphans = asyncio.run(sweep())
    for stale in glob.glob(os.path.join(cfg.data, ".status", "heal-status-*.json")):
        os.unlink(stale)      # published by workers of an earlier run
    if tmp or orphans:
        log.warning("recovery removed %d uncommitted and %d orphaned data files", tmp,
                    len(orphans))


def lock_data_dir(cfg: Config):
    """One server per data folder: hold an exclusive lock for the life of the process."""
    if cfg.in_memory:
        return None
    os.makedirs(cfg.data, exist_ok=True)
    f = open(os.path.join(cfg.data, "LOCK"), "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f"another s3ish server is using {cfg.data}") from None
    return f


def serve(cfg: Config) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess
    obs_logging.setup(cfg.log_level, cfg.log_format)
    lock = lock_data_dir(cfg)  # noqa: F841  (held until exit)
    recover(cfg)
    if cfg.in_memory:
        cfg.workers = 1      # memory cannot be shared between processes
    cfg.to_env()
    sock = socket.socket(socket.AF_INET6 if ":" in cfg.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((cfg.host, cfg.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    layout = ""
    if cfg.erasure:
        k, m = default_layout(len(cfg.drives), cfg.parity)
        layout = f", {len(cfg.drives)} drives, {k}+{m} erasure coding"
    print(f"s3ish listening on {cfg.scheme}://{cfg.host}:{port} (data: {cfg.data}{layout}, workers: "
          f"{cfg.workers})", flush=True)
    config = uvicorn.Config("s3ish.app:create_app", factory=True, workers=cfg.workers,
                            loop="uvloop", http=f"{protocol.__name__}:BoundedHttpToolsProtocol",
                            lifespan="on", access_log=False, log_level="warning",
                            timeout_keep_alive=cfg.idle_timeout, server_header=False,
                            date_header=True, proxy_headers=False,
                            ssl_certfile=cfg.tls_cert, ssl_keyfile=cfg.tls_key)
    server = uvicorn.Server(config)
    if cfg.workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        server.run(sockets=[sock])
