"""The graveyard: data units freed (by an overwrite, a delete, an aborted upload) while a cold
tier is configured. They stay on the drives until the shipper has put in the tier every
record up to the free, so a point-in-time restore to before the delete finds them there
(the shipper removes them then; see bg/tiership.py).

It is a small append-only file, `.s3ish/tier/graveyard` in the data folder: a line per unit,
`<data id>` as freed, `<data id> <lsn>` once the shipper stamped it with a log position at
or after its free. A file rather than an index table, because:
- it is local bookkeeping, not object metadata: it must not travel in the journal, the
  checkpoints or a restore (a restored folder must never delete units on the word of another
  machine's frees), and a table would need a schema migration and a journal record per free;
- it needs no fsync on the foreground: a line lost in a power cut leaves a unit that nothing
  references and that is not buried, and the start-up sweep buries every such unit again
  when a tier is configured (never sets it aside as an orphan).
Appends and rewrites hold a lock file, so worker processes and the shipper never interleave.
"""
import contextlib
import fcntl
import os

FILE = "graveyard"


class Graveyard:
    def __init__(self, folder: str):
        self.path = os.path.join(folder, FILE)
        self.lock_path = self.path + ".lock"

    @contextlib.contextmanager
    def _locked(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def bury(self, data_ids) -> None:
        """Keep these units until the shipper lets them go (blocking: call from a thread)."""
        text = "".join(f"{d}\n" for d in data_ids)
        if not text:
            return
        with self._locked(), open(self.path, "a") as f:
            f.write(text)

    def read(self, offset: int = 0) -> tuple[list[tuple[str, int | None]], int]:
        """The entries from byte `offset` on, [(data id, stamp or None)], and the offset of
        the end of the last complete line."""
        try:
            with open(self.path, "rb") as f:
                f.seek(offset)
                blob = f.read()
        except FileNotFoundError:
            return [], offset
        end = blob.rfind(b"\n") + 1
        entries = []
        for line in blob[:end].decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 1:
                entries.append((parts[0], None))
            elif len(parts) == 2 and parts[1].isdigit():
                entries.append((parts[0], int(parts[1])))
        return entries, offset + end

    def ids(self) -> set[str]:
        return {d for d, _ in self.read()[0]}

    def rewrite(self, keep: dict, drop: set, stamp_new: int) -> tuple[dict, int]:
        """Replace the file by the entries of `keep` ({data id: stamp}) but those in `drop`
        (removed from the drives), plus entries appended that `keep` does not know yet,
        stamped `stamp_new` (a log position read after they were appended). Returns
        ({data id: stamp} now in the file, its size)."""
        with self._locked():
            entries, _ = self.read()
            out = {d: s for d, s in keep.items() if d not in drop}
            for data_id, stamp in entries:
                if data_id not in out and data_id not in drop:
                    out[data_id] = stamp if stamp is not None else stamp_new
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                f.write("".join(f"{d} {s}\n" for d, s in out.items()))
            os.replace(tmp, self.path)
            return out, os.path.getsize(self.path)

    def clear(self) -> None:
        with self._locked():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
