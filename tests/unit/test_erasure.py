"""Erasure codecs: any k of k+m fragments rebuild the block byte for byte, never fewer."""
import itertools
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3ish.storage.erasure import (FragmentMismatch, NotEnoughShards, default_layout,
                                   make_codec)

LAYOUTS = [(1, 0), (2, 0), (2, 1), (2, 2), (4, 2), (3, 3)]
CODECS = {layout: make_codec(*layout) for layout in LAYOUTS}
MAX_LEN = 256 * 1024
# Edges: 1 byte, around k and padding boundaries, exact multiples of common block sizes.
SPECIAL_LENS = [1, 2, 3, 4, 5, 6, 7, 8, 63, 64, 65, 4095, 4096, 4097, 65536, MAX_LEN]


def _block(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


lengths = st.one_of(st.sampled_from(SPECIAL_LENS), st.integers(1, MAX_LEN))


def test_codec_kinds():
    assert [CODECS[layout].name for layout in LAYOUTS] == [
        "identity", "stripe"] + ["isa_l_rs_cauchy"] * 4
    for (k, m), codec in CODECS.items():
        assert (codec.k, codec.m) == (k, m)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_subset_of_k_or_more_decodes(layout):
    k, m = layout
    codec = CODECS[layout]
    for n in SPECIAL_LENS[:12]:
        block = _block(n, n)
        frags = codec.encode(block)
        assert len(frags) == k + m
        assert all(len(f) == codec.fragment_size(n) for f in frags)
        for size in range(k, k + m + 1):
            for keep in itertools.combinations(range(k + m), size):
                assert codec.decode({i: frags[i] for i in keep}, n) == block, (n, keep)
        for keep in itertools.combinations(range(k + m), k - 1):
            with pytest.raises(NotEnoughShards):
                codec.decode({i: frags[i] for i in keep}, n)


@settings(max_examples=150, deadline=None)
@given(layout=st.sampled_from(LAYOUTS), n=lengths, seed=st.integers(0, 2**32),
       data=st.data())
def test_random_blocks_survive_any_m_losses(layout, n, seed, data):
    k, m = layout
    codec = CODECS[layout]
    block = _block(n, seed)
    frags = codec.encode(block)
    assert [len(f) for f in frags] == [codec.fragment_size(n)] * (k + m)
    lost = data.draw(st.sets(st.integers(0, k + m - 1), max_size=m), label="lost")
    survivors = {i: f for i, f in enumerate(frags) if i not in lost}
    # Order of the dict must not matter either.
    order = data.draw(st.permutations(sorted(survivors)), label="order")
    assert codec.decode({i: survivors[i] for i in order}, n) == block


@settings(max_examples=60, deadline=None)
@given(layout=st.sampled_from(LAYOUTS), n=lengths, data=st.data())
def test_fewer_than_k_raises(layout, n, data):
    k, m = layout
    codec = CODECS[layout]
    frags = codec.encode(_block(n, 7))
    keep = data.draw(st.sets(st.integers(0, k + m - 1), max_size=k - 1), label="keep")
    with pytest.raises(NotEnoughShards):
        codec.decode({i: frags[i] for i in keep}, n)


def test_stripe_needs_every_data_fragment():
    codec = CODECS[(2, 0)]
    frags = codec.encode(b"abc")
    assert frags == [b"ab", b"c\0"]
    with pytest.raises(NotEnoughShards):
        codec.decode({0: frags[0]}, 3)


@pytest.mark.parametrize("layout", [(2, 1), (2, 2), (4, 2), (3, 3)])
def test_misplaced_fragment_is_refused_not_served(layout):
    k, m = layout
    codec = CODECS[layout]
    frags = codec.encode(_block(5000, 1))
    swapped = dict(enumerate(frags))
    swapped[0], swapped[1] = frags[1], frags[0]
    with pytest.raises(FragmentMismatch) as info:
        codec.decode(swapped, 5000)
    assert info.value.index in (0, 1)
    # A fragment of a 4999-byte block has the same size (k >= 2) but records another length.
    other = codec.encode(_block(4999, 2))
    assert len(other[0]) == len(frags[0])
    with pytest.raises(FragmentMismatch):
        codec.decode({0: other[0], **{i: frags[i] for i in range(1, k + m)}}, 5000)
    with pytest.raises(FragmentMismatch):
        codec.decode({0: frags[0][:-1], **{i: frags[i] for i in range(1, k + m)}}, 5000)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_bytes_like_inputs(layout):
    # pyeclib itself aborts the process on a bytearray fragment; the codec must convert.
    k, m = layout
    codec = CODECS[layout]
    block = _block(3000, 3)
    frags = codec.encode(bytearray(block))
    assert codec.encode(memoryview(block)) == frags
    keep = {i: bytearray(frags[i]) for i in range(m, k + m)}
    assert codec.decode(keep, 3000) == block


def test_concurrent_use_of_one_codec():
    codec = CODECS[(4, 2)]
    blocks = [_block(100_000 + i, i) for i in range(32)]

    def roundtrip(block):
        frags = codec.encode(block)
        return codec.decode({i: frags[i] for i in (1, 3, 4, 5)}, len(block)) == block

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(roundtrip, blocks))


def test_fragment_size_formula_for_every_small_length():
    for layout, codec in CODECS.items():
        for n in range(0, 300):
            assert [len(f) for f in codec.encode(bytes(n))] == \
                [codec.fragment_size(n)] * sum(layout), (layout, n)


@pytest.mark.parametrize("drives,expected", [
    (1, (1, 0)), (2, (1, 1)), (3, (2, 1)), (4, (2, 2)), (5, (3, 2)), (6, (4, 2)),
    (7, (5, 2)), (8, (4, 4)), (12, (8, 4)), (16, (12, 4)),
])
def test_default_layout(drives, expected):
    assert default_layout(drives, None) == expected
    k, m = expected
    assert default_layout(drives, m) == expected


@pytest.mark.parametrize("drives,parity,expected", [
    (1, 0, (1, 0)), (4, 0, (4, 0)), (4, 3, (1, 3)), (6, 3, (3, 3)), (8, 2, (6, 2)),
])
def test_default_layout_with_parity(drives, parity, expected):
    assert default_layout(drives, parity) == expected


@pytest.mark.parametrize("drives,parity", [(0, None), (-1, None), (1, 1), (4, 4), (4, -1)])
def test_default_layout_rejects(drives, parity):
    with pytest.raises(ValueError):
        default_layout(drives, parity)


def test_make_codec_rejects_bad_layout():
    for k, m in [(0, 0), (0, 2), (2, -1)]:
        with pytest.raises(ValueError):
            make_codec(k, m)
