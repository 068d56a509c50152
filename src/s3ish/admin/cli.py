"""`s3ish admin ...`: the operator's view of a running server, through /_admin/ with the root
credentials (S3ISH_ROOT_USER / S3ISH_ROOT_PASSWORD)."""
import base64
import fcntl
import json
import os
import sys
import urllib.error
import urllib.request


def add_admin_parser(sub) -> None:
    a = sub.add_parser("admin", help="operator commands against a running server")
    a.add_argument("--endpoint", default=os.environ.get("S3ISH_ENDPOINT",
                                                         "http://127.0.0.1:9000"))
    a.add_argument("--json", action="store_true", help="print the raw JSON")
    a.add_argument("what", choices=["drives", "heal", "scrub", "rebuild-index"])
    a.add_argument("detail", nargs="?", choices=["status"],
                   help="`heal status` (the default for heal)")
    a.add_argument("--data", action="append", metavar="DIR",
                   help="rebuild-index: the server's drives (it must be stopped)")


def rebuild_index(args) -> int:
    from .rebuild import rebuild_index as offline_rebuild
    return offline_rebuild(args.data or [])


def run_admin(args) -> int:
    if args.what == "rebuild-index":
        return rebuild_index(args)
    path, method = {"drives": ("/_admin/drives", "GET"), "heal": ("/_admin/heal", "GET"),
                    "scrub": ("/_admin/scrub", "POST")}[args.what]
    user, password = os.environ.get("S3ISH_ROOT_USER"), os.environ.get("S3ISH_ROOT_PASSWORD")
    if not (user and password):
        print("set S3ISH_ROOT_USER and S3ISH_ROOT_PASSWORD", file=sys.stderr)
        return 2
    req = urllib.request.Request(args.endpoint.rstrip("/") + path, method=method, data=None
                                 if method == "GET" else b"")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=3600) as resp:
            doc = json.loads(resp.read())
    except urllib.error.HTTPError as e:
        print(f"{e.code}: {e.read().decode(errors='replace').strip()}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"cannot reach {args.endpoint}: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(doc, indent=2))
    elif args.what == "drives":
        _print_drives(doc["drives"])
    else:
        for k, v in (doc.get("scrub", doc)).items():
            print(f"{k:24s} {v}")
        if "queued_for_heal" in doc:
            print(f"{'queued_for_heal':24s} {doc['queued_for_heal']}")
    return 0


def _print_drives(drives: list[dict]) -> None:
    print(f"{'#':>2} {'state':10s} {'errors':>6} {'used GiB':>9} {'free GiB':>9}  path")
    for d in drives:
        print(f"{d['index']:>2} {d['state']:10s} {d['errors']:>6} "
              f"{d.get('used', 0) / 2**30:9.1f} {d.get('free', 0) / 2**30:9.1f}  {d['path']}"
              + (f"  ({d['last_error']})" if d.get("last_error") else ""))
