"""Process start of `s3ish server`: refuse operator mistakes (preflight), lock the data
folder, bind the port, bootstrap a follower, recover, print where it listens, then run the
App (app.py) on uvicorn with N workers sharing one socket (and one gRPC port).
"""
import fcntl
import os

from . import preflight, startup
from .admin.restore import bootstrap
from .app import recover
from .bg import tiership
from .config import Config
from .http import protocol
from .meta import recovery
from .obs import logging as obs_logging
from .storage.drives import DriveSet, DriveSetError
from .storage.erasure import default_layout
from .storage.kms import MASTER_ENV


def lock_data_dir(cfg: Config):
    """One server per data folder: hold an exclusive lock for the life of the process."""
    if cfg.in_memory:
        return None
    if cfg.erasure:
        # Never create the first drive's folder here: a missing drive is refused (drives.py).
        k, m = default_layout(len(cfg.drives), cfg.parity)
        try:
            DriveSet(cfg.drives, k, m).require_folders(cfg.create_drives)
        except DriveSetError as e:
            raise SystemExit(f"s3ish: {e}") from None
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
    preflight.check_inputs(cfg)      # operator mistakes: one line each, before anything else
    lock = lock_data_dir(cfg)  # noqa: F841  (held until exit)
    sock = preflight.listen_socket(cfg.host, cfg.port)    # a busy port fails before recovery
    if cfg.follow_tier:
        bootstrap.prepare(cfg)           # an empty folder is restored from the tier first
    elif not cfg.in_memory:
        bootstrap.refuse_writer(cfg)
    recover(cfg)
    if cfg.writer_tier:
        tiership.check_owner(cfg, recovery.index_lsn(startup.index_path(cfg)))
    if cfg.in_memory:
        cfg.workers = 1      # memory cannot be shared between processes
    cfg.to_env()
    port = sock.getsockname()[1]
    grpc_sock = None
    if cfg.serves_grpc:
        # Held (bound, never listening) for the life of the server: a busy port fails here,
        # port 0 becomes one port that every worker binds with SO_REUSEPORT.
        grpc_sock = preflight.reuseport_socket(cfg.grpc_host, cfg.grpc_port)  # noqa: F841
        cfg.grpc_port = grpc_sock.getsockname()[1]
        cfg.to_env()
    layout = ""
    if cfg.erasure:
        k, m = default_layout(len(cfg.drives), cfg.parity)
        layout = f", {len(cfg.drives)} drives, {k}+{m} erasure coding"
    if cfg.follow_tier:
        layout += (f", read-only follower of the cold tier: {cfg.tier_endpoint} bucket "
                   f"{cfg.tier_bucket}")
    elif cfg.tier:
        layout += f", cold tier: {cfg.tier_endpoint} bucket {cfg.tier_bucket}"
    if cfg.kms_keyring:
        layout += f", SSE keys: {cfg.kms_keyring}"
    elif os.environ.get(MASTER_ENV):
        layout += f", SSE keys: ${MASTER_ENV}"
    where = f"{cfg.scheme}://{cfg.host}:{port}"
    if cfg.serves_grpc:
        grpc_where = f"grpc{'s' if cfg.tls_cert else ''}://{cfg.grpc_host}:{cfg.grpc_port}"
        only = "" if cfg.serves_s3 else " (reserved endpoints only)"
        where = f"{where}{only} and {grpc_where}"
    print(f"s3ish listening on {where} (data: {cfg.data}{layout}, workers: "
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
