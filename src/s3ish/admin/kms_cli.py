"""`s3ish admin kms ...`: the keyring of server-side encryption keys (storage/kms.py), edited
offline: the file is the source of truth, and a running server re-reads it within seconds.

    kms create-key --keyring FILE [--id ID] [--default]   (prints the new key's id)
    kms list --keyring FILE [--json]
    kms set-default --keyring FILE ID
    kms rotate --keyring FILE [ID] [--reseal]             (the default key when no ID)
    kms reseal [--json]                                   (a running server: --endpoint)

`reseal` (and `rotate --reseal`, after adding the version) asks the running server
(POST /_admin/kms/reseal, root credentials as every `s3ish admin` command that talks to a
server) to re-read the keyring and re-seal every stored data key under its key's newest
version (engine/reseal.py); no object data is rewritten. Old versions stay in the keyring:
shard headers keep naming the versions units were written with.
"""
import json
import sys
import time

from ..storage import kms
from . import client

VERBS = ("create-key", "list", "set-default", "rotate", "reseal")


def add_arguments(a) -> None:
    a.add_argument("--keyring", metavar="FILE", help="kms: the keyring file (made by "
                   "`kms create-key`; give it to the server as --kms-keyring)")
    a.add_argument("--id", dest="key_id", metavar="ID", help="kms create-key: the new key's "
                   "id (default: a random UUID); up to 256 of A-Z a-z 0-9 . _ / -")
    a.add_argument("--default", dest="make_default", action="store_true",
                   help="kms create-key: make the new key the default")
    a.add_argument("--reseal", action="store_true", help="kms rotate: then have the running "
                   "server (--endpoint) re-seal every stored data key under the new version")


def run_kms(args) -> int:
    operands = args.operands or []
    usage = _usage_problem(args, operands)
    if usage:
        print(f"usage: s3ish admin kms {usage}", file=sys.stderr)
        return 2
    if args.detail == "reseal":
        return _reseal(args)
    try:
        if args.detail == "create-key":
            print(kms.create_key(args.keyring, args.key_id, args.make_default))
        elif args.detail == "list":
            _list(kms.describe(args.keyring), args.json)
        elif args.detail == "set-default":
            kms.set_default(args.keyring, operands[0])
            print(f"default key: {kms.normalize_key_id(operands[0])}")
        else:
            _rotate(args.keyring, operands[0] if operands else None, args.reseal)
    except kms.KmsError as e:
        print(f"s3ish admin kms {args.detail}: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"s3ish admin kms {args.detail}: {args.keyring}: {e.strerror}", file=sys.stderr)
        return 1
    return _reseal(args) if args.reseal else 0


def _usage_problem(args, operands: list[str]) -> str | None:
    """What is wrong with the command line, as the usage line to show; None if nothing."""
    forms = {"create-key": ("create-key --keyring FILE [--id ID] [--default]", 0, 0),
             "list": ("list --keyring FILE [--json]", 0, 0),
             "set-default": ("set-default --keyring FILE ID", 1, 1),
             "rotate": ("rotate --keyring FILE [ID] [--reseal]", 0, 1),
             "reseal": ("reseal [--json]  (against the server at --endpoint)", 0, 0)}
    if args.detail not in forms:
        return " | ".join(form for form, _, _ in forms.values())
    form, least, most = forms[args.detail]
    if bool(args.keyring) == (args.detail == "reseal") or not least <= len(operands) <= most:
        return form
    if (args.key_id or args.make_default) and args.detail != "create-key":
        return form
    if args.reseal and args.detail != "rotate":
        return form
    return None


def _list(keys: list[dict], as_json: bool) -> None:
    if as_json:
        print(json.dumps(keys, indent=2))
        return
    print(f"{'default':7s} {'versions':>8s}  {'created (UTC)':20s} id")
    for k in keys:
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(k["created"]))
        print(f"{'*' if k['default'] else '':7s} {k['versions']:>8d}  {created:20s} {k['id']}")


def _rotate(path: str, key_id: str | None, then_reseal: bool) -> None:
    if key_id is None:
        key_id = next((k["id"] for k in kms.describe(path) if k["default"]), None)
        if key_id is None:
            raise kms.KeyNotFound("the keyring holds no keys")
    name = kms.normalize_key_id(key_id)
    version = kms.rotate_key(path, name)
    print(f"key {name}: version {version} added; new data keys are sealed with it (a running "
          f"server re-reads the keyring within seconds). Data keys sealed with older versions "
          f"stay readable; never remove old versions (shard headers name them).")
    if not then_reseal:
        print(f"To re-seal stored data keys under version {version} (no data is rewritten): "
              f"`s3ish admin kms reseal` against the running server, or rotate with --reseal.")


def _reseal(args) -> int:
    """POST /_admin/kms/reseal on the running server; prints its report."""
    try:
        doc = client.call(args.endpoint, args.region, "POST", "/_admin/kms/reseal")
    except client.NoCredentials as e:
        print(e, file=sys.stderr)
        return 2
    except client.AdminCallError as e:
        print(f"s3ish admin kms reseal: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"s3ish admin kms reseal: cannot reach {args.endpoint}: {e}", file=sys.stderr)
        return 1
    report = doc["reseal"]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for k, v in report.items():
            if k != "failures":
                print(f"{k:24s} {v}")
    for f in report["failures"]:
        where = " ".join(f"{k}={v}" for k, v in f.items() if k != "error")
        print(f"failed: {where}: {f['error']}", file=sys.stderr)
    if report["failed"] > len(report["failures"]):
        print(f"... and {report['failed'] - len(report['failures'])} more (see the server's "
              "log)", file=sys.stderr)
    return 1 if report["failed"] else 0
