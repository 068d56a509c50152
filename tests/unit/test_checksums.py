"""Multipart checksums as S3 computes them: full-object CRCs combined from the parts without
rereading data, composite checksums (checksum of the part checksums, -N), checked against the
values in the public Ceph s3-tests suite (parts of 5 MiB of 'A', 'B', 'C')."""
from types import SimpleNamespace

import pytest

from s3ish.engine.multipart import composite_checksum
from s3ish.util import checksums

MIB5 = 5 * 1024 * 1024
BODIES = [b"A" * MIB5, b"B" * MIB5, b"C" * MIB5]


def _b64(algorithm: str, data: bytes) -> str:
    h = checksums.new(algorithm)
    h.update(data)
    return checksums.b64(h.digest())


@pytest.mark.parametrize("algorithm,parts,whole", [
    ("CRC32", ["JRTCyQ==", "QoZTGg==", "YAgjqw=="], "WgDhBQ=="),
    ("CRC32C", ["MDaLrw==", "TH4EZg==", "Z7mBIQ=="], "xU+Krw=="),
    ("CRC64NVME", ["L/E4WYn8v98=", "xW1l19VobYM=", "cK5MnNaWrW4="], "i+6LR0y3eFo="),
])
def test_full_object_crc_is_combined_from_parts(algorithm, parts, whole):
    assert [_b64(algorithm, b) for b in BODIES] == parts
    assert checksums.combine(algorithm, [(p, MIB5) for p in parts]) == whole
    assert _b64(algorithm, b"".join(BODIES)) == whole


@pytest.mark.parametrize("algorithm,parts,whole", [
    ("SHA256", ["275VF5loJr1YYawit0XSHREhkFXYkkPKGuoK0x9VKxI=",
                "mrHwOfjTL5Zwfj74F05HOQGLdUb7E5szdCbxgUSq6NM=",
                "Vw7oB/nKQ5xWb3hNgbyfkvDiivl+U+/Dft48nfJfDow="],
     "uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3"),
    ("SHA1", ["iIaTCGbm+vdVjNqIMF2S0T7ibMk=", "LS/TJ32bAVKEwRu+sE3X7awh/lk=",
              "6DDwovUaHwrKNXDMzOGbuvj9kxI="], "sizjvY4eud3MrcHdZM3cQ/ol39o=-3"),
])
def test_composite_checksum_of_part_checksums(algorithm, parts, whole):
    assert [_b64(algorithm, b) for b in BODIES] == parts
    assert composite_checksum(algorithm, [SimpleNamespace(checksum=p) for p in parts]) == whole


def test_single_part_composite():
    part = _b64("SHA256", b"A" * 1024)
    assert part == "arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0="
    assert composite_checksum("SHA256", [SimpleNamespace(checksum=part)]) == \
        "Ok6Cs5b96ux6+MWQkJO7UBT5sKPBeXBLwvj/hK89smg=-1"


def test_combine_with_empty_part():
    data = b"hello"
    assert checksums.combine("CRC32", [(_b64("CRC32", data), 5), (_b64("CRC32", b""), 0)]) \
        == _b64("CRC32", data)
