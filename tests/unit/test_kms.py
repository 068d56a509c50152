"""Key-encryption keys (storage/kms.py): the keyring file's life (create, rotate, default,
describe, reload), data keys that open after rotation and reseal to the newest version,
sealed keys bound to their key id, ARNs, the master key from the environment, load_kms."""
import base64
import json
import os
import stat

import pytest

from s3ish.storage import kms


@pytest.fixture
def ring(tmp_path):
    return str(tmp_path / "keyring.json")


def test_create_describe_and_the_first_key_is_the_default(ring):
    first = kms.create_key(ring)
    assert len(first) == 36                                    # a uuid4
    assert kms.create_key(ring, "b-key") == "b-key"
    assert kms.create_key(ring, "arn:aws:kms:eu-west-1:123456789012:key/c.key",
                          make_default=True) == "c.key"
    listed = {d["id"]: d for d in kms.describe(ring)}
    assert set(listed) == {first, "b-key", "c.key"}
    assert [d["id"] for d in kms.describe(ring) if d["default"]] == ["c.key"]
    assert all(d["versions"] == 1 and d["created"] > 0 for d in listed.values())
    assert "AAAA" not in json.dumps(kms.describe(ring))        # no key material at all
    assert set(listed["b-key"]) == {"id", "versions", "created", "default"}
    with pytest.raises(kms.KmsError, match="already exists"):
        kms.create_key(ring, "b-key")
    with pytest.raises(kms.InvalidKeyId):
        kms.create_key(ring, "has space")
    kms.set_default(ring, "b-key")
    assert kms.LocalKeyring(ring).default_key_id == "b-key"
    with pytest.raises(kms.KeyNotFound):
        kms.set_default(ring, "nope")


def test_keyring_file_is_private_and_rewrites_leave_a_parseable_file(ring, tmp_path):
    old = os.umask(0)                  # even a permissive umask gets an owner-only file
    try:
        kms.create_key(ring, "k")
    finally:
        os.umask(old)
    for _ in range(3):
        kms.rotate_key(ring, "k")
        assert stat.S_IMODE(os.stat(ring).st_mode) == 0o600
        doc = json.loads(open(ring).read())
        assert doc["format"] == 1 and doc["default"] == "k"
        assert all(len(base64.b64decode(v)) == 32 for v in doc["keys"]["k"]["versions"])
    assert len(doc["keys"]["k"]["versions"]) == 4
    # No temporary file is left beside it; a failed edit changes nothing.
    assert sorted(os.listdir(tmp_path)) == ["keyring.json", "keyring.json.lock"]
    before = open(ring).read()
    with pytest.raises(kms.KeyNotFound):
        kms.rotate_key(ring, "nope")
    assert open(ring).read() == before


def test_generate_decrypt_rotate_reseal(ring):
    kms.create_key(ring, "k1")
    kms.create_key(ring, "k2")
    k = kms.LocalKeyring(ring)
    assert k.key_ids() == ["k1", "k2"] and k.has("k2") and not k.has("k3")
    assert k.has("arn:aws:kms:us-east-1:000000000000:key/k2") and not k.has("bad id")
    dk = k.generate_data_key()
    assert dk.key_id == "k1" and len(dk.plaintext) == 32
    assert dk.sealed.startswith("v1:k1:1:") and dk.sealed.isascii()
    assert k.decrypt(dk.sealed) == dk.plaintext
    assert k.reseal(dk.sealed) is None                         # already the newest
    dk2 = k.generate_data_key("k2")
    assert dk2.key_id == "k2" and k.decrypt(dk2.sealed) == dk2.plaintext
    assert dk2.plaintext != dk.plaintext

    assert kms.rotate_key(ring) == 2                           # the default key, k1
    assert k.reseal(dk.sealed) is None                         # not reloaded yet
    k.reload()
    assert k.decrypt(dk.sealed) == dk.plaintext                # old version still opens
    new = k.reseal(dk.sealed)
    assert new.startswith("v1:k1:2:") and k.decrypt(new) == dk.plaintext
    assert k.reseal(new) is None
    assert k.generate_data_key().sealed.startswith("v1:k1:2:")
    assert k.reseal(dk2.sealed) is None                        # k2 was not rotated


def test_unknown_key_and_tampered_sealed_text(ring, tmp_path):
    kms.create_key(ring, "k1")
    kms.create_key(ring, "k2")
    k = kms.LocalKeyring(ring)
    with pytest.raises(kms.KeyNotFound):
        k.generate_data_key("k3")
    with pytest.raises(kms.InvalidKeyId):
        k.generate_data_key("a:b")
    dk = k.generate_data_key("k1")
    _, _, version, b64 = dk.sealed.split(":", 3)
    # Moved to another key id: does not open (the AAD binds the key id and version).
    with pytest.raises(kms.KmsError, match="does not open"):
        k.decrypt(f"v1:k2:{version}:{b64}")
    with pytest.raises(kms.KeyNotFound):
        k.decrypt(f"v1:k1:2:{b64}")                            # a version the key lacks
    with pytest.raises(kms.KeyNotFound):
        k.decrypt(f"v1:gone:1:{b64}")
    blob = bytearray(base64.b64decode(b64))
    blob[-1] ^= 1
    with pytest.raises(kms.KmsError, match="does not open"):
        k.decrypt(f"v1:k1:1:{base64.b64encode(bytes(blob)).decode()}")
    for bad in ["", "v1", "v2:k1:1:" + b64, "v1:k1:0:" + b64, "v1:k1:x:" + b64,
                "v1:k1:1:not base64!", "v1:k 1:1:" + b64]:
        with pytest.raises(kms.KmsError):
            k.decrypt(bad)
    # Another keyring holding a key of the same id cannot open it either.
    other = str(tmp_path / "other.json")
    kms.create_key(other, "k1")
    with pytest.raises(kms.KmsError, match="does not open"):
        kms.LocalKeyring(other).decrypt(dk.sealed)


def test_errors_never_show_key_material(ring):
    kms.create_key(ring, "k1")
    k = kms.LocalKeyring(ring)
    dk = k.generate_data_key()
    with pytest.raises(kms.KmsError) as e:
        k.decrypt(dk.sealed[:-8] + "AAAAAAA=")
    assert dk.sealed.split(":")[3][:20] not in str(e.value)


def test_arn_normalisation():
    assert kms.normalize_key_id("abc-1") == "abc-1"
    assert kms.normalize_key_id("arn:aws:kms:us-east-1:123456789012:key/abc-1") == "abc-1"
    assert kms.normalize_key_id("arn:aws-cn:kms:cn-north-1:1:key/x/y") == "x/y"
    assert kms.normalize_key_id("alias/my.key_2") == "alias/my.key_2"
    assert kms.normalize_key_id("k" * 256) == "k" * 256
    for bad in ["", "a:b", "a b", "k" * 257, "tab\t", "ü", "arn:aws:kms:r:1:key/",
                "arn:aws:s3:::bucket", None]:
        with pytest.raises(kms.InvalidKeyId):
            kms.normalize_key_id(bad)
    arn = kms.key_arn("abc-1")
    assert arn == "arn:aws:kms:us-east-1:000000000000:key/abc-1"
    assert kms.normalize_key_id(arn) == "abc-1"
    assert kms.key_arn("x", region="eu-west-1").startswith("arn:aws:kms:eu-west-1:")


def test_master_key_parsing():
    raw = os.urandom(32)
    assert kms.parse_master_key(base64.b64encode(raw).decode()) == raw
    assert kms.parse_master_key(raw.hex()) == raw
    assert kms.parse_master_key(raw.hex().upper() + "\n") == raw
    for bad in ["", "short", raw.hex()[:-2], base64.b64encode(raw[:16]).decode(), "g" * 64]:
        with pytest.raises(kms.KmsError, match="S3ISH_KMS_MASTER_KEY") as e:
            kms.parse_master_key(bad)
        assert bad not in str(e.value) or not bad
    with pytest.raises(kms.KmsError):
        kms.MasterKey(b"x" * 16)


def test_master_key_service():
    m = kms.MasterKey(os.urandom(32))
    assert m.default_key_id == "s3ish-master" and m.key_ids() == ["s3ish-master"]
    dk = m.generate_data_key()
    assert dk.key_id == "s3ish-master" and m.decrypt(dk.sealed) == dk.plaintext
    assert m.reseal(dk.sealed) is None
    assert m.generate_data_key("s3ish-master").key_id == "s3ish-master"
    with pytest.raises(kms.KeyNotFound):
        m.generate_data_key("other")
    with pytest.raises(kms.KmsError):
        kms.MasterKey(os.urandom(32)).decrypt(dk.sealed)     # another master key


def test_load_kms(ring):
    assert kms.load_kms(None, {}) is None
    assert kms.load_kms("", {}) is None
    m = kms.load_kms(None, {"S3ISH_KMS_MASTER_KEY": os.urandom(32).hex()})
    assert isinstance(m, kms.MasterKey)
    with pytest.raises(kms.KmsError, match="S3ISH_KMS_MASTER_KEY"):
        kms.load_kms(None, {"S3ISH_KMS_MASTER_KEY": "nope"})
    with pytest.raises(kms.KmsError, match="does not exist"):
        kms.load_kms(ring, {})
    kms.create_key(ring, "k")
    k = kms.load_kms(ring, {"S3ISH_KMS_MASTER_KEY": "ignored when a keyring is given"})
    assert isinstance(k, kms.LocalKeyring) and k.default_key_id == "k"


@pytest.mark.parametrize("text, message", [
    ("not json", "not valid JSON"),
    ('{"format": 2, "keys": {}}', "format-1"),
    ('{"format": 1, "default": "k", "keys": {"k": {"versions": []}}}', "malformed"),
    ('{"format": 1, "default": "k", "keys": {"k": {"versions": ["AAAA"]}}}', "32 bytes"),
    ('{"format": 1, "default": "x", "keys": {"k": {"versions": ["%s"]}}}'
     % base64.b64encode(bytes(32)).decode(), "default key"),
    ('{"format": 1, "default": null, "keys": {}}', "holds no keys"),
])
def test_a_bad_keyring_is_a_clear_error(ring, text, message):
    with open(ring, "w") as f:
        f.write(text)
    with pytest.raises(kms.KmsError, match=message):
        kms.LocalKeyring(ring)


def test_a_failed_reload_keeps_the_keys_in_use(ring):
    kms.create_key(ring, "k")
    k = kms.LocalKeyring(ring)
    dk = k.generate_data_key()
    with open(ring, "w") as f:
        f.write("{")
    with pytest.raises(kms.KmsError):
        k.reload()
    assert k.decrypt(dk.sealed) == dk.plaintext


def test_changes_of_the_file_are_picked_up(ring):
    kms.create_key(ring, "k")
    k = kms.LocalKeyring(ring)
    assert k.reload_if_changed() is False
    assert kms.rotate_key(ring, "k") == 2
    assert k.reload_if_changed() is True and k.reload_if_changed() is False
    assert k.generate_data_key().sealed.startswith("v1:k:2:")
    # A key or version created after the last read is found without an explicit reload.
    kms.create_key(ring, "later")
    assert k.generate_data_key("later").key_id == "later"
    kms.rotate_key(ring, "later")
    stale = k.generate_data_key("later")          # k has not looked at the file since
    assert stale.sealed.startswith("v1:later:1:")
    newer = kms.LocalKeyring(ring).reseal(stale.sealed)
    assert newer.startswith("v1:later:2:")
    assert k.decrypt(newer) == stale.plaintext     # k re-reads the file for version 2
