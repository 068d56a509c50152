"""`s3ish admin ...`: the operator's view of a running server, through /_admin/ with the root
credentials (S3ISH_ROOT_USER / S3ISH_ROOT_PASSWORD), signed as admin/client.py does. Two
commands work on files instead, with or without a server: `rebuild-index` (server stopped)
and `kms` (the keyring of server-side encryption keys, admin/kms_cli.py; its `reseal`, and
`rotate --reseal`, ask the running server to move stored data keys to the newest versions)."""
import json
import os
import sys

from . import client, iam_cli, kms_cli


def add_admin_parser(sub) -> None:
    a = sub.add_parser("admin", help="operator commands against a running server")
    a.add_argument("--endpoint", default=os.environ.get("S3ISH_ENDPOINT",
                                                         "http://127.0.0.1:9000"))
    a.add_argument("--region", default=os.environ.get("S3ISH_REGION", "us-east-1"),
                   help="the server's --region, signed into each request "
                   "(default $S3ISH_REGION or us-east-1)")
    a.add_argument("--json", action="store_true", help="print the raw JSON")
    a.add_argument("what", choices=["drives", "heal", "scrub", "lifecycle", "rebuild-index",
                                    "compression", "kms", "tier", *iam_cli.VERBS])
    a.add_argument("detail", nargs="?",
                   help="`heal status` (the default for heal), `lifecycle run` (carry out "
                   "every lifecycle action due now), `compression BUCKET [on|off|default]` "
                   "(show or set whether new data of a bucket is stored compressed; default: "
                   "as the server's --compression); `tier status` (the cold tier's positions "
                   "and lag), `tier verify` (its invariants checked against the remote: exit "
                   "status 1 at the first violation); `kms " + "|".join(kms_cli.VERBS[:-1]) +
                   " --keyring FILE ...` (the keys of server-side encryption, edited offline; "
                   "rotate --reseal also reseals), `kms reseal` (the running server re-seals "
                   "stored data keys under their keys' newest versions); "
                   "user, key and policy commands: "
                   + "; ".join(f"{w} {'|'.join(vs)}" for w, vs in iam_cli.VERBS.items()))
    iam_cli.add_arguments(a)
    kms_cli.add_arguments(a)
    a.add_argument("--data", action="append", metavar="DIR",
                   help="rebuild-index: the server's drives (it must be stopped)")


def rebuild_index(args) -> int:
    from .rebuild import rebuild_index as offline_rebuild
    return offline_rebuild(args.data or [])


def run_admin(args) -> int:
    if args.what == "rebuild-index":
        return rebuild_index(args)
    if args.what == "kms":
        return kms_cli.run_kms(args)
    if args.what in iam_cli.VERBS:
        return iam_cli.run_iam(args)
    if args.detail is not None and args.detail not in _DETAILS.get(args.what, ()) and \
            args.what != "compression":
        print(f"s3ish admin {args.what}: unknown {args.detail!r}", file=sys.stderr)
        return 2
    if args.what == "tier" and args.detail is None:
        print("usage: s3ish admin tier status|verify", file=sys.stderr)
        return 2
    path, method = {"drives": ("/_admin/drives", "GET"), "heal": ("/_admin/heal", "GET"),
                    "scrub": ("/_admin/scrub", "POST"),
                    "lifecycle": ("/_admin/lifecycle", "POST"),
                    "tier": (f"/_admin/tier/{args.detail}",
                             "GET" if args.detail == "status" else "POST"),
                    "compression": _compression_path(args)}[args.what]
    if path is None:
        print("usage: s3ish admin compression BUCKET [on|off|default]", file=sys.stderr)
        return 2
    try:
        doc = client.call(args.endpoint, args.region, method, path)
    except client.NoCredentials as e:
        print(e, file=sys.stderr)
        return 2
    except client.AdminCallError as e:
        print(e, file=sys.stderr)
        return 1
    except OSError as e:
        print(f"cannot reach {args.endpoint}: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(doc, indent=2))
    elif args.what == "tier" and args.detail == "verify":
        print("ok" if doc["ok"] else f"violation: {doc['violation']}")
        for k, v in doc["checked"].items():
            print(f"{k:24s} {v}")
    elif args.what == "drives":
        _print_drives(doc["drives"])
    else:
        for k, v in (doc.get("scrub") or doc.get("lifecycle") or doc).items():
            print(f"{k:24s} {v}")
        if "queued_for_heal" in doc:
            print(f"{'queued_for_heal':24s} {doc['queued_for_heal']}")
    if args.what == "tier" and args.detail == "verify" and not doc["ok"]:
        if args.json:
            print(f"violation: {doc['violation']}", file=sys.stderr)
        return 1
    return 0


_DETAILS = {"heal": ("status",), "lifecycle": ("run",), "tier": ("status", "verify")}


def _compression_path(args) -> tuple[str | None, str]:
    """`compression BUCKET [on|off|default]` (the mode comes in as an operand)."""
    mode = args.operands or []
    if args.what != "compression" or not args.detail or "/" in args.detail or \
            len(mode) > 1 or (mode and mode[0] not in ("on", "off", "default")):
        return None, "GET"
    if mode:
        return f"/_admin/compression/{args.detail}/{mode[0]}", "POST"
    return f"/_admin/compression/{args.detail}", "GET"


def _print_drives(drives: list[dict]) -> None:
    print(f"{'#':>2} {'state':10s} {'errors':>6} {'used GiB':>9} {'free GiB':>9}  path")
    for d in drives:
        print(f"{d['index']:>2} {d['state']:10s} {d['errors']:>6} "
              f"{d.get('used', 0) / 2**30:9.1f} {d.get('free', 0) / 2**30:9.1f}  {d['path']}"
              + (f"  ({d['last_error']})" if d.get("last_error") else ""))
