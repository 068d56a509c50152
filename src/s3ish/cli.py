"""Command line: `s3ish server ...`, `s3ish bench ...`, `s3ish admin ...`, `s3ish restore ...`."""
import argparse
import ipaddress
import logging
import os
import sys

from .admin.cli import add_admin_parser, run_admin
from .admin.restore.cli import add_restore_parser, run_restore
from .bench.cli import add_bench_parser, run_bench
from . import configfile
from .grpc.cli import add_grpc_parser
from .config import Config, expand_drives
from .engine.lifecycle_match import TRANSITION_CLASSES

DEV_USER, DEV_PASSWORD = "s3ish-dev", "s3ish-dev-secret"
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "16777216", "MALLOC_TRIM_THRESHOLD_": "1073741824"}


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="s3ish", description="An S3-compatible object store.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("server", help="run the S3 server")
    s.add_argument("--config", metavar="FILE",
                   help="TOML file of settings: every flag below as a key with underscores "
                   "(e.g. tier_endpoint = \"...\"); S3ISH_<KEY> environment variables "
                   "override it and flags override both (deploy/config.toml)")
    s.add_argument("--listen", type=_listen, default=("127.0.0.1", 9000), metavar="HOST:PORT")
    s.add_argument("--data", action="append", default=None, metavar="DIR",
                   help="data folder, or :memory:; repeat (or use DIR{1...4}) for erasure "
                   "coding across several drives")
    s.add_argument("--parity", type=int, default=None,
                   help="parity shards per block with several drives (default: by count)")
    s.add_argument("--scrub-rate", type=float, default=10.0, metavar="MB/S",
                   help="background scrub rate with several drives (0: off; default 10)")
    s.add_argument("--auth-file", help="file of ACCESS_KEY:SECRET_KEY[:DISPLAY_NAME] lines")
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--domain", action="append", default=[],
                   help="enable virtual-host style for BUCKET.DOMAIN (repeatable)")
    s.add_argument("--region", default="us-east-1")
    s.add_argument("--no-fsync", action="store_true",
                   help="relaxed durability: do not fsync data and metadata commits")
    s.add_argument("--dev-credentials", action="store_true",
                   help="use a development root pair when S3ISH_ROOT_USER/PASSWORD are unset")
    s.add_argument("--log-level", default="info")
    s.add_argument("--log-format", choices=["text", "json"], default="text")
    s.add_argument("--metrics-public", action="store_true",
                   help="serve /_metrics without authentication")
    s.add_argument("--metrics-token", default=os.environ.get("S3ISH_METRICS_TOKEN"),
                   help="bearer token for /_metrics (default $S3ISH_METRICS_TOKEN)")
    s.add_argument("--auth", choices=["required", "none"], default="required",
                   help="none: accept every request as the root user (local development)")
    s.add_argument("--i-know-this-is-open", action="store_true",
                   help="allow --auth none on an address other than loopback")
    s.add_argument("--multipart-expiry", type=_duration, default=7 * 24 * 3600,
                   metavar="DURATION", help="abort multipart uploads older than this "
                   "(e.g. 3600, 90m, 24h, 7d; default 7d)")
    s.add_argument("--lifecycle-day-seconds", type=_positive_seconds, default=86400.0,
                   metavar="N", help="for tests: a lifecycle rule's day lasts N seconds "
                   "(as Ceph's rgw_lc_debug_interval; the s3-tests suite assumes 10) and is not "
                   "rounded to midnight; x-amz-expiration still shows calendar days "
                   "(default 86400)")
    s.add_argument("--create-drives", action="store_true",
                   help="create drive folders that do not exist (setting up a new set); "
                   "without it a missing drive folder stops the start-up")
    s.add_argument("--orphan-grace", type=_duration, default=7 * 24 * 3600,
                   metavar="DURATION", help="keep data files no metadata references (set "
                   "aside in orphans/ at start-up) this long before removing them (default 7d)")
    s.add_argument("--idle-timeout", type=_duration, default=30.0, metavar="DURATION",
                   help="close keep-alive connections idle this long (default 30s)")
    s.add_argument("--header-timeout", type=_duration, default=20.0, metavar="DURATION",
                   help="drop a connection whose request head takes longer (default 20s)")
    s.add_argument("--acl-mode", choices=["enforce", "record", "ignore"], default="enforce",
                   help="ACLs: enforce them as AWS does, record them (stored and returned, "
                        "never consulted) or ignore them (discarded; everything reads as "
                        "private)")
    s.add_argument("--compression", choices=["off", "on"], default="off",
                   help="store new objects compressed (zstd, in blocks; clients see nothing "
                        "of it) unless they are small or already compressed; each bucket "
                        "may override it with `s3ish admin compression BUCKET on|off`")
    s.add_argument("--kms-keyring", default="", metavar="FILE",
                   help="keys for server-side encryption (SSE-S3, SSE-KMS): a keyring made "
                        "with `s3ish admin kms create-key`; without it the master key in "
                        "$S3ISH_KMS_MASTER_KEY (base64 or hex of 32 bytes) if set, else such "
                        "requests are refused")
    s.add_argument("--default-ownership", default="BucketOwnerEnforced",
                   choices=["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter",
                            "none"],
                   help="object ownership of buckets created without x-amz-object-ownership "
                        "(AWS: BucketOwnerEnforced, ACLs disabled; none: no ownership "
                        "controls, which behaves as ObjectWriter, as Ceph RGW makes buckets)")
    s.add_argument("--body-timeout", type=_duration, default=20.0, metavar="DURATION",
                   help="answer RequestTimeout when a request body sends nothing this long "
                   "(default 20s)")
    s.add_argument("--max-connections", type=int, default=1000, metavar="N",
                   help="open connections per worker; more are closed (default 1000)")
    s.add_argument("--tls-cert", metavar="FILE", help="PEM certificate (chain): serve HTTPS")
    s.add_argument("--tls-key", metavar="FILE", help="PEM private key of --tls-cert")
    s.add_argument("--protocol", choices=["http", "grpc", "both"], default="http",
                   help="the interfaces served: S3 over HTTP (default), gRPC (proto/s3ish/v1, "
                   "docs/grpc.md; HTTP then serves only /_health, /_ready, /_metrics, "
                   "/_admin/ and IAM) or both")
    s.add_argument("--grpc-listen", type=_listen, default=("127.0.0.1", 9001),
                   metavar="HOST:PORT", help="the gRPC listener (default 127.0.0.1:9001; "
                   "TLS with --tls-cert/--tls-key as HTTP)")
    s.add_argument("--allow-insecure-sse-c", action="store_true",
                   help="accept SSE-C customer keys over plain HTTP (local tests only: AWS "
                        "refuses them without TLS, and so does s3ish by default)")
    s.add_argument("--allow-header-auth", action="store_true",
                   help="let x-access-key and x-secret-key request headers authenticate (the "
                        "seed design's simple auth, for curl); refused on a non-loopback "
                        "address without TLS, as the secret travels in every request")
    t = s.add_argument_group("cold tier", "ship the journal, checkpoints and data to any S3 "
                             "bucket (credentials: $S3ISH_TIER_ACCESS_KEY and "
                             "$S3ISH_TIER_SECRET_KEY; docs/tier.md)")
    t.add_argument("--tier-endpoint", default="", metavar="URL",
                   help="the S3 service of the cold tier (http:// or https://)")
    t.add_argument("--tier-bucket", default="", metavar="BUCKET")
    t.add_argument("--tier-prefix", default="", metavar="PREFIX",
                   help="keys under this prefix in the bucket (default: none)")
    t.add_argument("--tier-region", default="us-east-1", metavar="REGION")
    t.add_argument("--tier-ship-interval", type=_positive_seconds, default=10.0,
                   metavar="SECONDS", help="a committed record reaches the tier within about "
                   "this (default 10)")
    t.add_argument("--tier-checkpoint-interval", type=_duration, default=3600.0,
                   metavar="DURATION", help="a checkpoint of the index goes to the tier this "
                   "often while records are shipped (default 1h)")
    t.add_argument("--tier-rate", type=float, default=0.0, metavar="MB/S",
                   help="upload rate limit (default 0: none)")
    t.add_argument("--tier-storage-class", default="GLACIER_IR", metavar="CLASS",
                   choices=sorted(TRANSITION_CLASSES),
                   help="lifecycle Transition rules naming this storage class move object "
                   "data to the tier, where GET reads it through (default GLACIER_IR: the AWS "
                   "class readable with no restore); rules naming another class do nothing")
    t.add_argument("--follow-tier", action="store_true",
                   help="be a read-only follower of the tier instead: apply what another "
                   "server ships there (an empty --data is bootstrapped from it first); "
                   "writes are refused")
    t.add_argument("--follow-interval", type=_positive_seconds, default=2.0,
                   metavar="SECONDS", help="a follower looks at the tier this often "
                   "(default 2)")
    add_bench_parser(sub)
    add_admin_parser(sub)
    add_restore_parser(sub)
    add_grpc_parser(sub)
    return p


def _duration(value: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if value[-1:] in units:
            return float(value[:-1]) * units[value[-1]]
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a duration like 3600, 90m, 24h or 7d") \
            from None


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError("expected a positive number of seconds")
    return seconds


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    p = parser()
    args = _parse(p, argv)
    if args.command == "server":
        args = _with_settings(p, argv, args)
        _tune_malloc(argv)
        _run_server_cleanly(args)
    else:
        sys.exit(_run_command(args))


def _run_command(args) -> int:
    """A client command's exit status. A reader that goes away early (`... | head`,
    `grep -q`) ends it quietly, as other command-line tools end."""
    try:
        if args.command == "bench":
            return run_bench(args)
        if args.command == "admin":
            return run_admin(args)
        if args.command == "restore":
            return run_restore(args)
        from .grpc.cli import run_grpc
        return run_grpc(args)
    except BrokenPipeError:
        # Python would report the pipe again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141          # as a shell reports a command ended by SIGPIPE


def _parse(p: argparse.ArgumentParser, argv) -> argparse.Namespace:
    """As parse_args, but an admin command's names may also follow its flags
    (`admin kms set-default --keyring FILE ID`): argparse stops filling a positional list
    at the first flag and would call what follows unrecognized."""
    args, extra = p.parse_known_args(argv)
    if extra and args.command == "admin" and not any(e.startswith("-") for e in extra):
        args.operands = [*(args.operands or []), *extra]
    elif extra:
        p.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _with_settings(p: argparse.ArgumentParser, argv, args) -> argparse.Namespace:
    """Fill the server's flags from --config FILE and S3ISH_<KEY> variables (configfile.py):
    a flag on the command line wins over the environment, which wins over the file."""
    server = _subparser(p, "server")
    options = _server_options(server)
    try:
        file_values = configfile.read_file(args.config) if args.config else {}
        values = configfile.settings(options, file_values, configfile.read_env(options),
                                     args.config or "config file")
    except configfile.ConfigError as e:
        raise SystemExit(f"s3ish: {e}") from None
    if not values:
        return args
    # A repeatable flag appends to its default, so a list from the file or environment
    # cannot be a default: it applies only when the command line gives none.
    lists = {k: v for k, v in values.items() if options[k].kind == "list"}
    server.set_defaults(**{k: v for k, v in values.items() if k not in lists})
    args = _parse(p, argv)
    for key, value in lists.items():
        if not getattr(args, key):
            setattr(args, key, value)
    return args


def _subparser(p: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def _server_options(server: argparse.ArgumentParser) -> dict:
    """Every flag of `s3ish server` as a settings key (its dest: the name with underscores)."""
    out = {}
    for a in server._actions:
        if not a.option_strings or a.dest in ("help", "config"):
            continue
        kind = ("bool" if isinstance(a, argparse._StoreTrueAction) else
                "list" if isinstance(a, argparse._AppendAction) else "value")
        out[a.dest] = configfile.Option(a.dest, kind, a.type or str, tuple(a.choices or ()))
    return out


def _run_server_cleanly(args) -> None:
    """Ctrl-C is how `make run` is stopped: end quietly. An OSError escaping start-up (a
    case the start-up checks do not foresee) is still one line, with its traceback at debug
    level only."""
    try:
        run_server(args)
    except KeyboardInterrupt:
        print("s3ish stopped", file=sys.stderr)
    except OSError as e:
        logging.getLogger("s3ish").debug("start-up failed", exc_info=True)
        raise SystemExit(f"s3ish cannot start: {e}") from None


def _tune_malloc(argv) -> None:
    """glibc reads its malloc tunables at start, so re-exec once with them set."""
    if all(k in os.environ for k in MALLOC_ENV):
        return
    env = {**MALLOC_ENV, **os.environ}
    os.execve(sys.executable, [sys.executable, "-m", "s3ish", *argv], env)


def _metrics_dir() -> None:
    """Workers are processes: they share metrics through files in a fresh folder. It must be
    set before prometheus_client is first imported (it reads the variable at import)."""
    import atexit
    import shutil
    import tempfile
    path = tempfile.mkdtemp(prefix="s3ish-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    atexit.register(shutil.rmtree, path, True)


def _check_tls(cert: str, key: str) -> None:
    """Load the pair once here, so a bad file is one clear line, not a failure per worker."""
    import ssl
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        raise SystemExit(f"cannot use --tls-cert {cert} / --tls-key {key}: {e}") from None


def _check_tier(args, drives: list[str]) -> None:
    if not (args.tier_endpoint or args.tier_bucket):
        if args.follow_tier:
            raise SystemExit("--follow-tier needs the tier to follow: --tier-endpoint and "
                             "--tier-bucket (and its --tier-prefix)")
        return
    if not (args.tier_endpoint and args.tier_bucket):
        raise SystemExit("--tier-endpoint and --tier-bucket go together")
    if ":memory:" in drives:
        raise SystemExit("a cold tier needs a data folder, not :memory:")
    if args.tier_rate < 0:
        raise SystemExit("--tier-rate cannot be negative")
    from .tier.config import TierConfig, TierConfigError
    try:
        TierConfig.from_env(args.tier_endpoint, args.tier_bucket, args.tier_prefix,
                            args.tier_region)
    except TierConfigError as e:
        raise SystemExit(f"cold tier: {e}") from None


def run_server(args) -> None:
    if args.auth == "none":
        if args.protocol != "http" and not _is_loopback(args.grpc_listen[0]) \
                and not args.i_know_this_is_open:
            raise SystemExit("refusing --auth none on a non-loopback gRPC address "
                             f"({args.grpc_listen[0]}); add --i-know-this-is-open if you "
                             "mean it")
        if not _is_loopback(args.listen[0]) and not args.i_know_this_is_open:
            raise SystemExit("refusing --auth none on a non-loopback address "
                             f"({args.listen[0]}); add --i-know-this-is-open if you mean it")
        print("WARNING: --auth none: authentication is DISABLED, every request acts as the "
              "root user. For local development only.", file=sys.stderr, flush=True)
    if args.allow_header_auth and not args.tls_cert and not _is_loopback(args.listen[0]):
        raise SystemExit("refusing --allow-header-auth on a non-loopback address "
                         f"({args.listen[0]}) without TLS: x-secret-key would cross the "
                         "network in clear; serve HTTPS (--tls-cert, --tls-key) or listen "
                         "on 127.0.0.1")
    if args.allow_header_auth and not args.tls_cert and args.protocol != "http" \
            and not _is_loopback(args.grpc_listen[0]):
        raise SystemExit("refusing --allow-header-auth on a non-loopback gRPC address "
                         f"({args.grpc_listen[0]}) without TLS: x-secret-key would cross the "
                         "network in clear; serve TLS (--tls-cert, --tls-key) or listen on "
                         "127.0.0.1")
    user, password = os.environ.get("S3ISH_ROOT_USER"), os.environ.get("S3ISH_ROOT_PASSWORD")
    if not (user and password):
        if args.dev_credentials:
            user, password = DEV_USER, DEV_PASSWORD
            bar = "!" * 72
            print(f"{bar}\n!! S3ISH_ROOT_USER/S3ISH_ROOT_PASSWORD unset: using the DEVELOPMENT "
                  f"pair\n!!   access key: {user}\n!!   secret key: {password}\n!! Anyone who "
                  f"reads this can use the server. Set real credentials.\n{bar}",
                  file=sys.stderr, flush=True)
        elif not args.auth_file and args.auth != "none":
            raise SystemExit("no credentials: set S3ISH_ROOT_USER and S3ISH_ROOT_PASSWORD or "
                             "pass --auth-file")
        else:
            user = password = None
    drives = expand_drives(args.data or ["./data"])
    if len(drives) > 1:
        from .storage.erasure import default_layout
        try:
            default_layout(len(drives), args.parity)
        except ValueError as e:
            raise SystemExit(f"bad drive layout: {e}") from None
    if ":memory:" in drives and len(drives) > 1:
        raise SystemExit(":memory: cannot be combined with other drives")
    if len(set(drives)) != len(drives):
        raise SystemExit("the same folder is given twice as a drive")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise SystemExit("--tls-cert and --tls-key go together")
    if args.tls_cert:
        _check_tls(args.tls_cert, args.tls_key)
    _check_tier(args, drives)
    _metrics_dir()
    from .launch import serve
    serve(Config(host=args.listen[0], port=args.listen[1], data=drives[0],
                 drives=drives if len(drives) > 1 else [], parity=args.parity,
                 scrub_rate=args.scrub_rate,
                 auth_file=args.auth_file, workers=max(1, args.workers),
                 domains=[d.lower().strip(".") for d in args.domain], region=args.region,
                 root_user=user, root_password=password, durable=not args.no_fsync,
                 log_level=args.log_level, log_format=args.log_format,
                 metrics_public=args.metrics_public, metrics_token=args.metrics_token,
                 auth=args.auth,
                 multipart_expiry=args.multipart_expiry,
                 lifecycle_day_seconds=args.lifecycle_day_seconds,
                 create_drives=args.create_drives, orphan_grace=args.orphan_grace,
                 idle_timeout=args.idle_timeout, header_timeout=args.header_timeout,
                 body_timeout=args.body_timeout, max_connections=max(1, args.max_connections),
                 tls_cert=args.tls_cert, tls_key=args.tls_key, acl_mode=args.acl_mode,
                 compression=args.compression == "on", kms_keyring=args.kms_keyring,
                 allow_insecure_sse_c=args.allow_insecure_sse_c,
                 allow_header_auth=args.allow_header_auth,
                 tier_endpoint=args.tier_endpoint, tier_bucket=args.tier_bucket,
                 tier_prefix=args.tier_prefix, tier_region=args.tier_region,
                 tier_ship_interval=args.tier_ship_interval,
                 tier_checkpoint_interval=args.tier_checkpoint_interval,
                 tier_rate=args.tier_rate, tier_storage_class=args.tier_storage_class,
                 follow_tier=args.follow_tier, follow_interval=args.follow_interval,
                 protocol=args.protocol, grpc_host=args.grpc_listen[0],
                 grpc_port=args.grpc_listen[1],
                 default_ownership="" if args.default_ownership == "none"
                 else args.default_ownership))
