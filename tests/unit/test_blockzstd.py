"""The block compression codec (storage/blockzstd.py): any range of any body round-trips;
damage of any kind is an error, never wrong bytes; a zstd bomb is refused before decoding."""
import os
import struct

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from s3ish.storage import blockzstd as bz

SMALL = 64      # tiny blocks so hypothesis reaches many-block bodies cheaply


def encode(body: bytes, block: int = SMALL, chunks: list[int] | None = None) -> bytes:
    out = bytearray()
    enc = bz.BlockEncoder(out.extend, block)
    at = 0
    for n in chunks or [len(body)]:
        enc.write(body[at: at + n])
        at += n
    enc.write(body[at:])
    assert enc.finish() == len(out)
    return bytes(out)


def decoder(unit: bytes) -> bz.BlockDecoder:
    return bz.BlockDecoder(lambda off, n: unit[off: off + n], len(unit))


# Bodies mixing compressible runs and random bytes (so some blocks are stored raw).
bodies = st.lists(st.one_of(st.binary(max_size=200),
                            st.builds(lambda c, n: c * n, st.binary(min_size=1, max_size=3),
                                      st.integers(0, 150))),
                  max_size=8).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(body=bodies, data=st.data())
def test_any_range_round_trips(body, data):
    chunks = data.draw(st.lists(st.integers(0, 90), max_size=5))
    unit = encode(body, SMALL, chunks)
    dec = decoder(unit)
    assert dec.size == len(body)
    start = data.draw(st.integers(0, len(body) + 5))
    n = data.draw(st.integers(0, len(body) + 5))
    assert dec.read(start, n) == body[start: start + n]
    # Sequential reads of any step (the engine reads this way) give the whole body.
    step = data.draw(st.integers(1, 200))
    assert b"".join(dec.read(at, step) for at in range(0, len(body), step)) == body


@settings(max_examples=300, deadline=None)
@given(body=bodies.filter(len), data=st.data())
def test_damage_is_an_error_never_wrong_bytes(body, data):
    unit = bytearray(encode(body))
    at = data.draw(st.integers(0, len(unit) - 1))
    unit[at] ^= data.draw(st.integers(1, 255))
    try:
        dec = decoder(bytes(unit))
        got = dec.read(0, len(body))
    except bz.BlockCorrupt:
        return
    assert got == body       # only bytes of an untouched region can come back, exactly


@settings(max_examples=100, deadline=None)
@given(body=bodies.filter(len), data=st.data())
def test_truncated_or_extended_unit_is_an_error(body, data):
    unit = encode(body)
    cut = data.draw(st.integers(0, len(unit) - 1))
    for bad in (unit[:cut], unit + b"\0" * (1 + cut % 7)):
        with pytest.raises(bz.BlockCorrupt):
            decoder(bad).read(0, len(body))


def test_swapped_blocks_are_an_error():
    body = os.urandom(SMALL) + os.urandom(SMALL)    # two raw blocks of equal size
    unit = bytearray(encode(body))
    unit[:2 * SMALL] = unit[SMALL: 2 * SMALL] + unit[:SMALL]
    with pytest.raises(bz.BlockCorrupt):
        decoder(bytes(unit)).read(0, 2 * SMALL)


def test_compressible_blocks_shrink_and_incompressible_ones_are_raw():
    text = b"the quick brown fox " * 100_000
    unit = encode(text, bz.BLOCK_SIZE)
    assert len(unit) < len(text) // 20
    noise = os.urandom(3 * bz.BLOCK_SIZE + 5)
    unit = encode(noise, bz.BLOCK_SIZE)
    overhead = 4 * 16 + bz.FOOTER_SIZE
    assert len(unit) == len(noise) + overhead
    assert decoder(unit).read(bz.BLOCK_SIZE - 3, bz.BLOCK_SIZE) == \
        noise[bz.BLOCK_SIZE - 3: 2 * bz.BLOCK_SIZE - 3]


def test_empty_body():
    dec = decoder(encode(b""))
    assert dec.size == 0 and dec.read(0, 10) == b""


def _forge(frames: list[bytes], plain_size: int, block: int) -> bytes:
    """A unit whose index and footer are valid for the given stored blocks."""
    out, index, end = bytearray(), bytearray(), 0
    for i, f in enumerate(frames):
        out += f
        end += len(f)
        index += struct.pack("<QQ", end, bz._hash(f, i))
    head = struct.pack("<4sIIQQ", bz.MAGIC, bz.VERSION, block, len(frames), plain_size)
    import zlib
    return bytes(out + index + head + struct.pack("<I", zlib.crc32(head)))


def test_zstd_bomb_is_refused_without_decoding():
    bomb = zstandard.ZstdCompressor(level=1).compress(b"\0" * (256 * 1024 * 1024))
    assert len(bomb) < 64 * 1024
    unit = _forge([bomb], bz.BLOCK_SIZE, bz.BLOCK_SIZE)
    with pytest.raises(bz.BlockCorrupt, match="declares"):
        decoder(unit).read(0, 10)
    # A frame without a declared size is refused too (we always write one).
    quiet = zstandard.ZstdCompressor(level=1, write_content_size=False).compress(b"\0" * 4096)
    with pytest.raises(bz.BlockCorrupt):
        decoder(_forge([quiet], 4096, 4096)).read(0, 10)


def test_frame_lying_about_its_size_is_refused():
    small = zstandard.ZstdCompressor(level=1).compress(b"a" * 100)
    with pytest.raises(bz.BlockCorrupt):
        decoder(_forge([small], 200, 256)).read(0, 10)


def test_a_read_ending_on_a_block_end_keeps_no_block():
    """The engine keeps every part of a multipart GET open to the end: a finished part must
    not hold a decoded block."""
    body = os.urandom(SMALL) * 4
    dec = decoder(encode(body))
    assert dec.read(10, SMALL) == body[10: SMALL + 10]
    assert dec._cached[0] == 1                   # mid-block: kept for the next read
    assert dec.read(SMALL + 10, len(body)) == body[SMALL + 10:]
    assert dec._cached == (-1, b"")
