"""Server-side encryption in the engine, no HTTP: what each mode stores and records, reads of
any range (with and without compression), customer keys, bucket defaults, multipart, the
records and their journal form, records written before encryption existed."""
import asyncio
import hashlib
import os
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3ish.engine import multipart, sse
from s3ish.engine.multipart import Multipart
from s3ish.engine.objects import Engine
from s3ish.engine.types import PutSpec
from s3ish.meta import journal, records as r
from s3ish.meta.sqlite import SqliteMetaStore
from s3ish.storage import kms as kms_mod, sealed
from s3ish.storage.datastore import MemoryDataStore

MARKER = b"SECRET-MARKER-0123456789"
BODY = b"".join(MARKER + b" %08d line of the engine test\n" % i for i in range(12000))
KEY_A = sse.CustomerKey(b"A" * 32, "")
KEY_B = sse.CustomerKey(b"B" * 32, "")


async def _body(data: bytes, piece: int = 100_000):
    for i in range(0, len(data), piece):
        yield data[i:i + piece]


async def _read(engine, key, rng, customer=None, bucket="b"):
    _, _, stream = await engine.get_object(bucket, key, lambda v: rng, customer=customer)
    return b"".join([c async for c in stream])


def _keyring(tmp_path) -> kms_mod.LocalKeyring:
    path = str(tmp_path / "keyring.json")
    kms_mod.create_key(path, "key-one")
    kms_mod.create_key(path, "key-two")
    return kms_mod.LocalKeyring(path)


async def _engine(kms=None, compression=False) -> Engine:
    e = Engine(SqliteMetaStore(":memory:"), MemoryDataStore(), compression=compression,
               kms=kms if kms is not None else kms_mod.MasterKey(os.urandom(32)))
    await e.create_bucket("b", "owner", "us-east-1")
    return e


def _stored(e: Engine, v: r.ObjectVersion) -> bytes:
    out = b""
    for p in v.parts:
        h = e.data.open(p.data_id)
        out += h.read_at(0, 1 << 30)
        h.close()
    return out


def _spec(**enc) -> PutSpec:
    return PutSpec(owner="owner", sse=sse.Encryption(**enc))


def test_sse_s3_stores_sealed_bytes_and_the_plain_md5_as_etag():
    async def go():
        e = await _engine()
        v = await e.put_object("b", "k", _body(BODY), _spec(mode="AES256"))
        [p] = v.parts
        assert v.sse == "AES256" and p.sse_key.startswith("v1:s3ish-master:1:")
        assert v.etag == p.etag == hashlib.md5(BODY).hexdigest() and v.size == len(BODY)
        stored = _stored(e, v)
        assert len(stored) == sealed.sealed_size(len(BODY)) and MARKER not in stored
        assert await _read(e, "k", (0, len(BODY) - 1)) == BODY
        start = sealed.PACKAGE - 3          # across a package boundary
        assert await _read(e, "k", (start, start + 10)) == BODY[start:start + 11]
        again = await e.head_object("b", "k")          # through the metadata store
        assert again.parts == v.parts and again.sse == "AES256"
        await e.meta.close()
    asyncio.run(go())


def test_small_and_empty_encrypted_objects_are_kept_inline_sealed():
    async def go():
        e = await _engine()
        for mode, customer in (("AES256", None), ("", KEY_A)):
            for body in (b"", MARKER, MARKER * 5000):
                spec = _spec(mode=mode, customer=customer)
                v = await e.put_object("b", "k", _body(body), spec)
                assert v.parts == [] and v.inline_key and MARKER not in v.inline
                assert len(v.inline) == sealed.sealed_size(len(body))
                got = await e.head_object("b", "k")
                assert got.inline == v.inline and got.inline_key == v.inline_key
                if body:
                    assert await _read(e, "k", (0, len(body) - 1), customer) == body
                    assert await _read(e, "k", (3, 7), customer) == body[3:8]
            with pytest.raises(sse.SseCustomerKeyMismatch if customer else
                               sse.SseNotApplicable):
                await _read(e, "k", (0, 1), KEY_B)
        plain = await e.put_object("b", "p", _body(MARKER), PutSpec(owner="owner"))
        assert plain.inline == MARKER and not plain.inline_key   # in clear when not encrypted
        await e.meta.close()
    asyncio.run(go())


def test_sse_kms_names_a_key_and_masks_the_etag(tmp_path):
    async def go():
        ring = _keyring(tmp_path)
        e = await _engine(ring)
        v = await e.put_object("b", "k", _body(BODY), _spec(
            mode="aws:kms", kms_key_id=kms_mod.key_arn("key-two")))
        assert v.sse_kms_key_id == "key-two" and v.parts[0].sse_key.startswith("v1:key-two:")
        assert len(v.etag) == 32 and v.etag != hashlib.md5(BODY).hexdigest()
        assert await _read(e, "k", (5, 70000)) == BODY[5:70001]
        v = await e.put_object("b", "d", _body(b"x"), _spec(mode="aws:kms"))
        assert v.sse_kms_key_id == "key-one"         # the keyring's default
        with pytest.raises(sse.KmsKeyNotFound):
            await e.put_object("b", "k", _body(b"x"), _spec(mode="aws:kms", kms_key_id="nope"))
        with pytest.raises(sse.KmsKeyNotFound):
            await e.put_object("b", "k", _body(b"x"), _spec(mode="aws:kms",
                                                            kms_key_id="bad id!"))
        await e.meta.close()
    asyncio.run(go())


def test_no_kms_refuses_sse_s3_and_kms_but_not_sse_c():
    async def go():
        e = Engine(SqliteMetaStore(":memory:"), MemoryDataStore())
        await e.create_bucket("b", "owner", "us-east-1")
        for mode in ("AES256", "aws:kms"):
            with pytest.raises(sse.KmsNotConfigured):
                await e.put_object("b", "k", _body(b"x"), _spec(mode=mode))
        with pytest.raises(sse.KmsNotConfigured):
            await e.set_bucket_encryption("b", r.EncryptionConfig("AES256"))
        v = await e.put_object("b", "k", _body(MARKER), _spec(customer=KEY_A))
        assert v.sse == "SSE-C" and await _read(e, "k", (0, 3), KEY_A) == MARKER[:4]
        assert await e.meta.get_object("b", "nothing") is None
        await e.meta.close()
    asyncio.run(go())


def test_sse_c_needs_its_key():
    async def go():
        e = await _engine()
        v = await e.put_object("b", "k", _body(BODY), _spec(customer=KEY_A))
        assert v.sse == "SSE-C" and v.etag != hashlib.md5(BODY).hexdigest()
        assert MARKER not in _stored(e, v)
        assert await _read(e, "k", (100, 200), KEY_A) == BODY[100:201]
        with pytest.raises(sse.SseCustomerKeyRequired):
            await _read(e, "k", (0, 1))
        with pytest.raises(sse.SseCustomerKeyMismatch):
            await _read(e, "k", (0, 1), KEY_B)
        with pytest.raises(sse.SseCustomerKeyMismatch):     # HEAD-like: no body planned
            await e.get_object("b", "k", lambda v: None, customer=KEY_B)
        await e.put_object("b", "plain", _body(b"x"), PutSpec(owner="o"))
        with pytest.raises(sse.SseNotApplicable):
            await _read(e, "plain", (0, 0), KEY_A)
        # An empty SSE-C object: its key is still checked.
        await e.put_object("b", "empty", _body(b""), _spec(customer=KEY_A))
        with pytest.raises(sse.SseCustomerKeyMismatch):
            await e.get_object("b", "empty", lambda v: None, customer=KEY_B)
        await e.meta.close()
    asyncio.run(go())


def test_bucket_default_encryption():
    async def go():
        e = await _engine()
        await e.set_bucket_encryption("b", r.EncryptionConfig("aws:kms", "", True))
        assert (await e.get_bucket("b")).encryption == r.EncryptionConfig("aws:kms", "", True)
        v = await e.put_object("b", "k", _body(b"x"), PutSpec(owner="o"))
        assert (v.sse, v.sse_kms_key_id, v.sse_bucket_key) == \
            ("aws:kms", "s3ish-master", True)
        v = await e.put_object("b", "k", _body(b"x"), _spec(mode="AES256"))
        assert (v.sse, v.sse_bucket_key) == ("AES256", False)    # the request wins
        v = await e.put_object("b", "k", _body(b"x"), _spec(customer=KEY_A))
        assert v.sse == "SSE-C" and not v.sse_bucket_key
        with pytest.raises(sse.BucketKeyNotApplicable):
            await e.put_object("b", "k", _body(b"x"), _spec(mode="AES256", bucket_key=True))
        with pytest.raises(sse.KmsKeyNotFound):
            await e.set_bucket_encryption("b", r.EncryptionConfig("aws:kms", "missing"))
        await e.set_bucket_encryption("b", None)
        assert (await e.get_bucket("b")).encryption is None
        assert (await e.put_object("b", "k", _body(b"x"), PutSpec(owner="o"))).sse == ""
        await e.meta.close()
    asyncio.run(go())


def test_multipart_parts_sealed_on_their_own(monkeypatch):
    monkeypatch.setattr(multipart, "MIN_PART_SIZE", 1)

    async def go():
        e = await _engine()
        mp = Multipart(e)
        u = await mp.create_multipart_upload("b", "m", _spec(customer=KEY_A))
        assert u.sse == "SSE-C" and u.sse_c_check
        half = len(BODY) // 2
        with pytest.raises(sse.SseUploadKeyRequired):
            await mp.upload_part(u, 1, _body(BODY[:half]), "")
        with pytest.raises(sse.SseUploadKeyMismatch):
            await mp.upload_part(u, 1, _body(BODY[:half]), "", customer=KEY_B)
        p1 = await mp.upload_part(u, 1, _body(BODY[:half]), "", customer=KEY_A)
        p2 = await mp.upload_part(u, 2, _body(BODY[half:]), "", customer=KEY_A)
        assert p1.sse_key and p2.sse_key and p1.sse_key != p2.sse_key
        assert p1.etag != hashlib.md5(BODY[:half]).hexdigest()
        listed = await mp.list_parts(u)
        assert [p.sse_key for p in listed] == [p1.sse_key, p2.sse_key]
        with pytest.raises(sse.SseUploadKeyMismatch):
            await mp.complete_multipart_upload(u, [(1, p1.etag, {}), (2, p2.etag, {})],
                                               customer=KEY_B)
        with pytest.raises(sse.SseUploadKeyRequired):
            await mp.complete_multipart_upload(u, [(1, p1.etag, {}), (2, p2.etag, {})])
        again = await mp.upload_part(u, 2, _body(BODY[half:]), "", customer=KEY_A)
        assert again.etag == p2.etag and again.sse_key != p2.sse_key   # same bytes, same key
        v = await mp.complete_multipart_upload(u, [(1, p1.etag, {}), (2, p2.etag, {})],
                                               customer=KEY_A)
        assert v.sse == "SSE-C" and [p.sse_key for p in v.parts] == [p1.sse_key, again.sse_key]
        assert await _read(e, "m", (half - 10, half + 10), KEY_A) == BODY[half - 10:half + 11]
        assert MARKER not in _stored(e, v)
        await e.meta.close()
    asyncio.run(go())


def test_compressed_then_sealed():
    async def go():
        e = await _engine(compression=True)
        v = await e.put_object("b", "k", _body(BODY), _spec(mode="AES256"))
        [p] = v.parts
        assert p.compression == "zstd" and p.sse_key and p.stored_size < len(BODY) // 4
        stored = _stored(e, v)
        assert len(stored) == sealed.sealed_size(p.stored_size) and MARKER not in stored
        assert await _read(e, "k", (0, len(BODY) - 1)) == BODY
        assert await _read(e, "k", (300_000, 300_100)) == BODY[300_000:300_101]
        await e.meta.close()
    asyncio.run(go())


@settings(max_examples=30, deadline=None)
@given(start=st.integers(0, len(BODY) - 1), n=st.integers(1, len(BODY)),
       compression=st.booleans())
def test_any_range_of_an_encrypted_object(start, n, compression):
    end = min(start + n, len(BODY)) - 1

    async def go():
        e = await _engine(compression=compression)
        await e.put_object("b", "k", _body(BODY), _spec(customer=KEY_A))
        assert await _read(e, "k", (start, end), KEY_A) == BODY[start: end + 1]
        await e.meta.close()
    asyncio.run(go())


def test_a_tampered_unit_fails_the_read():
    async def go():
        e = await _engine()
        v = await e.put_object("b", "k", _body(BODY), _spec(mode="AES256"))
        data_id = v.parts[0].data_id
        blob = bytearray(e.data._blobs[data_id])
        blob[100] ^= 1
        e.data._blobs[data_id] = bytes(blob)
        with pytest.raises(sealed.SealCorrupt):
            await _read(e, "k", (0, 10))
        await e.meta.close()
    asyncio.run(go())


def test_records_and_journal():
    conf = r.EncryptionConfig("aws:kms", "arn:aws:kms:us-east-1:000000000000:key/k", True)
    for m in (r.SetBucketEncryption("b", conf), r.SetBucketEncryption("b", None)):
        assert journal.decode_record(journal.encode_record(3, [m])) == (3, [m])
    part = r.DataPart("id", 10, "e", "", "", 0, "v1:k:1:abc")
    v = r.ObjectVersion("b", "k", 10, "e", 0.0, "o", parts=[part], sse="aws:kms",
                        sse_kms_key_id="k", sse_context="e30=", sse_bucket_key=True)
    back = r.ObjectVersion.from_row("b", "k", 10, "e", 0.0, "o", "STANDARD", v.meta_json(),
                                    None)
    assert back == v
    line = journal.encode_record(4, [r.PutObject(v)])
    assert journal.decode_record(line)[1][0].version == v


def test_records_written_before_encryption_decode_as_plain():
    meta = '{"version_id":"null","parts":[{"data_id":"x","size":3,"etag":"","checksum":""}]}'
    v = r.ObjectVersion.from_row("b", "k", 3, "e", 0.0, "o", "STANDARD", meta, None)
    assert v.sse == "" and v.parts[0].sse_key == "" and not v.sse_bucket_key
    u = r.Upload.from_json('{"upload_id":"u","bucket":"b","key":"k","initiated":1.0,'
                           '"owner":"o"}')
    assert u.sse == "" and u.sse_c_check == ""
    old = (b'{"lsn":9,"f":2,"m":[["PutObject",{"version":{"bucket":"b","key":"k","size":1,'
           b'"etag":"e","mtime":1.0,"owner":"o","parts":[{"data_id":"d","size":1}]}}]]}')
    line = old + b"\t" + f"{zlib.crc32(old):08x}".encode() + b"\n"
    [m] = journal.decode_record(line)[1]
    assert m.version.sse == "" and m.version.parts[0].sse_key == ""
