"""Erasure codecs: cut one block into k data + m parity fragments, and rebuild it from any k.

Three codecs share one protocol: identity (1 drive), plain striping (k drives, no parity) and
Reed-Solomon through pyeclib's `isa_l_rs_cauchy`. A fragment is written to shard `i` of a
shard file; `fragment_size(block_len)` is exact, so chunk offsets are computable without an
index. encode/decode are called from worker threads.

pyeclib facts this module relies on (checked once per codec at construction, see
`_check_layout`, so an upgrade that changes them fails loudly instead of corrupting data):
- each fragment is an 80-byte liberasurecode header + ceil(block_len / k) payload bytes;
- the header starts with native-endian u32 index, u32 payload size, u32 backend metadata size,
  u64 original block length;
- the code is systematic: data fragment i's payload is block[i*P:(i+1)*P] (zero padded).
Also: pyeclib holds the GIL while coding, has no payload checksum (a flipped payload byte
decodes to wrong bytes silently; the shard file's bitrot hash is what catches it), and
aborts the process on a non-`bytes` fragment, so everything handed to it is `bytes`.
"""
import struct
from typing import Protocol

from pyeclib.ec_iface import ECDriver, ECInsufficientFragments

RS_CODEC = "isa_l_rs_cauchy"
IDENTITY_CODEC = "identity"
STRIPE_CODEC = "stripe"

_META = struct.Struct("=IIIQ")     # idx, payload size, backend metadata size, original length


class NotEnoughShards(Exception):
    """Fewer than k usable fragments: the block cannot be rebuilt."""


class FragmentMismatch(ValueError):
    """A fragment does not belong where it was given (wrong shard, block or length).

    Its bitrot hash was fine, so this is a misplaced or stale shard, never bit rot; the
    caller should quarantine shard `index` and decode without it.
    """

    def __init__(self, index: int, reason: str):
        super().__init__(f"fragment {index}: {reason}")
        self.index = index


class Codec(Protocol):
    k: int
    m: int
    name: str      # recorded in the shard header: "isa_l_rs_cauchy" | "identity" | "stripe"

    def encode(self, block: bytes) -> list[bytes]: ...
    def decode(self, fragments: dict[int, bytes], block_len: int) -> bytes: ...
    def fragment_size(self, block_len: int) -> int: ...


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _need(fragments: dict[int, bytes], k: int) -> None:
    if len(fragments) < k:
        raise NotEnoughShards(f"{len(fragments)} of {k} fragments needed")


def _join_data(fragments: dict[int, bytes], k: int, skip: int, block_len: int) -> bytes:
    """Concatenate the data fragments' payloads: the common read path decodes nothing."""
    p = _ceil_div(block_len, k)
    # Fragment i holds block bytes [i*p, (i+1)*p); with block_len < k*p the tail ones are
    # partly or wholly padding. memoryview slices keep this to one copy.
    return b"".join([memoryview(fragments[i])[skip:skip + max(0, min(p, block_len - i * p))]
                     for i in range(k)])


class IdentityCodec:
    """One drive, no redundancy: the fragment is the block."""
    k, m, name = 1, 0, IDENTITY_CODEC

    def encode(self, block: bytes) -> list[bytes]:
        return [bytes(block)]

    def decode(self, fragments: dict[int, bytes], block_len: int) -> bytes:
        _need(fragments, 1)
        frag = fragments[0]
        if len(frag) != block_len:
            raise FragmentMismatch(0, f"length {len(frag)} != {block_len}")
        return bytes(frag)

    def fragment_size(self, block_len: int) -> int:
        return block_len


class StripeCodec:
    """k drives, no parity: fragment i is the i-th 1/k of the block, zero padded."""
    m, name = 0, STRIPE_CODEC

    def __init__(self, k: int):
        self.k = k

    def encode(self, block: bytes) -> list[bytes]:
        p = self.fragment_size(len(block))
        view = memoryview(block)
        return [bytes(view[i * p:(i + 1) * p]).ljust(p, b"\0") for i in range(self.k)]

    def decode(self, fragments: dict[int, bytes], block_len: int) -> bytes:
        _need(fragments, self.k)
        size = self.fragment_size(block_len)
        for i in range(self.k):
            if i not in fragments:
                raise NotEnoughShards(f"stripe fragment {i} missing")
            if len(fragments[i]) != size:
                raise FragmentMismatch(i, f"length {len(fragments[i])} != {size}")
        return _join_data(fragments, self.k, 0, block_len)

    def fragment_size(self, block_len: int) -> int:
        return _ceil_div(block_len, self.k)


class ReedSolomonCodec:
    """pyeclib isa_l_rs_cauchy: any k of the k+m fragments rebuild the block."""
    name = RS_CODEC

    def __init__(self, k: int, m: int):
        self.k, self.m = k, m
        self._driver = ECDriver(k=k, m=m, ec_type=RS_CODEC)
        self._header = len(self._driver.encode(b"\0")[0]) - 1
        _check_layout(self)

    def encode(self, block: bytes) -> list[bytes]:
        # pyeclib rejects anything but bytes; converting is a copy, so callers pass bytes.
        return self._driver.encode(block if type(block) is bytes else bytes(block))

    def decode(self, fragments: dict[int, bytes], block_len: int) -> bytes:
        _need(fragments, self.k)
        size = self.fragment_size(block_len)
        for i, frag in fragments.items():
            self._check(i, frag, size, block_len)
        if all(i in fragments for i in range(self.k)):
            return _join_data(fragments, self.k, self._header, block_len)
        # Data fragments first: fewer reconstructions for liberasurecode to do.
        chosen = [fragments[i] for i in sorted(fragments)[:self.k]]
        try:
            out = self._driver.decode([f if type(f) is bytes else bytes(f) for f in chosen])
        except ECInsufficientFragments as e:
            raise NotEnoughShards(str(e)) from e
        if len(out) != block_len:
            raise RuntimeError(f"pyeclib decoded {len(out)} bytes, expected {block_len}")
        return out

    def fragment_size(self, block_len: int) -> int:
        return self._header + _ceil_div(block_len, self.k)

    def _check(self, i: int, frag: bytes, size: int, block_len: int) -> None:
        # pyeclib would trust the header's own index; the fast path trusts the dict key.
        # They must agree, or a misplaced shard would be served as the wrong stripe.
        if len(frag) != size:
            raise FragmentMismatch(i, f"length {len(frag)} != {size}")
        idx, _, _, orig = _META.unpack_from(frag)
        if idx != i:
            raise FragmentMismatch(i, f"fragment says it is shard {idx}")
        if orig != block_len:
            raise FragmentMismatch(i, f"fragment is of a {orig}-byte block, not {block_len}")


def _check_layout(codec: ReedSolomonCodec) -> None:
    """Prove the pyeclib facts in the module docstring on a few probe blocks."""
    k, hdr = codec.k, codec._header
    for n in (1, k, k + 1, 4099):
        block = bytes(range(256)) * (n // 256) + bytes(range(n % 256))
        frags = codec._driver.encode(block)
        p = _ceil_div(n, k)
        for i, frag in enumerate(frags):
            idx, size, _, orig = _META.unpack_from(frag)
            if len(frag) != hdr + p or (idx, size, orig) != (i, p, n):
                raise RuntimeError(f"pyeclib fragment layout changed ({k=}, {n=}, {i=})")
        if _join_data(dict(enumerate(frags)), k, hdr, n) != block:
            raise RuntimeError(f"pyeclib data fragments are not systematic ({k=}, {n=})")


def make_codec(k: int, m: int) -> Codec:
    """The codec for a k+m layout; build once per layout at start-up (the probe costs ~ms)."""
    if k < 1 or m < 0:
        raise ValueError(f"bad erasure layout k={k} m={m}")
    if m == 0:
        return IdentityCodec() if k == 1 else StripeCodec(k)
    return ReedSolomonCodec(k, m)


def default_layout(drives: int, parity: int | None = None) -> tuple[int, int]:
    """(k, m) for a node with `drives` drives: half parity up to 4 drives, then 2, then 4."""
    if drives < 1:
        raise ValueError(f"need at least one drive, got {drives}")
    if parity is None:
        parity = drives // 2 if drives <= 4 else 2 if drives <= 7 else 4
    if not 0 <= parity < drives:
        raise ValueError(f"parity {parity} must be in [0, {drives}) for {drives} drives")
    return drives - parity, parity
