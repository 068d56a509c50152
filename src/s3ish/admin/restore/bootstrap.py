"""A follower's start (`s3ish server --follow-tier`, docs/tier.md "Follower"), before any
worker serves, with the folders locked:

- empty folders are bootstrapped: exactly `s3ish restore` to the tier's high-water mark
  (command.restore: the checkpoint, the segments, the data units), leaving
  `.s3ish/tier/follower.json` (tier.localstate) instead of restored.json; the follower then
  carries on from there (bg/tierfollow.py);
- folders that already follow this tier are left as they are: the follower resumes from its
  index's position;
- anything else is refused in one line: folders with data of their own, folders following
  another tier, a follower's folders written since without --follow-tier.

A server started without --follow-tier on a follower's folders is refused too
(`refuse_writer`): its writes would fork the follower's timeline from the tier's.
"""
import asyncio
import sqlite3
import time

from ...config import Config
from ...meta import segments
from ...storage.drives import is_empty
from ...tier import localstate
from ...tier.config import TierConfig, TierConfigError
from ...tier.errors import RemoteError
from ...util.errors import QuorumError
from . import command, local
from .plan import RestoreError

MARKER = f"{localstate.FOLDER}/{localstate.FOLLOWER}"
JOBS = 4


def prepare(cfg: Config) -> dict | None:
    """Bootstrap, resume or refuse (SystemExit with one line). Returns the bootstrap's
    summary, or None when the folders already follow the tier."""
    folders = cfg.drives or [cfg.data]
    state = localstate.read_follower(cfg.data)
    if state is not None:
        _check_resume(cfg, folders, state)
        return None
    if all(is_empty(f) for f in folders):
        return _bootstrap(cfg, folders)
    partial = local.refuse_partial(folders)
    if partial:
        raise SystemExit(f"s3ish: {partial} (a follower's bootstrap that did not finish, or "
                         "a restore)")
    raise SystemExit(f"s3ish: --follow-tier: {cfg.data} holds data of its own, it does not "
                     "follow the cold tier: a follower starts on empty folders (bootstrapped "
                     "from the tier) or on the folders of a follower of that tier")


def refuse_writer(cfg: Config) -> None:
    """A server without --follow-tier must not write a follower's folders."""
    state = localstate.read_follower(cfg.data)
    if state is not None:
        raise SystemExit(f"s3ish: {cfg.data} is a read-only follower of the cold tier "
                         f"{state['tier']}: start it with --follow-tier and that tier's "
                         f"flags (to make it a server of its own instead, remove "
                         f"{MARKER} first: it can never follow again)")


def _check_resume(cfg: Config, folders: list[str], state: dict) -> None:
    if state["tier"] != cfg.tier:
        raise SystemExit(f"s3ish: {cfg.data} follows the cold tier {state['tier']}, not "
                         f"{cfg.tier}: start it with that tier's flags, or bootstrap a "
                         "follower of this one on empty folders")
    first = segments.first_entry_after(folders, -1)
    if first is not None:
        # A follower's own journal holds no record: its index moves only by what it
        # applies from the tier (meta/replica.py).
        raise SystemExit(f"s3ish: {cfg.data} followed the cold tier but holds writes of its "
                         f"own since (record {first.lsn} in its journal: a server ran on it "
                         "without --follow-tier): it cannot follow again; bootstrap a "
                         "follower on empty folders")


def follower_doc(tier: str, lsn: int, manifest) -> dict:
    """follower.json as the bootstrap leaves it: the tier, its generation and that
    generation's entry (how the follower recognises its timeline), the position."""
    entry = next((g for g in manifest.generations if g.get("gen") == manifest.generation),
                 None)
    timeline = None if entry is None else {k: entry.get(k) for k in ("gen", "from_lsn", "time")}
    return {"tier": tier, "generation": manifest.generation, "timeline": timeline,
            "bootstrap_lsn": lsn, "applied_lsn": lsn, "hwm": manifest.hwm,
            "writer": manifest.writer, "time": time.time()}


def _bootstrap(cfg: Config, folders: list[str]) -> dict:
    progress = command.Progress(name="follow")
    try:
        config = TierConfig.from_env(cfg.tier_endpoint, cfg.tier_bucket, cfg.tier_prefix,
                                     cfg.tier_region)
        target = local.Target(folders, cfg.parity, cfg.create_drives, marker=MARKER,
                              locked=True)
    except (TierConfigError, RestoreError) as e:
        raise SystemExit(f"s3ish: --follow-tier: {e}") from None
    progress.say(f"bootstrapping {', '.join(target.folders)} from the cold tier (a restore "
                 "to its high-water mark)")
    try:
        target.open()
        summary = asyncio.run(command.restore(
            config, target, None, None, JOBS, progress,
            mark=lambda lsn, manifest: follower_doc(cfg.tier, lsn, manifest)))
    except (RestoreError, RemoteError, OSError, QuorumError, sqlite3.Error) as e:
        command.give_back(target, "follow")
        raise SystemExit(f"s3ish: the follower's bootstrap failed: {command.cause(e)}{e}") \
            from None
    except KeyboardInterrupt:
        command.give_back(target, "follow")
        raise
    finally:
        target.close()
    return summary
