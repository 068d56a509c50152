"""tier.remote behind the fault-injecting proxy (tests/tierproxy.py), on moto and on s3ish:
every fault is a retryable RemoteError, and `retrying` rides it out."""
import asyncio
import hashlib

import pytest

from s3ish.tier.errors import PreconditionFailed, RemoteError
from s3ish.tier.remote import Remote
from s3ish.tier.retry import retrying

MiB = 1 << 20
FAST = dict(connect_timeout=1.0, idle_timeout=0.5, op_timeout=5.0)
BACKOFF = dict(base=0.02, cap=0.2)


def go(config, body):
    async def main():
        async with Remote(config) as remote:
            return await body(remote)
    return asyncio.run(main())


def through(service, bucket, proxy, **options):
    return service.config(bucket, endpoint=proxy.endpoint, **(FAST | options))


async def chunks(data: bytes, size: int = 256 * 1024):
    for i in range(0, len(data), size):
        yield data[i:i + size]


class Errors(list):
    def __call__(self, exc, attempt, delay):
        assert exc.retryable and attempt >= 1 and delay >= 0
        self.append(exc)


FAULTS = {
    "refused": lambda p: p.down(),
    "503-slowdown": lambda p: p.fail_next(1, 503, "SlowDown"),
    "500": lambda p: p.fail_next(1, 500, "InternalError"),
    "429": lambda p: p.fail_next(1, 429, "TooManyRequests"),
    "stall": lambda p: p.stall_next(1, seconds=5),
    "cut": lambda p: p.cut_next(1),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_is_retryable_and_retrying_recovers(service, bucket, proxy, fault):
    data = bytes(range(256)) * 1000

    async def body(r):
        await r.put("obj", data)
        FAULTS[fault](proxy)
        with pytest.raises(RemoteError) as e:
            await r.get_bytes("obj")
        assert e.value.retryable, e.value
        if fault == "refused":
            proxy.up()
        FAULTS[fault](proxy)
        seen = Errors()
        if fault == "refused":
            asyncio.get_running_loop().call_later(0.5, proxy.up)
        got = await retrying(lambda: r.get_bytes("obj"), on_error=seen, **BACKOFF)
        assert got == data and len(seen) >= 1
    go(through(service, bucket, proxy), body)


def test_remote_down_for_a_while(service, bucket, proxy):
    async def body(r):
        proxy.down()
        seen = Errors()
        task = asyncio.ensure_future(retrying(lambda: r.put("k", b"v"), on_error=seen,
                                              **BACKOFF))
        await asyncio.sleep(1.5)
        assert not task.done() and len(seen) >= 3
        await asyncio.to_thread(proxy.up)
        assert await asyncio.wait_for(task, 10) == hashlib.md5(b"v").hexdigest()
        assert await r.get_bytes("k") == b"v"
    go(through(service, bucket, proxy), body)


def test_every_remote_operation_failing_once(service, bucket, proxy):
    big = bytes(range(251)) * (3 * MiB // 251)
    seen = Errors()

    async def body(r):
        async def again(op):
            return await retrying(op, on_error=seen, **BACKOFF)

        async def read(key, start=None, end=None):
            async with await r.get(key, start, end) as b:
                return await b.read()
        proxy.fail_each_once(503, "SlowDown")
        e1 = await again(lambda: r.put("m", b"gen1", if_none_match=True))
        await again(lambda: r.put("m", b"gen2", if_match=e1))
        await again(lambda: r.put("big", chunks(big), len(big)))
        for i in range(12):
            await again(lambda i=i: r.put(f"seg/{i:03d}", b"x" * i))
        assert await again(lambda: r.head("big")) == (len(big), hashlib.md5(big).hexdigest())
        assert await again(lambda: r.get_bytes("m")) == b"gen2"
        assert await again(lambda: read("big", MiB, MiB + 10)) == big[MiB:MiB + 10]
        assert await again(lambda: read("big")) == big

        async def listing():
            return [e.key async for e in r.list("seg/")]
        assert await again(listing) == [f"seg/{i:03d}" for i in range(12)]
        await again(lambda: r.delete("m"))
        assert await again(lambda: r.head("m")) is None
    go(through(service, bucket, proxy, list_page_size=5), body)
    failed = proxy.actions("fail")
    # 2 conditional puts, 1 streamed, 12 small, 2 heads (big, m), 3 gets, 1 delete, and 3
    # list pages (a failed page restarts the listing; a server whose continuation tokens
    # differ from one listing to the next makes more distinct pages)
    assert failed >= 2 + 1 + 12 + 2 + 3 + 1 + 3
    assert len(seen) == failed


def test_a_share_of_requests_failing(service, bucket, proxy):
    seen = Errors()

    async def body(r):
        proxy.fail_fraction(0.4, 500, "InternalError", seed=3)
        etags = [await retrying(lambda i=i: r.put(f"k{i}", str(i).encode()), on_error=seen,
                                **BACKOFF) for i in range(25)]
        assert etags == [hashlib.md5(str(i).encode()).hexdigest() for i in range(25)]
        proxy.clear()
        assert [e.key async for e in r.list()] == sorted(f"k{i}" for i in range(25))
    go(through(service, bucket, proxy), body)
    assert len(seen) == proxy.actions("fail") >= 5


def test_a_stalled_upload_and_a_stalled_streamed_upload(service, bucket, proxy):
    data = bytes(range(256)) * (2 * MiB // 256)
    seen = Errors()

    async def body(r):
        proxy.stall_next(2, seconds=5)
        await retrying(lambda: r.put("small", b"s"), on_error=seen, **BACKOFF)
        proxy.stall_next(1, seconds=5)
        etag = await retrying(lambda: r.put("big", chunks(data), len(data)), on_error=seen,
                              **BACKOFF)
        assert etag == hashlib.md5(data).hexdigest()
        assert await r.get_bytes("big") == data
    go(through(service, bucket, proxy), body)
    assert len(seen) == 3 and all("progress" in str(e) for e in seen)


def test_a_cut_download_mid_body(service, bucket, proxy):
    data = bytes(range(256)) * (4 * MiB // 256)

    async def body(r):
        await r.put("big", data)
        proxy.cut_next(1, keep=0.5)
        b = await r.get("big")
        got = bytearray()
        with pytest.raises(RemoteError) as e:
            async for c in b:
                got += c
        assert e.value.retryable and 0 < len(got) < len(data) and "cut" in str(e.value)
        proxy.cut_next(1, keep=0.3)
        assert await retrying(lambda: r.get_bytes("big"), **BACKOFF) == data
    go(through(service, bucket, proxy), body)


def test_a_lost_answer_to_a_create_only_put(service, bucket, proxy):
    """The remote did the write but its answer was cut: the retry then finds the key taken.
    Callers of conditional writes must look (head, compare the ETag) before concluding they
    lost: this test pins the behaviour they have to handle."""
    async def body(r):
        proxy.cut_next(1)
        with pytest.raises(RemoteError) as e:
            await r.put("m", b"mine", if_none_match=True)
        assert e.value.retryable
        with pytest.raises(PreconditionFailed):
            await retrying(lambda: r.put("m", b"mine", if_none_match=True), **BACKOFF)
        assert await r.head("m") == (4, hashlib.md5(b"mine").hexdigest())
    go(through(service, bucket, proxy), body)


@pytest.mark.parametrize("streamed", [False, True], ids=["bytes", "streamed"])
def test_a_body_damaged_on_the_way(service, bucket, proxy, streamed):
    """s3ish checks Content-MD5 and the SHA-256 of a bytes body and the CRC32C trailer of a
    streamed one, refuses the damaged body (BadDigest / XAmzContentSHA256Mismatch, retryable)
    and stores nothing; moto 5 checks none of them and stores the damaged bytes. This pins
    what each remote does (docs/tier.md)."""
    data = bytes(range(256)) * (2 * MiB // 256) if streamed else b"k" * 5000

    def put(r):
        return r.put("obj", chunks(data), len(data)) if streamed else r.put("obj", data)

    async def body(r):
        proxy.corrupt_next(1)
        if service.name == "moto":
            await put(r)
            stored = await r.get_bytes("obj")
            assert stored != data and len(stored) == len(data)
            return
        with pytest.raises(RemoteError) as e:
            await put(r)
        assert e.value.retryable and e.value.status == 400
        assert e.value.code in ("BadDigest", "XAmzContentSHA256Mismatch")
        assert await r.head("obj") is None
        proxy.corrupt_next(1)
        assert await retrying(lambda: put(r), **BACKOFF) == hashlib.md5(data).hexdigest()
        assert await r.get_bytes("obj") == data
    go(through(service, bucket, proxy), body)
