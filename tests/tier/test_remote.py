"""tier.remote against real S3 servers (moto in server mode, a second s3ish): objects, ranges,
listing pages, streamed uploads in bounded memory, conditional writes, bad credentials."""
import asyncio
import hashlib
import tracemalloc

import pytest

from s3ish.tier.config import TierConfig
from s3ish.tier.errors import NotFound, PreconditionFailed, RemoteError
from s3ish.tier.remote import Remote
from s3ish.tier.retry import retrying
from tests.support import ROOT_PASSWORD, ROOT_USER, VHOST_DOMAIN, ServerProcess

MiB = 1 << 20


def go(config, body):
    async def main():
        async with Remote(config) as remote:
            return await body(remote)
    return asyncio.run(main())


def pattern(size: int, block: int = 256 * 1024, seed: int = 7):
    """An async iterator of `size` deterministic bytes, made block by block (never whole)."""
    async def gen():
        left, i = size, 0
        while left:
            n = min(block, left)
            yield hashlib.sha256(f"{seed}-{i}".encode()).digest() * (n // 32) + b"\0" * (n % 32)
            left -= n
            i += 1
    return gen()


async def md5_of(chunks) -> str:
    h = hashlib.md5()
    async for c in chunks:
        h.update(c)
    return h.hexdigest()


def test_put_get_head_delete_and_ranges(service, bucket):
    data = bytes(range(256)) * 40 + b"tail"

    async def body(r):
        etag = await r.put("obj", data)
        assert etag == hashlib.md5(data).hexdigest()
        assert await r.head("obj") == (len(data), etag)
        assert await r.get_bytes("obj") == data
        assert await r.get_bytes("obj", 100, 200) == data[100:200]
        assert await r.get_bytes("obj", 10000) == data[10000:]
        assert await r.get_bytes("obj", end=5) == data[:5]
        assert await r.get_bytes("obj", 10000, 99999) == data[10000:]  # past the end: clipped
        async with await r.get("obj", 1, 11) as b:
            assert (b.size, b.total, b.etag) == (10, len(data), etag)
            assert await b.read() == data[1:11]
        with pytest.raises(RemoteError) as e:
            await r.get_bytes("obj", len(data) + 10)
        assert e.value.status == 416 and not e.value.retryable
        with pytest.raises(ValueError):
            await r.get("obj", 5, 5)
        await r.delete("obj")
        assert await r.head("obj") is None
        with pytest.raises(NotFound):
            await r.get("obj")
        await r.delete("obj")  # deleting a missing key is not an error
        assert r.pool.created <= r.config.pool_size + 10  # keep-alive where the server allows
    go(service.config(bucket, prefix="p"), body)
    # Keys live under the prefix, as a plain client sees them.
    assert service.boto().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_keys_with_odd_characters_round_trip(service, bucket):
    keys = ["a b+c", "100%/x", "ü/é€", "x?y=z&w", "dots/../and/./slashes//", "~tilde*"]

    async def body(r):
        for i, k in enumerate(keys):
            await r.put(k, str(i).encode())
        for i, k in enumerate(keys):
            assert await r.get_bytes(k) == str(i).encode()
        listed = [e.key async for e in r.list()]
        assert listed == sorted(keys, key=lambda k: k.encode())
    go(service.config(bucket, prefix="odd/"), body)
    assert {o["Key"] for o in service.boto().list_objects_v2(Bucket=bucket)["Contents"]} == \
        {"odd/" + k for k in keys}


def test_list_pages_prefixes_and_start_after(service, bucket):
    names = [f"seg/{i:05d}" for i in range(47)] + [f"data/{i:03d}" for i in range(5)]

    async def body(r):
        await asyncio.gather(*(r.put(k, k.encode()) for k in names))
        seg = [e async for e in r.list("seg/")]
        assert [e.key for e in seg] == names[:47]
        assert all(e.size == len(e.key) and e.etag == hashlib.md5(e.key.encode()).hexdigest()
                   for e in seg)
        after = [e.key async for e in r.list("seg/", start_after="seg/00039")]
        assert after == names[40:47]
        assert [e.key async for e in r.list()] == sorted(names)
        entries, token = await r.list_page("seg/")
        assert len(entries) == 10 and token
        entries, token = await r.list_page("seg/", token=token)
        assert entries[0].key == "seg/00010"
        assert [e async for e in r.list("nothing/")] == []
    # a page size of 10 makes 5 pages of seg/ (the listing pages like any 1000-key one)
    go(service.config(bucket, prefix="root", list_page_size=10), body)


@pytest.mark.parametrize("trailer", [True, False], ids=["crc32c-trailer", "unsigned"])
def test_streamed_20mib_upload_and_download_in_bounded_memory(service, bucket, trailer):
    size = 20 * MiB + 12345

    async def body(r):
        want = await md5_of(pattern(size))
        tracemalloc.start()
        try:
            etag = await r.put("big", pattern(size), size)
            _, up_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            async with await r.get("big") as b:
                got = await md5_of(b)
            _, down_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert etag == want and got == want
        assert await r.head("big") == (size, want)
        # The object is 20 MiB: a whole copy would show. What may be held: the socket's write
        # buffer (4 MiB high water, plus a 1 MiB slice and the buffer's over-allocation), one
        # 1 MiB frame and the source's block; reading, the queue (4 MiB before it pauses).
        assert up_peak < 12 * MiB, up_peak
        assert down_peak < 12 * MiB, down_peak
        b = await r.get("big", 5 * MiB, 5 * MiB + 3)
        assert await b.read() == (await r.get_bytes("big", end=5 * MiB + 3))[-3:]
    go(service.config(bucket, trailing_checksum=trailer), body)


def test_streamed_body_must_have_its_declared_size(service, bucket):
    async def body(r):
        for real, declared in ((1000, 1001), (1001, 1000), (3 * MiB, 3 * MiB - 1)):
            with pytest.raises(ValueError):
                await r.put("sized", pattern(real, 300), declared)
            assert await r.head("sized") is None
        with pytest.raises(ValueError):
            await r.put("sized", pattern(10), None)
        with pytest.raises(ValueError):
            await r.put("sized", b"abc", 4)
        assert await r.put("sized", pattern(0), 0) == hashlib.md5(b"").hexdigest()
    go(service.config(bucket), body)


def test_conditional_puts(service, bucket):
    async def body(r):
        first = await r.put("manifest", b"gen 1", if_none_match=True)
        with pytest.raises(PreconditionFailed) as e:
            await r.put("manifest", b"gen 1 again", if_none_match=True)
        assert e.value.status == 412 and not e.value.retryable
        with pytest.raises(PreconditionFailed):
            await r.put("manifest", pattern(3 * MiB), 3 * MiB, if_none_match=True)
        second = await r.put("manifest", b"gen 2", if_match=first)
        with pytest.raises(PreconditionFailed):   # a stale writer still holding `first`
            await r.put("manifest", b"stale", if_match=first)
        with pytest.raises(PreconditionFailed):
            await r.put("manifest", pattern(2 * MiB), 2 * MiB, if_match=f'"{first}"')
        assert await r.get_bytes("manifest") == b"gen 2"
        third = await r.put("manifest", pattern(2 * MiB), 2 * MiB, if_match=f'"{second}"')
        assert (await r.head("manifest")).etag == third
        with pytest.raises(NotFound):  # If-Match on a missing key: 404, as in AWS
            await r.put("absent", b"x", if_match=first)
        with pytest.raises(ValueError):
            await r.put("manifest", b"x", if_match='bad "etag"')
    go(service.config(bucket), body)


def test_bad_secret_is_a_403_surfaced_at_once(s3ish_service):
    # moto checks no signatures, so only the s3ish remote can refuse a wrong secret.
    name = f"tier-auth-{id(s3ish_service) % 1000}"
    s3ish_service.boto().create_bucket(Bucket=name)
    errors = []
    config = s3ish_service.config(name)
    config = type(config)(config.endpoint, name, config.access_key, "not-the-secret")

    async def body(r):
        for op in (lambda: r.put("k", b"x"), lambda: r.get_bytes("k"), lambda: r.delete("k"),
                   lambda: r.list_page()):
            with pytest.raises(RemoteError) as e:
                await retrying(op, on_error=lambda *a: errors.append(a))
            assert e.value.status == 403 and not e.value.retryable
            assert e.value.code == "SignatureDoesNotMatch"
        with pytest.raises(RemoteError) as e:  # HEAD errors carry no body, only the status
            await r.head("k")
        assert e.value.status == 403 and not e.value.retryable
    go(config, body)
    assert errors == []
    s3ish_service.boto().delete_bucket(Bucket=name)


def test_virtual_host_addressing(s3ish_service):
    name = f"tier-vhost-{id(s3ish_service) % 1000}"
    s3ish_service.boto().create_bucket(Bucket=name)
    config = s3ish_service.config(name, endpoint=f"http://{VHOST_DOMAIN}:{s3ish_service.port}",
                                  path_style=False, prefix="v")

    async def body(r):
        assert r.host == f"{name}.{VHOST_DOMAIN}:{s3ish_service.port}"
        r.pool.host = "127.0.0.1"  # the test domain has no DNS: connect to the server directly
        await r.put("k", b"virtual")
        assert [e.key async for e in r.list()] == ["k"]
        assert await r.get_bytes("k") == b"virtual"
        await r.delete("k")
    go(config, body)
    s3ish_service.boto().delete_bucket(Bucket=name)


def test_https_with_a_private_ca(tmp_path):
    from tests.compat.test_tls import make_pki
    ca, cert, key = make_pki(str(tmp_path))
    srv = ServerProcess(str(tmp_path / "data"), str(tmp_path), verify=ca,
                        extra_args=["--tls-cert", cert, "--tls-key", key]).start()
    try:
        srv.client().create_bucket(Bucket="tls")
        trusted = TierConfig(srv.endpoint, "tls", ROOT_USER, ROOT_PASSWORD, ca_file=ca)
        assert trusted.endpoint.startswith("https://")

        async def body(r):
            await r.put("k", pattern(2 * MiB), 2 * MiB)
            assert await md5_of(await r.get("k")) == await md5_of(pattern(2 * MiB))
        go(trusted, body)

        async def refused(r):
            with pytest.raises(RemoteError) as e:
                await r.head("k")
            assert not e.value.retryable and "certificate" in str(e.value)
        go(TierConfig(srv.endpoint, "tls", ROOT_USER, ROOT_PASSWORD), refused)
    finally:
        srv.stop()


def test_racing_creators_through_one_client_exactly_one_wins(s3ish_service):
    # Fencing rests on this; s3ish makes it atomic. (moto checks and then stores without one
    # lock around both: no race seen there, but none promised; see docs/tier.md.)
    name = f"tier-race-{id(s3ish_service) % 1000}"
    s3ish_service.boto().create_bucket(Bucket=name)

    async def body(r):
        async def create(i):
            try:
                return await r.put("manifest", f"writer {i}".encode() * 5000,
                                   if_none_match=True)
            except PreconditionFailed:
                return None
        for _ in range(5):
            won = [e for e in await asyncio.gather(*(create(i) for i in range(12))) if e]
            assert len(won) == 1 and (await r.head("manifest")).etag == won[0]
            await r.delete("manifest")
    go(s3ish_service.config(name, pool_size=12), body)
    s3ish_service.boto().delete_bucket(Bucket=name)
