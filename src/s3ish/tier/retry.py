"""Retry a remote operation forever, with capped exponential backoff and full jitter.

The cold tier's workers never give up on a remote that is down or slow: they wait longer and
longer (up to `cap` seconds) between attempts, each wait drawn at random below the current bound
so that many workers do not retry in step. Only errors classified retryable are retried (see
`tier.errors`); any other exception is raised at once. Metrics and logs are the caller's:
`on_error(exc, attempt, delay)` is called before each wait. `should_stop()` ends the retrying
(the last error is raised) when the worker is shutting down; it is polled during waits too.
"""
import asyncio
import random

from .errors import RemoteError

BASE = 0.1      # seconds: the bound of the first wait
CAP = 30.0      # seconds: the bound never grows past this
POLL = 0.25     # seconds between should_stop checks while waiting


def retryable(exc: BaseException) -> bool:
    return isinstance(exc, RemoteError) and exc.retryable


def backoff(attempt: int, base: float = BASE, cap: float = CAP, rng=random.random) -> float:
    """The wait before retry number `attempt` (1, 2, ...): uniform in [0, min(cap, base*2^n))."""
    return rng() * min(cap, base * 2 ** min(attempt - 1, 62))


async def retrying(op, *, should_stop=lambda: False, on_error=None, is_retryable=retryable,
                   base: float = BASE, cap: float = CAP, sleep=asyncio.sleep, rng=random.random):
    """`await op()` until it succeeds; return its result.

    `op` is a zero-argument callable returning a fresh awaitable each time (so a streamed body
    is rebuilt for each attempt). A non-retryable error propagates at once; a retryable one is
    reported to `on_error(exc, attempt, delay)` and retried after the backoff, unless
    `should_stop()` is true, then it propagates."""
    attempt = 0
    while True:
        try:
            return await op()
        except Exception as e:
            if not is_retryable(e):
                raise
            attempt += 1
            delay = backoff(attempt, base, cap, rng)
            if on_error is not None:
                on_error(e, attempt, delay)
            if should_stop() or not await _wait(delay, should_stop, sleep):
                raise


async def _wait(delay: float, should_stop, sleep) -> bool:
    """Sleep `delay` seconds in slices; False if asked to stop meanwhile."""
    while delay > 0:
        step = min(delay, POLL)
        await sleep(step)
        delay -= step
        if should_stop():
            return False
    return True
