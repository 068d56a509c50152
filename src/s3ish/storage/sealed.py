"""Sealed streams: authenticated encryption (AES-256-GCM) of one data unit's bytes in fixed-size
packages, so a ranged read decrypts only the packages it touches; plus the key-wrapping helpers
the key service (storage/kms.py) builds envelope keys with.

Pure (no I/O of its own): the writer writes through a `write(bytes)` callable, the reader reads
through a `read_at(offset, n)` callable. Both are blocking (AES-GCM releases the GIL): callers
run them in worker threads.

Layout of a sealed unit: packages laid end to end, nothing else.

    package 0 | package 1 | ... | package n-1

- package i: AES-256-GCM(data key, nonce_i, plaintext bytes [i*P, (i+1)*P), AAD), i.e. the
  ciphertext followed by its 16-byte tag, so it starts at stored offset i*(P+16) and is 16
  bytes longer than its plaintext; P = 64 KiB;
- nonce_i = u64 big-endian i, then u32 big-endian 1 for the final package and 0 otherwise. The
  final package is always the one holding the last plaintext byte (when the size is a multiple
  of P it is a full package); an empty stream is one empty final package of 16 bytes.

Why this is enough:
- every data unit is sealed under its own random 256-bit data key (new_data_key()), so the
  deterministic nonces never repeat under one key, and a package moved from another unit (or
  another object) fails its tag: nothing about the unit needs to be in the AAD, which is a
  constant naming the format;
- the package number in the nonce makes a package moved, dropped, duplicated or reordered
  within the unit fail its tag;
- the final flag makes truncation at a package boundary (down to zero bytes) fail: the reader
  knows the plaintext size from the metadata record and demands that package
  ceil(size/P)-1 (0 when empty) opens with the final flag and has exactly the expected length;
  a stored size that disagrees with sealed_size() (appended bytes) is refused when given.

Why 64 KiB packages: 16 bytes of tag per 64 KiB is 0.024% overhead; a small ranged read
decrypts at most 64 KiB (~20 us); the engine's 1 MiB read and ingest chunks are whole
packages, and there are only 1,024 AES-GCM calls per 64 MiB, so the Python work per package
(one call, one slice) stays far below the cipher's own cost.
"""
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PACKAGE = 64 * 1024
TAG = 16
STORED_PACKAGE = PACKAGE + TAG
KEY_SIZE = 32
NONCE_SIZE = 12
AAD = b"s3ish-sealed-v1"
_NONCE = struct.Struct(">QI")


class SealCorrupt(IOError):
    """The stored bytes do not open to what was sealed (damage, truncation, reordering, a
    package from elsewhere, or the wrong key): an error, never wrong bytes."""


class WrongKey(SealCorrupt):
    """A wrapped secret does not open under this key and AAD: the wrong key, a secret wrapped
    for another purpose, or a damaged blob (AES-GCM cannot tell these apart)."""


def new_data_key() -> bytes:
    """A fresh random 256-bit key (one per data unit)."""
    return os.urandom(KEY_SIZE)


def sealed_size(plain_size: int) -> int:
    """Stored size of a unit sealing `plain_size` plaintext bytes (an empty one is one tag)."""
    if plain_size < 0:
        raise ValueError("negative size")
    return plain_size + TAG * _package_count(plain_size)


def _package_count(plain_size: int) -> int:
    return max(1, -(-plain_size // PACKAGE))


def _nonce(i: int, final: bool) -> bytes:
    return _NONCE.pack(i, 1 if final else 0)


def _cipher(key: bytes) -> AESGCM:
    if len(key) != KEY_SIZE:
        raise ValueError(f"a data key is {KEY_SIZE} bytes, not {len(key)}")
    return AESGCM(bytes(key))


def _byte_view(data) -> memoryview:
    view = memoryview(data)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


class SealingWriter:
    """Cuts a stream into packages, seals each, writes them through `write`; `finish()` seals
    the final package and returns the stored size.

    The last package taken is held back until more data arrives or finish(), because only
    then is it known whether it is the final one. Whole packages in the middle of a write()
    are sealed straight from the caller's buffer; only the held-back tail is copied."""

    def __init__(self, write, key: bytes):
        self._write = write
        self._aead = _cipher(key)
        self._buf = bytearray()      # the held-back tail: 0..PACKAGE bytes, not yet sealed
        self._next = 0               # number of the next package to seal
        self._done = False
        self.plain = 0               # plaintext bytes taken
        self.stored = 0              # bytes written so far

    def write(self, data) -> None:
        if self._done:
            raise ValueError("write after finish")
        view = _byte_view(data)
        if not view:
            return
        self.plain += len(view)
        if self._buf:
            take = min(len(view), PACKAGE - len(self._buf))
            self._buf += view[:take]
            view = view[take:]
            if not view:
                return
            self._seal(self._buf, False)    # full, and more data follows: not the final one
            self._buf = bytearray()
        # Every whole package but one that could be the last goes out straight from `view`,
        # sealed into one buffer and written with one call (a 1 MiB ingest block is 16
        # packages: one write beneath, not 16).
        whole = (len(view) - 1) // PACKAGE
        if whole:
            self._seal_run(view[: whole * PACKAGE], whole)
        self._buf = bytearray(view[whole * PACKAGE:])

    def _seal_run(self, view, count: int) -> None:
        """Seal `count` whole, non-final packages of `view` into one new buffer, then write
        it (a new buffer each time: the writer beneath may keep a reference to it)."""
        out = bytearray(count * STORED_PACKAGE)
        dest = memoryview(out)
        for j in range(count):
            self._aead.encrypt_into(_nonce(self._next, False),
                                    view[j * PACKAGE: (j + 1) * PACKAGE], AAD,
                                    dest[j * STORED_PACKAGE: (j + 1) * STORED_PACKAGE])
            self._next += 1
        self._write(out)
        self.stored += len(out)

    def _seal(self, plain, final: bool) -> None:
        stored = self._aead.encrypt(_nonce(self._next, final), plain, AAD)
        self._next += 1
        self._write(stored)
        self.stored += len(stored)

    def finish(self) -> int:
        if not self._done:
            self._done = True
            self._seal(self._buf, True)
            self._buf = bytearray()
        return self.stored


class SealedReader:
    """Reads plaintext ranges of a sealed unit holding `plain_size` bytes through
    `read_at(stored_offset, n)`, one read_at call per read(). Keeps the last package it
    opened when a read ends inside it (sequential reads that cut a package in two decrypt it
    once); a read that ends at a package's end keeps nothing.

    `stored_size`, when the caller knows it, must equal sealed_size(plain_size): bytes
    appended after the final package are refused up front (a reader never reads them)."""

    def __init__(self, read_at, key: bytes, plain_size: int, stored_size: int | None = None):
        if plain_size < 0:
            raise ValueError("negative size")
        if stored_size is not None and stored_size != sealed_size(plain_size):
            raise SealCorrupt(f"sealed unit is {stored_size} bytes, "
                              f"{sealed_size(plain_size)} expected")
        self._read_at = read_at
        self._aead = _cipher(key)
        self.size = plain_size
        self._count = _package_count(plain_size)
        self._cached = (-1, b"")

    def read(self, offset: int, n: int) -> bytes:
        """Plaintext bytes [offset, offset + n), cut at the end of the data. Reading an empty
        unit still opens its one package, so a unit truncated to nothing is an error."""
        end = min(offset + n, self.size)
        if offset < 0 or offset >= end:
            if self.size == 0 and offset == 0:
                self._open(0, 0)
            return b""
        first, last = offset // PACKAGE, (end - 1) // PACKAGE
        skip = offset - first * PACKAGE
        if self._cached[0] == first:            # reuse the package a previous read cut
            head = self._cached[1]
            plain = head if last == first else b"".join((head, self._open(first + 1, last)))
        else:
            plain = self._open(first, last)
        if end % PACKAGE and end < self.size:   # keep the package this read cut in two
            self._cached = (last, bytes(plain[(last - first) * PACKAGE:]))
        else:
            self._cached = (-1, b"")
        if skip == 0 and len(plain) == end - offset:
            return plain          # the common case (aligned sequential reads): no copy
        return plain[skip: skip + end - offset]

    def _plain_len(self, i: int) -> int:
        return min(PACKAGE, self.size - i * PACKAGE)

    def _open(self, first: int, last: int) -> bytearray:
        """Decrypt packages first..last (read with one read_at call) into one buffer."""
        start = first * STORED_PACKAGE
        want = (last - first) * STORED_PACKAGE + self._plain_len(last) + TAG
        stored = self._read_at(start, want)
        if len(stored) != want:
            raise SealCorrupt(f"sealed unit truncated (package {first}..{last})")
        view = memoryview(stored)
        out = bytearray(want - (last - first + 1) * TAG)
        dest = memoryview(out)
        for i in range(first, last + 1):
            at, to, n = (i - first) * STORED_PACKAGE, (i - first) * PACKAGE, self._plain_len(i)
            try:
                self._aead.decrypt_into(_nonce(i, i == self._count - 1),
                                        view[at: at + n + TAG], AAD, dest[to: to + n])
            except InvalidTag:
                raise SealCorrupt(f"sealed package {i} does not open (damaged, moved, "
                                  f"truncated or the wrong key)") from None
        return out


def wrap(kek: bytes, secret: bytes, aad: bytes) -> bytes:
    """Seal a small secret (a data key) under a key-encryption key: a random 12-byte nonce,
    then AES-GCM ciphertext and tag. `aad` binds the blob to its purpose (e.g. the key id
    and version), so it cannot be opened in another context."""
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(bytes(kek)).encrypt(nonce, secret, aad)


def unwrap(kek: bytes, blob: bytes, aad: bytes) -> bytes:
    """The secret wrap() sealed; WrongKey when the key or AAD does not open it."""
    if len(blob) < NONCE_SIZE + TAG:
        raise SealCorrupt("wrapped key too short")
    try:
        return AESGCM(bytes(kek)).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad)
    except InvalidTag:
        raise WrongKey("wrapped key does not open under this key") from None
