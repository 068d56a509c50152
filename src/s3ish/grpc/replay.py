"""Refuse a signed gRPC call seen before (docs/grpc.md, "Replay").

A signature is good for 15 minutes either side of its signed time (the SigV4 skew window), so
a signature seen once is refused for as long as it could still be accepted. One worker keeps
what it saw in memory: 128 bits of each signature, in one set per minute of signed time, a set
dropped whole once its minute is out of the window (about 70 bytes per call of the last 15
minutes). Several workers share the port, so a replay may reach another one: then each
signature is claimed as a file created with O_EXCL in the data folder, which any worker's
claim of the same signature finds (the first claim wins), in one folder per 15-minute slot of
the signed time, removed once no signature in it can be accepted any more. A server on
:memory: has one worker.
"""
import os
import shutil
import time

from ..util.threads import run_io

WINDOW = 15 * 60            # seconds: the clock-skew window of a signature


SLOT = 60                   # seconds of signed time per in-memory set


class ReplayGuard:
    def __init__(self, folder: str | None):
        """`folder`: where workers share their claims (None: one worker, memory only)."""
        self.folder = folder
        self._seen: dict[int, set[int]] = {}      # minute of signed time -> signatures
        self._pruned = 0.0

    async def claim(self, signature: str, signed_at: float) -> bool:
        """True the first time `signature` (hex, signed at `signed_at`) is seen, else False."""
        now = time.time()
        if now - self._pruned > SLOT:
            await self._prune(now)
        if self.folder is not None:
            return await run_io(self._claim_file, signature, int(signed_at // WINDOW))
        seen = self._seen.setdefault(int(signed_at // SLOT), set())
        key = int(signature[:32], 16)
        if key in seen:
            return False
        seen.add(key)
        return True

    def _claim_file(self, signature: str, slot: int) -> bool:
        folder = os.path.join(self.folder, str(slot))
        os.makedirs(folder, exist_ok=True)
        try:
            os.close(os.open(os.path.join(folder, signature), os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            return False
        return True

    async def _prune(self, now: float) -> None:
        self._pruned = now
        for minute in [m for m in self._seen if (m + 1) * SLOT < now - WINDOW]:
            del self._seen[minute]
        if self.folder is not None:
            await run_io(self._prune_files, now)

    def _prune_files(self, now: float) -> None:
        """Slots whose every signature is past its window (with one slot of margin)."""
        oldest = int((now - 2 * WINDOW) // WINDOW)
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return
        for name in names:
            if name.isdigit() and int(name) < oldest:
                shutil.rmtree(os.path.join(self.folder, name), ignore_errors=True)
