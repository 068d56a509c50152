"""/_admin/: drives (state, usage, errors), heal status (scrub progress, repairs), a full
scrub and a lifecycle pass on demand, a bucket's compression setting, a reseal pass of the
encryption keys after a rotation, the cold tier's status and verification. JSON in and out;
root only (see access.py)."""
import glob
import json
import os

from ..engine.compress import enabled
from ..engine.errors import NoSuchBucket
from ..engine.reseal import reseal_all
from ..storage.kms import KmsError
from ..http.asgi import Response
from ..util.threads import run_io


def _json(doc, status: int = 200) -> Response:
    return Response(status, [("Content-Type", "application/json")],
                    json.dumps(doc, indent=2).encode() + b"\n")


class AdminAPI:
    def __init__(self, data_store, status=None, scrubber=None, status_dir: str | None = None):
        self.data = data_store          # ErasureDataStore (or a single-folder store)
        self.status = status            # this process's HealStatus
        self.scrubber = scrubber
        self.status_dir = status_dir    # where every worker publishes its HealStatus
        self.lifecycle = None           # bg.lifecycle.LifecycleWorker (set by the app)
        self.engine = None              # engine.objects.Engine (set by the app)
        self.tier = None                # bg.tiership.TierAdmin with a cold tier (the app)
        self.read_only = ""             # a follower: why changes are refused (the app)

    async def handle(self, req) -> Response:
        path = req.path.rstrip("/")
        if self.read_only and req.method == "POST" and path.startswith(
                ("/_admin/lifecycle", "/_admin/compression/")):
            # What these would change is the writer's to change (it reaches here by the log).
            return _json({"error": self.read_only}, 403)
        if path == "/_admin/drives" and req.method == "GET":
            return _json({"drives": await run_io(self._drives)})
        if path == "/_admin/heal" and req.method == "GET":
            return _json(self._heal_status())
        if path == "/_admin/scrub" and req.method == "POST":
            if self.scrubber is None:
                return _json({"error": "scrubbing needs erasure-coded drives"}, 400)
            result = await self.scrubber.run_full()
            return _json({"scrub": result, "queued_for_heal": self.data.damaged_count()})
        if path == "/_admin/lifecycle" and req.method == "POST" and self.lifecycle:
            return _json({"lifecycle": await self.lifecycle.run_pass()})
        if path == "/_admin/kms/reseal" and req.method == "POST" and self.engine is not None:
            return await self._reseal()
        if path.startswith("/_admin/tier/"):
            return await self._tier(req.method, path)
        if path.startswith("/_admin/compression/") and self.engine is not None:
            return await self._compression(req.method, path.split("/")[3:])
        return _json({"error": f"no admin endpoint {req.method} {req.path}"}, 404)

    async def _tier(self, method: str, path: str) -> Response:
        """GET /_admin/tier/status, POST /_admin/tier/verify (docs/tier.md)."""
        if self.tier is None:
            return _json({"error": "no cold tier is configured (start the server with "
                          "--tier-endpoint and --tier-bucket)"}, 404)
        if path == "/_admin/tier/status" and method == "GET":
            return _json(await self.tier.status())
        if path == "/_admin/tier/verify" and method == "POST":
            return _json(await self.tier.verify())
        return _json({"error": "use GET /_admin/tier/status or POST /_admin/tier/verify"}, 404)

    async def _compression(self, method: str, args: list[str]) -> Response:
        """GET /_admin/compression/BUCKET: its setting; POST .../BUCKET/on|off|default."""
        bucket, mode = args[0], args[1] if len(args) == 2 else None
        if len(args) > 2 or (method == "POST") != (mode is not None):
            return _json({"error": "use GET /_admin/compression/BUCKET or POST "
                          "/_admin/compression/BUCKET/on|off|default"}, 400)
        try:
            if mode is not None:
                await self.engine.set_bucket_compression(bucket,
                                                         "" if mode == "default" else mode)
            b = await self.engine.get_bucket(bucket)
        except NoSuchBucket:
            return _json({"error": f"no bucket {bucket}"}, 404)
        except ValueError as e:
            return _json({"error": str(e)}, 400)
        return _json({"bucket": bucket, "setting": b.compression or "default",
                      "server_default": "on" if self.engine.compression else "off",
                      "compressing": enabled(b, self.engine.compression)})

    async def _reseal(self) -> Response:
        """POST /_admin/kms/reseal: re-read the keyring (a rotation a moment ago must count
        even if this worker has not polled the file yet), then move every stored data key to
        its key's newest version (engine/reseal.py)."""
        kms = self.engine.kms
        if kms is None:
            return _json({"error": "no key service: the server was started without "
                          "--kms-keyring or S3ISH_KMS_MASTER_KEY"}, 400)
        if hasattr(kms, "reload"):
            try:
                await run_io(kms.reload)
            except KmsError as e:
                return _json({"error": f"keyring not re-read, nothing resealed: {e}"}, 500)
        return _json({"reseal": (await reseal_all(self.engine)).to_dict()})

    def _drives(self) -> list[dict]:
        drive_set = getattr(self.data, "set", None)
        if drive_set is None:
            root = getattr(self.data, "root", ":memory:")
            return [{"index": 0, "path": root, "state": "ok", "errors": 0}]
        drive_set.refresh()
        return [d.describe() for d in drive_set.drives]

    def _heal_status(self) -> dict:
        """The sum over every worker process's published status."""
        total: dict = {}
        docs = []
        own = f"heal-status-{os.getpid()}.json"
        if self.status_dir:
            for path in glob.glob(os.path.join(self.status_dir, "heal-status-*.json")):
                if os.path.basename(path) == own:
                    continue            # this process: take the live numbers below
                try:
                    with open(path) as f:
                        docs.append(json.load(f))
                except (OSError, ValueError):
                    continue
        if self.status is not None:
            docs.append(self.status.to_dict())
        for doc in docs:
            for k, v in doc.items():
                total[k] = max(total.get(k, 0), v) if k.startswith("scrub_") or \
                    k == "last_cycle_seconds" else total.get(k, 0) + v
        # Units reported damaged and not taken yet, plus those healers took (every unit
        # during a drive rebuild), as the s3ish_heal_queue_depth gauge counts.
        total["heal_queue"] = total.pop("heal_taken", 0) + (self.data.damaged_count() if hasattr(
            self.data, "damaged_count") else 0)
        return total
