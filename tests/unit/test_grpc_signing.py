"""The gRPC call signature (grpc/signing.py) and the replay guard (grpc/replay.py)."""
import asyncio
import os
import time

from s3ish.grpc import signing
from s3ish.grpc.replay import WINDOW, ReplayGuard


def test_resource_is_unambiguous():
    assert signing.resource() == ""
    assert signing.resource("b") == "b"
    assert signing.resource("b", "a/b c") == "b/a%2Fb%20c"
    # A key with a newline or a slash cannot pass for another resource.
    assert signing.resource("b", "x\ny") != signing.resource("b", "x") + "\ny"
    assert signing.resource("b", "k/") != signing.resource("b", "k")


def test_signature_binds_every_field():
    base = dict(method="/s3ish.v1.Storage/HeadObject", res="b/k", date="20261207T120000Z",
                nonce="n" * 32, payload=signing.UNSIGNED_PAYLOAD, region="us-east-1")
    sig = signing.signature("secret", **base)
    assert sig == signing.signature("secret", **base)
    for field, other in [("method", "/s3ish.v1.Storage/ReadObject"), ("res", "b/j"),
                         ("date", "20261207T120001Z"), ("nonce", "m" * 32),
                         ("payload", "0" * 64), ("region", "eu-west-1")]:
        assert signing.signature("secret", **{**base, field: other}) != sig
    assert signing.signature("other", **base) != sig
    md = dict(signing.sign("AK", "secret", "us-east-1", base["method"], "b/k", now=0))
    assert md[signing.DATE] == "19700101T000000Z" and len(md[signing.NONCE]) == 32


def test_replay_guard_shared_between_workers(tmp_path):
    async def scenario():
        one, two = ReplayGuard(str(tmp_path)), ReplayGuard(str(tmp_path))
        now = time.time()
        a, b = "a" * 64, "b" * 64
        assert await one.claim(a, now)
        assert not await one.claim(a, now)       # the same worker
        assert not await two.claim(a, now)       # another worker
        assert await two.claim(b, now)
        memory = ReplayGuard(None)
        assert await memory.claim(a, now) and not await memory.claim(a, now)
        assert await memory.claim(b, now)
        # A minute of signed time is forgotten once it is out of the window.
        assert await memory.claim(a, now - 20 * 60)
        await memory._prune(now)
        assert int((now - 20 * 60) // 60) not in memory._seen
        # Slots whose signatures are all past the window are removed.
        old = int((now - 3 * WINDOW) // WINDOW)
        os.makedirs(tmp_path / str(old))
        one._prune_files(now)
        assert not (tmp_path / str(old)).exists()
        assert (tmp_path / str(int(now // WINDOW))).exists()
    asyncio.run(scenario())
