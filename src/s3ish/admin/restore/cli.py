"""`s3ish restore`'s command line. Only argparse here: the restore itself (the remote
client, the stores) is imported when the command runs, so that `s3ish server` imports none
of it before it has set up its metrics (prometheus_client reads its multiprocess folder at
import)."""


def add_restore_parser(sub) -> None:
    r = sub.add_parser("restore", help="rebuild a stopped server's folders from the cold tier "
                       "(to its high-water mark, or to a point in time)")
    r.add_argument("--tier-endpoint", required=True, metavar="URL",
                   help="the S3 service of the cold tier (credentials from "
                   "S3ISH_TIER_ACCESS_KEY / S3ISH_TIER_SECRET_KEY)")
    r.add_argument("--tier-bucket", required=True, metavar="BUCKET")
    r.add_argument("--tier-prefix", default="", metavar="PREFIX")
    r.add_argument("--tier-region", default="us-east-1", metavar="REGION")
    r.add_argument("--data", action="append", required=True, metavar="DIR",
                   help="the empty folder to restore into; repeat (or DIR{1...4}) for the "
                   "drives of an erasure set")
    r.add_argument("--parity", type=int, default=None,
                   help="parity shards per block with several drives (the server's --parity)")
    r.add_argument("--create-drives", action="store_true",
                   help="create drive folders that do not exist")
    to = r.add_mutually_exclusive_group()
    to.add_argument("--to-lsn", type=int, metavar="N",
                    help="restore the state at log position N (at most the high-water mark)")
    to.add_argument("--to-time", metavar="TIME",
                    help="restore the state at TIME, ISO 8601 UTC (2026-12-02T21:00:00Z): "
                    "every record committed at or before it")
    r.add_argument("--jobs", type=int, default=4, metavar="N",
                   help="data units fetched at once (default 4)")
    r.add_argument("--json", action="store_true", help="print the summary as JSON")


def run_restore(args) -> int:
    from .command import run
    return run(args)
