"""Bounded thread pools so blocking work (disk, fsync, hashing) never runs on the event loop."""
import asyncio
import concurrent.futures
import contextvars
import functools

_io_pool: concurrent.futures.ThreadPoolExecutor | None = None


def io_pool() -> concurrent.futures.ThreadPoolExecutor:
    global _io_pool
    if _io_pool is None:
        _io_pool = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="s3ish-io")
    return _io_pool


async def run_io(fn, *args, **kwargs):
    """Run a blocking function in the shared I/O pool and await its result. The caller's
    context (the request id its log lines carry) goes along."""
    loop = asyncio.get_running_loop()
    if kwargs:
        fn = functools.partial(fn, **kwargs)
    return await loop.run_in_executor(io_pool(), contextvars.copy_context().run, fn, *args)


def io_queue_depth() -> int:
    """Jobs waiting for a thread of the I/O pool."""
    return io_pool()._work_queue.qsize()
