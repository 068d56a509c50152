"""Start-up checks of what the operator gave us, before the server prints that it listens or
touches any data: each mistake ends the start with one line that says what to change (a
SystemExit with that text), never a traceback from deep inside the server."""
import errno
import os
import socket

from .config import Config
from .s3.auth.credentials import Users
from .storage.kms import KmsError, load_kms


def check_inputs(cfg: Config) -> None:
    """The auth file and the data folder, in the order a newcomer meets them. Drives of an
    erasure-coded set are the drive set's to judge: one that is read-only or full degrades
    the set instead of stopping the server."""
    if cfg.auth_file:
        _check_auth_file(cfg.auth_file)
    _check_kms(cfg)
    if cfg.in_memory or cfg.erasure:
        return
    _ensure_folder(cfg.data)
    _check_folder(cfg.data)


def _check_auth_file(path: str) -> None:
    try:
        Users.load(None, path)
    except FileNotFoundError:
        raise SystemExit(f"--auth-file {path}: no such file") from None
    except IsADirectoryError:
        raise SystemExit(f"--auth-file {path} is a folder: give the file of "
                         "ACCESS_KEY:SECRET_KEY[:DISPLAY_NAME] lines") from None
    except OSError as e:
        raise SystemExit(f"--auth-file {path} cannot be read: {e.strerror}") from None
    except UnicodeDecodeError:
        raise SystemExit(f"--auth-file {path} is not UTF-8 text") from None
    except ValueError as e:       # a malformed line; the message names file and line
        raise SystemExit(f"--auth-file {e}") from None


def _check_kms(cfg: Config) -> None:
    """The keyring (or the master key in the environment) loads; each worker loads its own."""
    try:
        load_kms(cfg.kms_keyring or None, os.environ)
    except KmsError as e:
        flag = f"--kms-keyring {cfg.kms_keyring}" if cfg.kms_keyring else "server-side encryption"
        raise SystemExit(f"{flag}: {e}") from None


def _ensure_folder(path: str) -> None:
    if os.path.isdir(path):
        return
    if os.path.lexists(path):
        raise SystemExit(f"--data {path} is a file, not a folder: give a folder (it is created "
                         "if missing)")
    try:
        os.makedirs(path)
    except OSError as e:
        raise SystemExit(f"--data {path}: cannot create the data folder: {_why(e)}") from None


def _check_folder(path: str) -> None:
    """A folder we can list and write (a probe file, as permission bits say nothing about a
    read-only mount, an immutable folder or a root user)."""
    probe = os.path.join(path, f".s3ish-write-probe-{os.getpid()}")
    try:
        os.listdir(path)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise SystemExit(f"--data {path}: the data folder is not writable: {_why(e)}") \
            from None


def _why(e: OSError) -> str:
    if e.errno == errno.EROFS:
        return "it is on a read-only file system (remount it read-write or choose another)"
    if e.errno in (errno.EACCES, errno.EPERM):
        return (f"{e.strerror} (check its owner and mode, or an immutable attribute: "
                "lsattr -d)")
    return e.strerror or str(e)


def listen_socket(host: str, port: int) -> socket.socket:
    """Bind and listen, or explain in one line why the address cannot be used."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as e:
        sock.close()
        raise SystemExit(_bind_problem(e, where, port)) from None
    sock.set_inheritable(True)
    return sock


def reuseport_socket(host: str, port: int) -> socket.socket:
    """Bind (without listening) with SO_REUSEPORT, or explain in one line why the address
    cannot be used: it reserves the gRPC port that each worker's server binds the same way
    (the kernel hands connections to listening sockets only)."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise SystemExit(_bind_problem(e, where, port).replace("--listen", "--grpc-listen")) \
            from None
    return sock


def _bind_problem(e: OSError, where: str, port: int) -> str:
    if e.errno == errno.EADDRINUSE:
        return (f"cannot listen on {where}: the port is already in use (another s3ish or "
                f"another program); stop it or choose another port with --listen "
                f"HOST:PORT, e.g. --listen 127.0.0.1:{port + 1 if port < 65535 else 9000}")
    if e.errno == errno.EACCES:
        return (f"cannot listen on {where}: permission denied (ports below 1024 need "
                "privileges); choose another port with --listen HOST:PORT")
    if isinstance(e, socket.gaierror):
        return (f"cannot listen on {where}: the host name does not resolve ({e.strerror}); "
                f"use --listen 127.0.0.1:{port} or 0.0.0.0:{port}")
    if e.errno == errno.EADDRNOTAVAIL:
        return (f"cannot listen on {where}: this machine has no such address; use --listen "
                f"127.0.0.1:{port} (this machine only) or 0.0.0.0:{port} (every interface)")
    return f"cannot listen on {where}: {e.strerror or e}; choose another with --listen"
