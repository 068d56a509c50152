"""`s3ish grpc put|get|ls`: the gRPC client (client.py) from the command line.

    s3ish grpc put BUCKET/KEY FILE|-        [--content-type T] [--meta K=V ...]
    s3ish grpc get BUCKET/KEY [FILE|-]      [--version-id V] [--offset N] [--limit N]
    s3ish grpc ls [BUCKET[/PREFIX]]         [--recursive] [--versions]

The endpoint is --endpoint or $S3ISH_GRPC_ENDPOINT (default 127.0.0.1:9001; grpcs://HOST:PORT
for TLS, with --ca-file for a private CA); the keys --access-key/--secret-key, else
$AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY, else the root pair $S3ISH_ROOT_USER/PASSWORD.
"""
import os
import sys


def add_grpc_parser(sub) -> None:
    g = sub.add_parser("grpc", help="put, get and list objects over s3ish's gRPC interface")
    g.add_argument("--endpoint", default=os.environ.get("S3ISH_GRPC_ENDPOINT",
                                                        "127.0.0.1:9001"),
                   help="HOST:PORT, grpc://HOST:PORT or grpcs://HOST:PORT (TLS) "
                   "(default $S3ISH_GRPC_ENDPOINT or 127.0.0.1:9001)")
    g.add_argument("--access-key", default=None,
                   help="default $AWS_ACCESS_KEY_ID, else $S3ISH_ROOT_USER")
    g.add_argument("--secret-key", default=None,
                   help="default $AWS_SECRET_ACCESS_KEY, else $S3ISH_ROOT_PASSWORD")
    g.add_argument("--region", default=os.environ.get("S3ISH_REGION", "us-east-1"))
    g.add_argument("--ca-file", default=None, help="CA bundle to trust for grpcs://")
    ops = g.add_subparsers(dest="grpc_command", required=True)
    put = ops.add_parser("put", help="upload FILE (- for stdin) to BUCKET/KEY")
    put.add_argument("target", metavar="BUCKET/KEY")
    put.add_argument("file", metavar="FILE")
    put.add_argument("--content-type", default="")
    put.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                     help="user metadata (repeatable)")
    get = ops.add_parser("get", help="download BUCKET/KEY to FILE (default: stdout)")
    get.add_argument("target", metavar="BUCKET/KEY")
    get.add_argument("file", metavar="FILE", nargs="?", default="-")
    get.add_argument("--version-id", default="")
    get.add_argument("--offset", type=int, default=0,
                     help="first byte (negative: that many bytes before the end)")
    get.add_argument("--limit", type=int, default=0, help="at most this many bytes (0: all)")
    ls = ops.add_parser("ls", help="list buckets, or the objects of BUCKET[/PREFIX]")
    ls.add_argument("target", metavar="BUCKET[/PREFIX]", nargs="?", default="")
    ls.add_argument("--recursive", action="store_true", help="no '/' delimiter")
    ls.add_argument("--versions", action="store_true", help="every version and delete marker")


def _split(target: str, key_required: bool) -> tuple[str, str]:
    bucket, _, key = target.partition("/")
    if not bucket or (key_required and not key):
        raise SystemExit(f"expected BUCKET/KEY, not {target!r}")
    return bucket, key


def _client(args):
    from .client import Client     # grpc is loaded only when a command runs
    access = args.access_key or os.environ.get("AWS_ACCESS_KEY_ID") \
        or os.environ.get("S3ISH_ROOT_USER")
    secret = args.secret_key or os.environ.get("AWS_SECRET_ACCESS_KEY") \
        or os.environ.get("S3ISH_ROOT_PASSWORD")
    if not access or not secret:
        raise SystemExit("no credentials: pass --access-key/--secret-key or set "
                         "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or S3ISH_ROOT_USER/PASSWORD)")
    return Client(args.endpoint, access, secret, args.region, ca_file=args.ca_file)


def run_grpc(args) -> int:
    import grpc
    from .client import ChecksumError, error_code
    try:
        with _client(args) as client:
            return _COMMANDS[args.grpc_command](client, args)
    except grpc.RpcError as e:
        code, details = error_code(e), e.details() or ""
        if code and details.startswith(f"{code}: "):
            details = details[len(code) + 2:]     # the server's details begin with the code
        print(f"s3ish grpc {args.grpc_command}: {e.code().name}"
              f"{' ' + code if code else ''}: {details}", file=sys.stderr)
        return 1
    except ChecksumError as e:
        print(f"s3ish grpc {args.grpc_command}: {e}", file=sys.stderr)
        return 1


def _put(client, args) -> int:
    bucket, key = _split(args.target, True)
    meta = {}
    for item in args.meta:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--meta expects KEY=VALUE, not {item!r}")
        meta[name] = value
    if args.file == "-":
        obj = client.put(bucket, key, sys.stdin.buffer, args.content_type, meta)
    else:
        with open(args.file, "rb") as f:
            obj = client.put(bucket, key, f, args.content_type, meta)
    print(f"{bucket}/{key}: {obj.size} bytes, etag {obj.etag}, version {obj.version_id}")
    return 0


def _get(client, args) -> int:
    bucket, key = _split(args.target, True)
    kw = {"version_id": args.version_id, "offset": args.offset, "limit": args.limit}
    if args.file == "-":
        client.get(bucket, key, sys.stdout.buffer, **kw)
        sys.stdout.buffer.flush()
        return 0
    # Into a temporary file first: a failed read never leaves a partial file under the name.
    tmp = args.file + ".s3ish-part"
    try:
        with open(tmp, "wb") as f:
            client.get(bucket, key, f, **kw)
        os.replace(tmp, args.file)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return 0


def _ls(client, args) -> int:
    if not args.target:
        for b in client.list_buckets():
            print(f"{b.create_time.ToDatetime():%Y-%m-%d %H:%M:%S}  {b.name}")
        return 0
    bucket, prefix = _split(args.target, False)
    for page in client.list(bucket, prefix=prefix, delimiter="" if args.recursive else "/",
                            versions=args.versions):
        for p in page.prefixes:
            print(f"{'':19}  {'PRE':>12}  {p}")
        for o in page.objects:
            when = f"{o.last_modified.ToDatetime():%Y-%m-%d %H:%M:%S}"
            extra = ""
            if args.versions:
                extra = f"  {o.version_id}{' (delete marker)' if o.delete_marker else ''}" \
                        f"{' latest' if o.is_latest else ''}"
            print(f"{when}  {o.size:>12}  {o.key}{extra}")
    return 0


_COMMANDS = {"put": _put, "get": _get, "ls": _ls}
