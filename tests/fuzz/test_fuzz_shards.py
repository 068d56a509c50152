"""Fuzz shard file headers (storage/shardfile.py): ShardHeader.parse, header_end, and
ShardReader.open on a real file.

Valid headers are written with the module's own `to_bytes` (random fields, optional padding,
caller metadata in `extra`) followed by chunk bytes. Damage comes in two kinds: raw (the CRC
must catch it) and JSON-level with the length and CRC recomputed (what a bug or a format change
would write), including wrong types, missing or unknown keys, huge numbers and deep nesting.
Invariant: a header whose values are in range, or ShardCorrupt; opening never reads more than
the header cap.
"""
import json
import os
import struct
import tempfile
import zlib

from hypothesis import strategies as st

from s3ish.storage import shardfile
from s3ish.storage.shardfile import ShardCorrupt, ShardHeader
from tests.fuzz.harness import fuzz, mutate_bytes

_json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)


@st.composite
def _headers(draw):
    k, m = draw(st.integers(1, 16)), draw(st.integers(0, 8))
    return ShardHeader(
        data_id=draw(st.text(max_size=24)), k=k, m=m,
        block_size=draw(st.integers(1, 1 << 20) | st.just(shardfile.MAX_BLOCK)),
        shard_index=draw(st.integers(0, k + m - 1)), generation=draw(st.integers(0, 2 ** 63)),
        size=draw(st.integers(0, 2 ** 50)), codec=draw(st.sampled_from(shardfile.CODECS)),
        extra=draw(st.dictionaries(st.text(max_size=6), _json_scalars, max_size=4)))


HEADERS = _headers()
_TOKENS = [b'"block_size":1099511627776', b'"k":0', b'"k":"1"', b'"size":-1',
           b'"block_size":0', b'"format":2', b"null", b'"extra":[]', b'"nope":1', b"1e999",
           b"9" * 5000, b"[" * 3000, b"\\ud800", b"true", b'"codec":"x"', b",", b"{", b"}"]


def _frame(body: bytes) -> bytes:
    return shardfile.MAGIC + struct.pack(">I", len(body)) + body + \
        struct.pack(">I", zlib.crc32(body))


def _check(header: ShardHeader, end: int, blob: bytes) -> None:
    assert 16 <= end <= len(blob)
    assert header.k >= 1 and 0 <= header.shard_index < header.k + header.m
    assert 1 <= header.block_size <= shardfile.MAX_BLOCK and header.size >= 0
    header.block_count()
    header.file_size(lambda n: n, end)


def _parse(blob: bytes) -> None:
    try:
        end = shardfile.header_end(blob)
    except ShardCorrupt:
        return
    assert end == 12 + struct.unpack(">I", blob[8:12])[0] + 4 <= 12 + shardfile.MAX_HEADER + 4
    try:
        header, end = ShardHeader.parse(blob)
    except ShardCorrupt:
        return
    _check(header, end, blob)


def _valid(data, header) -> bytes:
    pad = data.draw(st.sampled_from([0, len(header.to_bytes()) + 64]))
    return header.to_bytes(pad) + data.draw(st.binary(max_size=64))


@fuzz(st.tuples(HEADERS, st.data()))
def test_shard_header_raw_damage(arg):
    header, data = arg
    blob = _valid(data, header)
    damaged = mutate_bytes(data, blob, [shardfile.MAGIC, b"\xff\xff\xff\xff", b"\x00" * 4])
    _parse(damaged)
    if damaged == blob:
        assert ShardHeader.parse(blob)[0] == header


@fuzz(st.tuples(HEADERS, st.data()))
def test_shard_header_json_damage(arg):
    header, data = arg
    body = json.dumps(header.__dict__, separators=(",", ":"), sort_keys=True).encode()
    _parse(_frame(mutate_bytes(data, body, _TOKENS)) + data.draw(st.binary(max_size=32)))


@fuzz(st.tuples(HEADERS, st.data()))
def test_shard_reader_open(arg):
    header, data = arg
    blob = _valid(data, header)
    if data.draw(st.booleans()):
        body = json.dumps(header.__dict__, separators=(",", ":"), sort_keys=True).encode()
        blob = _frame(mutate_bytes(data, body, _TOKENS))
    damaged = mutate_bytes(data, blob, [b"\xff\xff\xff\xff", b"\x00\x10\x00\x00"])
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "shard")
        with open(path, "wb") as f:
            f.write(damaged)
        try:
            reader = shardfile.ShardReader.open(path, lambda n: n)
        except ShardCorrupt:
            return
        with reader:
            _check(reader.header, reader.data_offset, damaged)
            if reader.header.block_count() and reader.header.block_size <= 1 << 20:
                try:
                    reader.read_chunk(0)
                except shardfile.ChunkCorrupt:
                    pass
