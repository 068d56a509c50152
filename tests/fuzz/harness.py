"""The fuzzing harness: a time/example budget per target, mutation strategies, async helpers.

Budget. Two profiles, chosen by the environment:
* short (default, `make test`): each target runs FUZZ_EXAMPLES examples (default 150), and
  stops after FUZZ_SHORT_SECONDS (default 4) of wall time, whichever comes first.
* long (`make fuzz` sets FUZZ_PROFILE=long): each target runs for FUZZ_SECONDS of wall time
  (default 60); max_examples is effectively unbounded.
Hypothesis has no time-based stop, so the example body checks a wall-clock deadline itself and
raises `TimeUp`, a BaseException. Hypothesis treats only Exception (and SystemExit,
GeneratorExit) as a test failure: any other BaseException (like KeyboardInterrupt) stops the
engine at once, with no shrinking and no replay, and propagates; the wrapper below catches it
and ends the target cleanly. (Returning early instead would leave Hypothesis generating up to
max_examples of skipped examples; hypothesis.reject() would count them as invalid and end in
Unsatisfiable.) Once an example has failed, Hypothesis gets one more budget to shrink it; if
that runs out too, the first failing input is reported unshrunk. Each run gets a fresh seed,
printed in the summary (FUZZ_SEED replays a run), and no example database: a crash is pinned
as a unit test in tests/unit/. "examples" counts every call of the target, shrinking included.

Inputs are mostly VALID documents built with the project's own encoders, then mutated
(`mutate_bytes` / `mutate_text`): byte flips, truncations, insertions of structural tokens,
huge numbers and odd unicode, segment duplication. Zero mutations is always possible, so the
valid path (and its deep code) is exercised too.
"""
import asyncio
import contextlib
import dataclasses
import functools
import os
import random
import time

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from s3ish.http import buffered

LONG = os.environ.get("FUZZ_PROFILE") == "long"
SECONDS = float(os.environ.get("FUZZ_SECONDS", "60")) if LONG else \
    float(os.environ.get("FUZZ_SHORT_SECONDS", "4"))
EXAMPLES = 10 ** 9 if LONG else int(os.environ.get("FUZZ_EXAMPLES", "150"))


class TimeUp(BaseException):
    """The target's wall-time budget is spent (a BaseException: see the module docstring)."""


@dataclasses.dataclass
class Stat:
    target: str
    examples: int = 0
    failures: int = 0
    seconds: float = 0.0
    seed: int = 0
    timed_out: bool = False
    first: tuple | None = None     # (input repr, exception) of the first failure


STATS: list[Stat] = []


def _count_failures(err: BaseException) -> int:
    if isinstance(err, BaseExceptionGroup):
        return sum(_count_failures(e) for e in err.exceptions)
    return 1


def fuzz(strategy):
    """Like `@given(strategy)` for a one-argument target, within the profile's budget."""
    def deco(fn):
        @functools.wraps(fn)
        def test():
            run_seed = int(os.environ.get("FUZZ_SEED", random.SystemRandom().getrandbits(64)))
            stat = Stat(fn.__name__.removeprefix("test_"), seed=run_seed)
            STATS.append(stat)
            start = time.monotonic()
            deadline = start + SECONDS

            def body(x):
                # Past the deadline, stop; but once an example has failed, give Hypothesis
                # one more budget to shrink it, then report the first failure as it was.
                now = time.monotonic()
                if now > deadline and (stat.first is None or now > deadline + SECONDS):
                    stat.timed_out = True
                    raise TimeUp()
                stat.examples += 1
                try:
                    fn(x)
                except Exception as err:
                    if stat.first is None:
                        stat.first = (repr(x), err)
                    raise

            runner = seed(run_seed)(settings(
                max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])(given(strategy)(body)))
            try:
                runner()
            except BaseException as err:
                if stat.first is None:
                    # Stopping mid-run can surface as TimeUp or as Hypothesis's complaint
                    # that an example drew less than before (FlakyStrategyDefinition).
                    if stat.timed_out:
                        return
                    stat.failures = _count_failures(err)
                    raise
                if stat.timed_out:   # Hypothesis may wrap TimeUp while shrinking
                    stat.failures = 1
                    example, first = stat.first
                    raise AssertionError(f"{stat.target} failed (not shrunk in time) on "
                                         f"{example[:4000]}") from first
                stat.failures = _count_failures(err)
                raise
            finally:
                stat.seconds = time.monotonic() - start
        test.target = fn      # the bare target, for ad-hoc runs
        # pytest must not see fn's parameter as a fixture.
        del test.__wrapped__
        return test
    return deco


# ---- mutations ----

HUGE_NUMBERS = ["9" * 30, "1" * 5000, "18446744073709551616", "-1", "-0", "0x10", "1e9",
                "+5", " 7 ", "1_000", "\u0661\u0662", "NaN", "inf", "ffffffffffffffffffff"]
ODD_TEXT = ["\x00", "\r\n", "\n", "\r", "\t", " ", "\u00ff", "\u0100", "\u202e", "\ufeff",
            "\ud800", "\U0001f600", "\u2028", "%", "%zz", "%00", "&", "=", ";", ",", ":",
            "/", "?", "\"", "'", "<", ">", "\\", "*", "..", "\x7f", "\x85"]
TEXT = st.text(max_size=40)


def _token(data, extra: list[str]) -> str:
    return data.draw(st.one_of(st.sampled_from(extra + HUGE_NUMBERS + ODD_TEXT), TEXT))


def mutate_text(data, s: str, tokens: list[str] = (), max_ops: int = 3) -> str:
    """Apply 0..max_ops random edits to `s`, drawn from `data` (so they shrink well)."""
    for _ in range(data.draw(st.integers(0, max_ops))):
        i = data.draw(st.integers(0, len(s)))
        j = data.draw(st.integers(i, min(len(s), i + 64)))
        op = data.draw(st.sampled_from(["insert", "replace", "delete", "truncate", "dup",
                                        "flip"]))
        if op == "insert":
            s = s[:i] + _token(data, list(tokens)) + s[i:]
        elif op == "replace":
            s = s[:i] + _token(data, list(tokens)) + s[j:]
        elif op == "delete":
            s = s[:i] + s[j:]
        elif op == "truncate":
            s = s[:i]
        elif op == "dup":
            s = s[:j] + s[i:j] * data.draw(st.integers(2, 50)) + s[j:]
        elif s and i < len(s):
            s = s[:i] + chr(ord(s[i]) ^ (1 << data.draw(st.integers(0, 7)))) + s[i + 1:]
    return s


def mutate_bytes(data, b: bytes, tokens: list[bytes] = (), max_ops: int = 3) -> bytes:
    """Byte-level edits: as `mutate_text`, tokens inserted as UTF-8 or raw bytes."""
    extra = [t.decode("latin-1") for t in tokens]
    text = mutate_text(data, b.decode("latin-1"), extra, max_ops)
    # Tokens outside latin-1 (odd unicode) go in as their UTF-8 bytes.
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return b"".join(bytes([ord(c)]) if ord(c) < 256 else c.encode("utf-8", "surrogatepass")
                        for c in text)


def wire(s: str) -> bytes:
    """Text as a client puts it on the wire: latin-1 when it can, else UTF-8."""
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogatepass")


def received(s: str) -> str:
    """What the server sees of a header value sent as `s` (ASGI bytes read as latin-1)."""
    return wire(s).decode("latin-1")


def split(data, raw: bytes, max_piece: int = 8192) -> list[bytes]:
    """Cut a body into the pieces a client might send (sizes drawn, at most max_piece)."""
    sizes = data.draw(st.lists(st.integers(1, max_piece), min_size=1, max_size=8))
    out, i, n = [], 0, 0
    while i < len(raw):
        size = sizes[n % len(sizes)]
        out.append(raw[i:i + size])
        i += size
        n += 1
    return out


async def stream(pieces: list[bytes]):
    for p in pieces:
        yield p


def run(coro):
    return asyncio.run(coro)


@contextlib.contextmanager
def frozen_now(module, when):
    """`module.now()` returns `when` inside the block: a draw must not depend on the wall
    clock, or Hypothesis cannot replay (and shrink) a failing example."""
    saved = module.now
    module.now = lambda: when
    try:
        yield
    finally:
        module.now = saved


class watch_buffers:
    """While active, every BufferedBody read asserts its buffer never exceeds `cap` bytes:
    the parsers' documented bounds (line/field/header limits) plus one arriving piece."""

    def __init__(self, cap: int):
        self.cap = cap
        self.peak = 0

    def __enter__(self):
        original = self._original = buffered.BufferedBody.more
        watcher = self

        async def more(body):
            got = await original(body)
            watcher.peak = max(watcher.peak, len(body.buf))
            assert len(body.buf) <= watcher.cap, f"buffered {len(body.buf)} > {watcher.cap}"
            return got

        buffered.BufferedBody.more = more
        return self

    def __exit__(self, *exc):
        buffered.BufferedBody.more = self._original
