"""Shard files: write a data unit across k+m shards, damage them, read back exact bytes.

The property under test: every damaged chunk is reported as exactly that chunk, and a block
either decodes to the original bytes or raises NotEnoughShards, never wrong data.
"""
import json
import os
import random
import struct
import tempfile
import zlib

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from s3ish.storage.bitrot import DIGEST_SIZE, chunk_hash
from s3ish.storage.erasure import NotEnoughShards, make_codec
from s3ish.storage.shardfile import (MAGIC, ChunkCorrupt, ShardCorrupt, ShardHeader,
                                     ShardReader, ShardWriter)

LAYOUTS = [(1, 0), (2, 0), (2, 1), (2, 2), (4, 2), (3, 3)]
CODECS = {layout: make_codec(*layout) for layout in LAYOUTS}
EXTRA = {"bucket": "b", "key": "dir/ünï©ode key", "part": 3}


def _header(codec, i, size, block_size, **kw) -> ShardHeader:
    return ShardHeader(data_id="d-1", k=codec.k, m=codec.m, block_size=block_size,
                       shard_index=i, size=size, codec=codec.name, generation=2,
                       extra=EXTRA, **kw)


def write_unit(folder, codec, data: bytes, block_size: int) -> list[str]:
    """Encode block by block and append fragment i to shard file i."""
    paths = [os.path.join(folder, f"shard{i}") for i in range(codec.k + codec.m)]
    writers = [ShardWriter(p, _header(codec, i, len(data), block_size))
               for i, p in enumerate(paths)]
    for off in range(0, len(data), block_size):
        for writer, frag in zip(writers, codec.encode(data[off:off + block_size])):
            writer.append(frag)
    for writer in writers:
        writer.finish(durable=False)
    return paths


def open_readers(paths, codec) -> dict[int, ShardReader]:
    readers = {}
    for i, path in enumerate(paths):
        try:
            readers[i] = ShardReader.open(path, codec.fragment_size)
        except (FileNotFoundError, ShardCorrupt):
            pass
    return readers


def read_unit(paths, codec, size, block_size):
    """Per block: decoded bytes or None (NotEnoughShards); plus every (shard, block) bad."""
    readers = open_readers(paths, codec)
    header = _header(codec, 0, size, block_size)
    blocks, bad = [], set()
    for b in range(header.block_count()):
        frags = {}
        for i, reader in readers.items():
            try:
                frags[i] = reader.read_chunk(b)
            except ChunkCorrupt as e:
                assert e.index == b
                bad.add((i, b))
        try:
            blocks.append(codec.decode(frags, header.block_len(b)))
        except NotEnoughShards:
            assert len(frags) < codec.k
            blocks.append(None)
    for reader in readers.values():
        reader.close()
    return blocks, bad, set(readers)


def _flip(path, offset, xor):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ xor]))


def _expected_blocks(data, block_size):
    return [data[o:o + block_size] for o in range(0, len(data), block_size)]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size,block_size", [(0, 4096), (1, 4096), (4096, 4096),
                                             (3 * 4096, 4096), (100_000, 4096),
                                             (300_000, 65536), (7, 1)])
def test_roundtrip(tmp_path, layout, size, block_size):
    codec = CODECS[layout]
    data = random.Random(size).randbytes(size)
    paths = write_unit(tmp_path, codec, data, block_size)
    blocks, bad, opened = read_unit(paths, codec, size, block_size)
    assert b"".join(blocks) == data and not bad and opened == set(range(len(paths)))
    for i, path in enumerate(paths):
        with ShardReader.open(path, codec.fragment_size) as reader:
            h = reader.header
            assert (h.shard_index, h.size, h.extra, h.generation, h.codec) == (
                i, size, EXTRA, 2, codec.name)
            assert reader.data_offset == len(h.to_bytes())
            assert h.file_size(codec.fragment_size, reader.data_offset) == \
                os.path.getsize(path)
            assert reader.verify_all() == []


def _damage_plan(data, k, m, n_blocks):
    """Per shard: ("ok",), ("delete",), ("truncate", fraction) or ("flip", [(block, pos, xor)])."""
    kinds = st.sampled_from(["ok", "ok", "delete", "truncate", "flip", "flip"])
    plan = []
    for _ in range(k + m):
        kind = data.draw(kinds)
        if kind == "truncate":
            plan.append((kind, data.draw(st.floats(0, 1, exclude_max=True))))
        elif kind == "flip" and n_blocks:
            flips = data.draw(st.lists(st.tuples(st.integers(0, n_blocks - 1),
                                                 st.floats(0, 1, exclude_max=True),
                                                 st.integers(1, 255)),
                                       min_size=1, max_size=3, unique_by=lambda t: t[0]))
            plan.append((kind, flips))
        else:
            plan.append(("ok",) if kind == "flip" else (kind,))
    return plan


def _apply(plan, paths, codec, size, block_size):
    """Damage the files; return the shards that cannot open and the (shard, block) bad set."""
    header = _header(codec, 0, size, block_size)
    start = len(header.to_bytes())
    fsize = codec.fragment_size
    unopenable, bad = set(), set()
    for i, (path, step) in enumerate(zip(paths, plan)):
        if step[0] == "delete":
            os.unlink(path)
            unopenable.add(i)
        elif step[0] == "truncate":
            cut = int(step[1] * os.path.getsize(path))
            os.truncate(path, cut)
            if cut < start:
                unopenable.add(i)
            bad |= {(i, b) for b in range(header.block_count())
                    if header.chunk_offset(b, fsize, start) + header.chunk_len(b, fsize) > cut}
        elif step[0] == "flip":
            for b, where, xor in step[1]:
                pos = int(where * header.chunk_len(b, fsize))
                _flip(path, header.chunk_offset(b, fsize, start) + pos, xor)
                bad.add((i, b))
    return unopenable, {(i, b) for i, b in bad if i not in unopenable}


@settings(max_examples=200, deadline=None)
@given(layout=st.sampled_from(LAYOUTS), block_size=st.sampled_from([1, 5, 1000, 4096, 65536]),
       n_blocks=st.integers(0, 6), tail=st.integers(0, 65535), data=st.data())
def test_damage_is_detected_exactly_and_never_served(layout, block_size, n_blocks, tail, data):
    codec = CODECS[layout]
    k, m = layout
    size = max(0, n_blocks * block_size - tail % block_size)
    payload = random.Random(size).randbytes(size)
    blocks_n = -(-size // block_size)
    plan = _damage_plan(data, k, m, blocks_n)
    with tempfile.TemporaryDirectory() as folder:
        paths = write_unit(folder, codec, payload, block_size)
        unopenable, expected_bad = _apply(plan, paths, codec, size, block_size)
        verified = {}
        for i, reader in open_readers(paths, codec).items():
            verified[i] = reader.verify_all()
            reader.close()
        blocks, bad, opened = read_unit(paths, codec, size, block_size)
    assert opened == set(range(k + m)) - unopenable
    assert bad == expected_bad
    assert verified == {i: sorted(b for s, b in expected_bad if s == i) for i in opened}
    assert len(blocks) == blocks_n
    for b, (got, want) in enumerate(zip(blocks, _expected_blocks(payload, block_size))):
        lost = len(unopenable) + sum(1 for s, bb in expected_bad if bb == b)
        assert got == (want if lost <= m else None), (b, lost)
        event("block unrecoverable" if lost > m else "block rebuilt" if lost else "block intact")


@pytest.mark.parametrize("layout", [(2, 1), (2, 2), (4, 2), (3, 3)])
def test_any_m_shards_lost_and_one_more(tmp_path, layout):
    k, m = layout
    codec = CODECS[layout]
    data = random.Random(1).randbytes(50_000)
    paths = write_unit(tmp_path, codec, data, 8192)
    for lost in range(k + m):
        others = [paths[j] for j in range(k + m) if j != lost][:m - 1]
        hidden = [paths[lost]] + others
        for p in hidden:
            os.rename(p, p + ".gone")
        blocks, _, _ = read_unit(paths, codec, len(data), 8192)
        assert b"".join(blocks) == data
        extra = next(p for p in paths if p not in hidden)
        os.rename(extra, extra + ".gone")
        blocks, _, _ = read_unit(paths, codec, len(data), 8192)
        assert blocks == [None] * len(blocks)
        for p in hidden + [extra]:
            os.rename(p + ".gone", p)


def test_verify_all_finds_flipped_chunks(tmp_path):
    codec = CODECS[(4, 2)]
    data = random.Random(2).randbytes(40 * 1000 + 17)
    paths = write_unit(tmp_path, codec, data, 1000)
    header = _header(codec, 0, len(data), 1000)
    start, fsize = len(header.to_bytes()), codec.fragment_size
    for b in (0, 7, 40):   # first, middle, last (short) chunk; hash and fragment bytes
        _flip(paths[3], header.chunk_offset(b, fsize, start) + (b % DIGEST_SIZE), 0x40)
        _flip(paths[3], header.chunk_offset(b, fsize, start) + header.chunk_len(b, fsize) - 1,
              1)
    with ShardReader.open(paths[3], fsize) as reader:
        assert reader.verify_all() == [0, 7, 40]
        with pytest.raises(ChunkCorrupt) as info:
            reader.read_chunk(7)
        assert info.value.index == 7
        assert reader.read_chunk(8) == codec.encode(data[8000:9000])[3]
        with pytest.raises(IndexError):
            reader.read_chunk(41)


def test_verify_all_spans_many_reads(tmp_path, monkeypatch):
    from s3ish.storage import shardfile
    monkeypatch.setattr(shardfile, "_VERIFY_READ", 3000)   # 2 full chunks per pread
    codec = CODECS[(1, 0)]
    data = random.Random(3).randbytes(10 * 1000 + 1)
    paths = write_unit(tmp_path, codec, data, 1000)
    header = _header(codec, 0, len(data), 1000)
    start = len(header.to_bytes())
    for b in (1, 2, 5, 10):
        _flip(paths[0], header.chunk_offset(b, codec.fragment_size, start)
              + header.chunk_len(b, codec.fragment_size) - 1, 1)
    with ShardReader.open(paths[0], codec.fragment_size) as reader:
        assert reader.verify_all() == [1, 2, 5, 10]
    os.truncate(paths[0], header.chunk_offset(6, codec.fragment_size, start) + 5)
    with ShardReader.open(paths[0], codec.fragment_size) as reader:
        assert reader.verify_all() == [1, 2, 5, 6, 7, 8, 9, 10]


@settings(max_examples=100, deadline=None)
@given(where=st.floats(0, 1, exclude_max=True), xor=st.integers(1, 255))
def test_any_header_byte_flip_is_shard_corrupt(where, xor):
    codec = CODECS[(2, 1)]
    with tempfile.TemporaryDirectory() as folder:
        path = write_unit(folder, codec, b"x" * 5000, 4096)[0]
        header_len = len(_header(codec, 0, 5000, 4096).to_bytes())
        _flip(path, int(where * header_len), xor)
        with pytest.raises(ShardCorrupt):
            ShardReader.open(path, codec.fragment_size)


def _prefix(body: bytes, length: int | None = None) -> bytes:
    n = len(body) if length is None else length
    return MAGIC + struct.pack(">I", n) + body + struct.pack(">I", zlib.crc32(body))


def _body(**changes) -> bytes:
    fields = json.loads(_header(CODECS[(2, 1)], 0, 5, 4096).to_bytes()[12:-4])
    fields.update(changes)
    return json.dumps({k: v for k, v in fields.items() if v is not None}).encode()


@pytest.mark.parametrize("raw", [
    b"", b"S3ISH", b"NOTSHARD" + b"\0" * 100,
    MAGIC + struct.pack(">I", 1 << 30),                  # absurd length
    _prefix(_body())[:-1],                               # ends inside the crc
    _prefix(b"{not json"), _prefix(b"\xff\xfe"), _prefix(b"[1, 2]"),
    _prefix(_body(format=2)), _prefix(_body(hash="sha256")), _prefix(_body(codec="zstd")),
    _prefix(_body(k="2")), _prefix(_body(size=True)), _prefix(_body(extra=[])),
    _prefix(_body(shard_index=3)), _prefix(_body(block_size=0)), _prefix(_body(size=-1)),
    _prefix(_body(data_id=None)), _prefix(_body(surprise=1)),
], ids=lambda raw: repr(raw[:24]))
def test_bad_headers(tmp_path, raw):
    with pytest.raises(ShardCorrupt):
        ShardHeader.parse(raw)
    path = tmp_path / "s"
    path.write_bytes(raw)
    with pytest.raises(ShardCorrupt):
        ShardReader.open(str(path), CODECS[(2, 1)].fragment_size)


def test_header_roundtrip_and_geometry():
    codec = CODECS[(4, 2)]
    h = _header(codec, 5, 10_000, 4096)
    parsed, end = ShardHeader.parse(_prefix(_body(shard_index=5, size=10_000, k=4, m=2)))
    assert end == 12 + len(_body(shard_index=5, size=10_000, k=4, m=2)) + 4
    assert ShardHeader.parse(h.to_bytes() + b"chunks...") == (h, len(h.to_bytes()))
    assert parsed == h
    assert (h.block_count(), h.block_len(0), h.block_len(2)) == (3, 4096, 10_000 - 8192)
    stride = DIGEST_SIZE + codec.fragment_size(4096)
    assert h.chunk_offset(2, codec.fragment_size, 100) == 100 + 2 * stride
    assert h.chunk_len(2, codec.fragment_size) == DIGEST_SIZE + codec.fragment_size(1808)
    exact = _header(codec, 0, 8192, 4096)
    assert (exact.block_count(), exact.block_len(1)) == (2, 4096)
    empty = _header(codec, 0, 0, 4096)
    assert empty.block_count() == 0 and empty.file_size(codec.fragment_size, 7) == 7
    for bad in (-1, 3):
        with pytest.raises(IndexError):
            h.block_len(bad)


def test_writer_lifecycle(tmp_path):
    codec = CODECS[(1, 0)]
    path = str(tmp_path / "s")
    writer = ShardWriter(path, _header(codec, 0, 10, 4))
    with pytest.raises(FileExistsError):
        ShardWriter(path, _header(codec, 0, 10, 4))
    writer.append(b"abcd")
    with pytest.raises(ValueError):       # 2 of 3 chunks: a short shard is never finished
        writer.finish(durable=True)
    writer.abort()
    assert not os.path.exists(path)
    writer.abort()                          # idempotent

    writer = ShardWriter(path, _header(codec, 0, 10, 4))
    for frag in (b"abcd", b"efgh", b"ij"):
        writer.append(frag)
    with pytest.raises(ValueError):
        writer.append(b"kl")
    writer.finish(durable=True)
    with ShardReader.open(path, codec.fragment_size) as reader:
        assert [reader.read_chunk(i) for i in range(3)] == [b"abcd", b"efgh", b"ij"]
        raw = open(path, "rb").read()
        assert raw[reader.data_offset:reader.data_offset + DIGEST_SIZE] == chunk_hash(b"abcd")
