"""Streaming checksums for S3's additional checksum algorithms plus MD5.

All algorithms release the GIL on large buffers (hashlib, zlib, awscrt), so callers feed them
from a worker thread in big blocks.
"""
import base64
import hashlib
import zlib

from awscrt import checksums as _crt

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
DIGEST_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}


class _Crc:
    """A running CRC whose state is an int; `fn(data, previous)` advances it."""

    def __init__(self, fn, width: int):
        self._fn = fn
        self._width = width
        self._value = 0

    def update(self, data) -> None:
        self._value = self._fn(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._width, "big")


def new(algorithm: str):
    """A hasher with update()/digest() for one of ALGORITHMS or MD5."""
    if algorithm == "CRC32":
        return _Crc(zlib.crc32, 4)
    if algorithm == "CRC32C":
        return _Crc(_crt.crc32c, 4)
    if algorithm == "CRC64NVME":
        return _Crc(_crt.crc64nvme, 8)
    if algorithm == "SHA1":
        return hashlib.sha1()
    if algorithm == "SHA256":
        return hashlib.sha256()
    if algorithm == "MD5":
        return hashlib.md5()
    raise ValueError(f"unknown checksum algorithm {algorithm}")


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def valid_b64_digest(algorithm: str, value: str) -> bool:
    """True if `value` is base64 of exactly the digest size of `algorithm`."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        return False
    return len(raw) == DIGEST_SIZES[algorithm]


_COMBINE = {"CRC32": (_crt.combine_crc32, 4), "CRC32C": (_crt.combine_crc32c, 4),
            "CRC64NVME": (_crt.combine_crc64nvme, 8)}


def combinable(algorithm: str) -> bool:
    """CRCs can be combined from parts into the checksum of the whole (FULL_OBJECT)."""
    return algorithm in _COMBINE


def combine(algorithm: str, parts: list[tuple[str, int]]) -> str:
    """Full-object CRC (base64) from [(part CRC base64, part size)] without rereading data."""
    fn, width = _COMBINE[algorithm]
    value = 0
    for b64value, size in parts:
        value = fn(value, int.from_bytes(base64.b64decode(b64value), "big"), size)
    return b64(value.to_bytes(width, "big"))
