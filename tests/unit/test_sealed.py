"""Sealed streams (storage/sealed.py): any range of any body round-trips whatever the write()
chunking; any damage (flipped bytes, dropped, duplicated, reordered, foreign or appended
packages, truncation, the wrong key) is an error for every read that touches it, never wrong
bytes; key wrapping round-trips and refuses the wrong key or AAD."""
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3ish.storage import sealed as sd

P, SP = sd.PACKAGE, sd.STORED_PACKAGE

# Sizes around every package boundary that matters, and anything up to four packages.
sizes = st.one_of(st.sampled_from([0, 1, P - 1, P, P + 1, 2 * P, 3 * P - 1, 3 * P + 1]),
                  st.integers(0, 4 * P + 3))


def body_of(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def seal(body: bytes, key: bytes, chunks=(), kind=bytes) -> bytes:
    out = bytearray()
    w = sd.SealingWriter(out.extend, key)
    at = 0
    for n in chunks:
        w.write(kind(body[at: at + n]))
        at += n
    w.write(kind(body[at:]))
    assert w.finish() == len(out) == sd.sealed_size(len(body))
    return bytes(out)


def reader(stored: bytes, key: bytes, size: int, stored_size=None) -> sd.SealedReader:
    return sd.SealedReader(lambda off, n: stored[off: off + n], key, size, stored_size)


def test_sealed_size():
    assert sd.sealed_size(0) == 16
    assert sd.sealed_size(1) == 17
    assert sd.sealed_size(P) == SP
    assert sd.sealed_size(P + 1) == SP + 17
    assert sd.sealed_size(64 * 1024 * 1024) == 64 * 1024 * 1024 + 1024 * 16


@settings(max_examples=150, deadline=None)
@given(size=sizes, data=st.data())
def test_any_range_of_any_chunking_round_trips(size, data):
    body, key = body_of(size, size), sd.new_data_key()
    chunks = data.draw(st.lists(st.integers(0, 2 * P + 1), max_size=6))
    kind = data.draw(st.sampled_from([bytes, bytearray, memoryview]))
    stored = seal(body, key, chunks, kind)
    r = reader(stored, key, size, len(stored))
    start = data.draw(st.integers(0, size + 5))
    n = data.draw(st.integers(0, size + 5))
    assert r.read(start, n) == body[start: start + n]
    # Sequential reads of any step (the engine reads this way) give the whole body.
    step = data.draw(st.integers(1, 2 * P + 7))
    assert b"".join(r.read(at, step) for at in range(0, size, step)) == body


def test_whole_packages_are_sealed_without_waiting_and_the_tail_is_copied():
    out, key = bytearray(), sd.new_data_key()
    w = sd.SealingWriter(out.extend, key)
    buf = bytearray(b"a" * (3 * P))
    w.write(buf)
    assert len(out) == 2 * SP          # the third package may be the final one: held back
    buf[:] = b"b" * len(buf)           # the caller reuses its buffer
    w.write(memoryview(buf)[:10])
    assert len(out) == 3 * SP
    w.finish()
    assert w.finish() == len(out) == sd.sealed_size(3 * P + 10)
    with pytest.raises(ValueError):
        w.write(b"x")
    assert reader(bytes(out), key, 3 * P + 10).read(0, 4 * P) == b"a" * (3 * P) + b"b" * 10


def test_one_read_at_call_per_read_and_a_split_package_is_opened_once():
    size, key = 5 * P + 123, sd.new_data_key()
    body = body_of(size)
    stored = seal(body, key)
    calls = []

    def read_at(off, n):
        calls.append((off, n))
        return stored[off: off + n]
    r = sd.SealedReader(read_at, key, size)
    assert r.read(10, 3 * P) == body[10: 10 + 3 * P]
    assert calls == [(0, 4 * SP)]
    assert r.read(10 + 3 * P, 100) == body[10 + 3 * P: 10 + 3 * P + 100]
    assert len(calls) == 1             # inside the package the last read cut: cached
    assert r.read(110 + 3 * P, 2 * P) == body[110 + 3 * P: 110 + 5 * P]
    assert calls[1] == (4 * SP, SP + 123 + 16)    # packages 4, 5: the cached 3 is not re-read
    assert r.read(size, 10) == b"" and r.read(size - 1, 10) == body[-1:]


def _manipulate(stored: bytes, other: bytes, op: str, data) -> bytes:
    packs = [stored[at: at + SP] for at in range(0, len(stored), SP)]
    pick = st.integers(0, len(packs) - 1)
    if op == "flip":
        at = data.draw(st.integers(0, len(stored) - 1))
        b = bytearray(stored)
        b[at] ^= data.draw(st.integers(1, 255))
        return bytes(b)
    if op == "truncate":
        return stored[:data.draw(st.integers(0, len(stored) - 1))]
    if op == "drop":
        del packs[data.draw(pick)]
    elif op == "duplicate":
        i = data.draw(pick)
        packs.insert(data.draw(st.integers(0, len(packs))), packs[i])
    elif op == "swap":
        i, j = data.draw(pick), data.draw(pick)
        packs[i], packs[j] = packs[j], packs[i]
    elif op == "append":
        packs.append(data.draw(st.sampled_from([packs[-1], packs[0], os.urandom(SP)])))
    elif op == "foreign":       # a package of another unit (another key) at the same place
        i = data.draw(pick)
        packs[i] = other[i * SP: i * SP + len(packs[i])]
    return b"".join(packs)


def _touched(size: int, offset: int, n: int) -> range:
    end = min(offset + n, size)
    if offset >= end:
        return range(1) if size == 0 and offset == 0 else range(0)
    return range(offset // P, (end - 1) // P + 1)


def _intact(original: bytes, stored: bytes, size: int, i: int) -> bool:
    at, n = i * SP, min(P, size - i * P) + 16
    return stored[at: at + n] == original[at: at + n]


@settings(max_examples=300, deadline=None)
@given(size=sizes, op=st.sampled_from(["flip", "truncate", "drop", "duplicate", "swap",
                                       "append", "foreign"]), data=st.data())
def test_damage_is_an_error_for_every_read_that_touches_it(size, op, data):
    body, key = body_of(size, 7), sd.new_data_key()
    original = seal(body, key)
    other = seal(body, sd.new_data_key())
    stored = _manipulate(original, other, op, data)
    if len(stored) != len(original):
        with pytest.raises(sd.SealCorrupt):
            reader(stored, key, size, len(stored))
    reads = [(0, size + 1)] + [(data.draw(st.integers(0, size)), data.draw(st.integers(0, 3 * P)))
                               for _ in range(3)]
    for offset, n in reads:
        r = reader(stored, key, size)
        if all(_intact(original, stored, size, i) for i in _touched(size, offset, n)):
            assert r.read(offset, n) == body[offset: offset + n]
        else:
            with pytest.raises(sd.SealCorrupt):
                r.read(offset, n)


@pytest.mark.parametrize("size", [0, 1, P, P + 1, 3 * P])
def test_wrong_key_is_an_error(size):
    stored = seal(body_of(size), sd.new_data_key())
    with pytest.raises(sd.SealCorrupt):
        reader(stored, sd.new_data_key(), size).read(0, size + 1)


def test_empty_unit_and_truncation_to_nothing():
    key = sd.new_data_key()
    stored = seal(b"", key)
    assert len(stored) == 16
    assert reader(stored, key, 0, 16).read(0, 10) == b""
    with pytest.raises(sd.SealCorrupt):
        reader(b"", key, 0).read(0, 10)
    with pytest.raises(sd.SealCorrupt):
        reader(b"", key, 0, 0)


@pytest.mark.parametrize("size, told", [(2 * P, P), (2 * P + 5, 2 * P), (P + 1, P),
                                        (P, P - 1), (5, 0)])
def test_a_unit_read_as_shorter_than_it_is_fails_at_its_supposed_end(size, told):
    """The package the reader takes for the final one is not flagged final (or is longer)."""
    key = sd.new_data_key()
    stored = seal(body_of(size), key)
    with pytest.raises(sd.SealCorrupt):
        reader(stored, key, told).read(max(told - 1, 0), 1)


def test_a_full_final_package_cannot_pass_for_a_middle_one():
    key = sd.new_data_key()
    body = body_of(2 * P)
    first = seal(body[:P], key)        # one full package, flagged final
    second = seal(body, key)
    spliced = first + second[SP:]      # package 0 from the 1-package unit
    with pytest.raises(sd.SealCorrupt):
        reader(spliced, key, 2 * P).read(0, 10)


def test_wrap_round_trips_and_refuses_wrong_key_or_aad():
    kek, secret = sd.new_data_key(), sd.new_data_key()
    blob = sd.wrap(kek, secret, b"ctx")
    assert len(blob) == 12 + 32 + 16
    assert sd.unwrap(kek, blob, b"ctx") == secret
    assert sd.wrap(kek, secret, b"ctx") != blob          # a fresh nonce every time
    with pytest.raises(sd.WrongKey):
        sd.unwrap(sd.new_data_key(), blob, b"ctx")
    with pytest.raises(sd.WrongKey):
        sd.unwrap(kek, blob, b"other")
    bad = bytearray(blob)
    bad[5] ^= 1
    with pytest.raises(sd.WrongKey):
        sd.unwrap(kek, bytes(bad), b"ctx")
    with pytest.raises(sd.SealCorrupt):
        sd.unwrap(kek, blob[:20], b"ctx")
    assert issubclass(sd.WrongKey, sd.SealCorrupt) and issubclass(sd.SealCorrupt, IOError)


def test_keys_are_random_and_must_be_32_bytes():
    assert len(sd.new_data_key()) == 32 and sd.new_data_key() != sd.new_data_key()
    with pytest.raises(ValueError):
        sd.SealingWriter(bytearray().extend, b"k" * 16)
    with pytest.raises(ValueError):
        sd.SealedReader(lambda o, n: b"", b"k" * 31, 0)
