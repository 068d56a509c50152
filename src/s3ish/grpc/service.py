"""The gRPC front end of one worker process: proto/s3ish/v1's Storage service on the same
engine, users and authorize step as the S3 front end (app.py builds both from one Services),
served by grpcio's asyncio server on the worker's event loop.

Several workers each bind the gRPC port with SO_REUSEPORT (the kernel spreads connections
among them); launch.serve reserves the port in the parent first, so a busy port fails the start
and port 0 picks one port for every worker.
"""
import logging
import os

import grpc

from .auth import Authenticator
from .objects import ObjectOps
from .read import ReadOps
from .replay import ReplayGuard
from .v1 import storage_pb2_grpc as pb_grpc
from .write import WriteOps

log = logging.getLogger("s3ish.grpc")

MAX_MESSAGE = 16 * 1024 * 1024      # a chunk is ~2 MiB; leave room for larger client chunks
OPTIONS = [("grpc.max_receive_message_length", MAX_MESSAGE),
           ("grpc.max_send_message_length", MAX_MESSAGE),
           ("grpc.so_reuseport", 1)]


class StorageService(ObjectOps, ReadOps, WriteOps, pb_grpc.StorageServicer):
    def __init__(self, svc, tls: bool, replay_folder: str | None):
        self.svc = svc                  # s3.frontend.Services: engine, multipart, users, ...
        self.tls = tls
        self.auth = Authenticator(svc.users, svc.region, ReplayGuard(replay_folder),
                                  svc.auth_none, svc.header_auth)


async def start(cfg, svc) -> grpc.aio.Server:
    """Serve gRPC on cfg.grpc_host:cfg.grpc_port in this worker (TLS with the server's
    certificate when it has one)."""
    shared = None
    if not cfg.in_memory and cfg.workers > 1:
        shared = os.path.join(cfg.data, ".status", "grpc-replay")
    server = grpc.aio.server(options=OPTIONS)
    pb_grpc.add_StorageServicer_to_server(StorageService(svc, bool(cfg.tls_cert), shared),
                                          server)
    host = f"[{cfg.grpc_host}]" if ":" in cfg.grpc_host else cfg.grpc_host
    address = f"{host}:{cfg.grpc_port}"
    if cfg.tls_cert:
        with open(cfg.tls_cert, "rb") as f:
            chain = f.read()
        with open(cfg.tls_key, "rb") as f:
            key = f.read()
        server.add_secure_port(address, grpc.ssl_server_credentials([(key, chain)]))
    else:
        server.add_insecure_port(address)
    await server.start()
    return server
