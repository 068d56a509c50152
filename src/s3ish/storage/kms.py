"""Key-encryption keys behind a small interface (`Kms`): the server asks it for a fresh data key
per data unit (the plaintext to seal the unit with, storage/sealed.py, and a sealed copy to keep
in the metadata record) and, on reads, to open a sealed copy again.

Two implementations:
- `LocalKeyring(path)`: named keys with versions in a JSON file the operator manages with
  `s3ish admin kms ...` (create-key, rotate, set-default, list). Rotation adds a version; old
  versions stay, so every sealed data key stays readable, and `reseal` moves a sealed key to
  the newest version of its key;
- `MasterKey(key)`: one key given in the environment (S3ISH_KMS_MASTER_KEY), for a simple
  deployment that wants SSE-S3 without managing a file.

A sealed data key is ASCII text safe in JSON: `v1:<key id>:<version>:<base64 of the wrapped
key>`. Key ids never contain ':' or whitespace, so the text splits unambiguously. The wrap's
AAD binds the key id and version, so a sealed key copied next to another key id (or version)
does not open.

Keyring file (mode 0600, rewritten atomically: temporary file, fsync, rename, fsync folder):

    {"format": 1, "default": ID,
     "keys": {ID: {"created": EPOCH, "versions": ["<base64 of 32 bytes>", ...]}}}

newest version last, versions numbered from 1. The running server reads it at start and again
on `reload()` / `reload_if_changed()` (polled), and re-reads a changed file before it calls a key
or version unknown; operator edits are serialised by an flock on a `<path>.lock` file beside it.
"""
import base64
import binascii
import fcntl
import json
import os
import re
import time
import uuid
from contextlib import contextmanager
from typing import NamedTuple, Protocol

from ..util.files import fsync_dir
from .sealed import KEY_SIZE, SealCorrupt, new_data_key, unwrap, wrap

FORMAT = 1
SEALED_PREFIX = "v1"
MASTER_ENV = "S3ISH_KMS_MASTER_KEY"
MASTER_KEY_ID = "s3ish-master"
_KEY_ID = re.compile(r"[A-Za-z0-9._/-]{1,256}")
_ARN = re.compile(r"arn:[a-z0-9-]+:kms:[a-z0-9-]*:[0-9]*:key/(.+)")


class KmsError(Exception):
    """A key-service failure; str() is a message safe to show an operator or a client
    (never key material)."""


class KeyNotFound(KmsError):
    """A key id the key service does not hold (or a version it no longer holds)."""


class InvalidKeyId(KeyNotFound):
    """Text that is not a key id or key ARN at all."""


class DataKey(NamedTuple):
    plaintext: bytes     # the 32-byte data key: seal the unit with it, never store it
    sealed: str          # the data key wrapped under a key-encryption key: store this
    key_id: str          # the key-encryption key's id


class Kms(Protocol):
    default_key_id: str

    def has(self, key_id: str) -> bool: ...

    def generate_data_key(self, key_id: str | None = None) -> DataKey: ...

    def decrypt(self, sealed: str) -> bytes: ...

    def reseal(self, sealed: str) -> str | None: ...

    def key_ids(self) -> list[str]: ...


# --- key ids and sealed text --------------------------------------------------------------------

def normalize_key_id(text: str) -> str:
    """The key id named by `text`: a bare id, or an ARN `arn:aws:kms:REGION:ACCOUNT:key/ID`."""
    if not isinstance(text, str):
        raise InvalidKeyId("key id must be text")
    arn = _ARN.fullmatch(text)
    key_id = arn.group(1) if arn else text
    if not _KEY_ID.fullmatch(key_id):
        raise InvalidKeyId(f"invalid KMS key id {text[:300]!r}: up to 256 of A-Z a-z 0-9 . _ / -")
    return key_id


def key_arn(key_id: str, region: str = "us-east-1") -> str:
    """The ARN reported for a key id (x-amz-server-side-encryption-aws-kms-key-id)."""
    return f"arn:aws:kms:{region}:000000000000:key/{key_id}"


def _aad(key_id: str, version: int) -> bytes:
    return f"s3ish-kms-v1\0{key_id}\0{version}".encode()


def _seal(kek: bytes, key_id: str, version: int, plaintext: bytes) -> str:
    blob = wrap(kek, plaintext, _aad(key_id, version))
    return f"{SEALED_PREFIX}:{key_id}:{version}:{base64.b64encode(blob).decode()}"


def _parse_sealed(sealed: str) -> tuple[str, int, bytes]:
    """(key id, version, wrapped blob) of a sealed data key."""
    try:
        prefix, key_id, version, b64 = sealed.split(":", 3)
        if prefix != SEALED_PREFIX or not _KEY_ID.fullmatch(key_id) or \
                not version.isdigit() or int(version) < 1:
            raise ValueError
        return key_id, int(version), base64.b64decode(b64, validate=True)
    except (ValueError, AttributeError, binascii.Error):
        raise KmsError("sealed data key is malformed") from None


def _open(kek: bytes, key_id: str, version: int, blob: bytes) -> bytes:
    try:
        plaintext = unwrap(kek, blob, _aad(key_id, version))
    except SealCorrupt:
        raise KmsError(f"sealed data key does not open under key {key_id!r} "
                       f"version {version} (damaged)") from None
    if len(plaintext) != KEY_SIZE:
        raise KmsError("sealed data key has the wrong length")
    return plaintext


# --- the keyring file ---------------------------------------------------------------------------

def _decode_key(text) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError, ValueError):
        key = b""
    if len(key) != KEY_SIZE:
        raise KmsError(f"keyring holds a key version that is not {KEY_SIZE} bytes of base64")
    return key


def _read_file(path: str) -> dict:
    """The keyring document, checked; KmsError with a clear message otherwise."""
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read())
    except FileNotFoundError:
        raise KmsError(f"keyring {path} does not exist "
                       f"(create it with `s3ish admin kms create-key --keyring {path}`)") from None
    except OSError as e:
        raise KmsError(f"keyring {path} cannot be read: {e.strerror}") from None
    except ValueError:
        raise KmsError(f"keyring {path} is not valid JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or \
            not isinstance(doc.get("keys"), dict):
        raise KmsError(f"keyring {path} is not a format-{FORMAT} keyring")
    for key_id, entry in doc["keys"].items():
        if not _KEY_ID.fullmatch(key_id) or not isinstance(entry, dict) or \
                not isinstance(entry.get("versions"), list) or not entry["versions"]:
            raise KmsError(f"keyring {path}: key {key_id[:300]!r} is malformed")
        for v in entry["versions"]:
            _decode_key(v)
    if doc["keys"] and doc.get("default") not in doc["keys"]:
        raise KmsError(f"keyring {path}: the default key is not in the keyring")
    return doc


def _write_file(path: str, doc: dict) -> None:
    """Replace the keyring atomically; the file is only ever readable by its owner."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = f"{path}.tmp.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.replace(tmp, path)
    fsync_dir(folder)


@contextmanager
def _edit(path: str, create: bool = False):
    """Read-modify-write of the keyring under an exclusive lock; yields the document."""
    lock_fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        if create and not os.path.exists(path):
            doc = {"format": FORMAT, "default": None, "keys": {}}
        else:
            doc = _read_file(path)
        yield doc
        _write_file(path, doc)
    finally:
        os.close(lock_fd)


def _resolve(doc: dict, key_id: str | None) -> str:
    if key_id is None:
        if not doc["keys"]:
            raise KeyNotFound("the keyring holds no keys")
        return doc["default"]
    key_id = normalize_key_id(key_id)
    if key_id not in doc["keys"]:
        raise KeyNotFound(f"no key {key_id!r} in the keyring")
    return key_id


def _new_version() -> str:
    return base64.b64encode(new_data_key()).decode()


def create_key(path: str, key_id: str | None = None, make_default: bool = False) -> str:
    """Add a key (a new uuid4 id when none is given), creating the keyring if missing; the
    first key becomes the default. Returns the id."""
    key_id = normalize_key_id(key_id) if key_id is not None else str(uuid.uuid4())
    with _edit(path, create=True) as doc:
        if key_id in doc["keys"]:
            raise KmsError(f"key {key_id!r} already exists")
        doc["keys"][key_id] = {"created": int(time.time()), "versions": [_new_version()]}
        if make_default or not doc.get("default"):
            doc["default"] = key_id
    return key_id


def rotate_key(path: str, key_id: str | None = None) -> int:
    """Add a new version to a key (the default key when None); returns its number."""
    with _edit(path) as doc:
        versions = doc["keys"][_resolve(doc, key_id)]["versions"]
        versions.append(_new_version())
        return len(versions)


def set_default(path: str, key_id: str) -> None:
    """Make `key_id` the key used when a request names none (SSE-S3, SSE-KMS without id)."""
    with _edit(path) as doc:
        doc["default"] = _resolve(doc, key_id)


def describe(path: str) -> list[dict]:
    """Id, number of versions, creation time and default flag of every key (no key material)."""
    doc = _read_file(path)
    return [{"id": key_id, "versions": len(entry["versions"]),
             "created": entry.get("created", 0), "default": key_id == doc["default"]}
            for key_id, entry in sorted(doc["keys"].items())]


# --- the two key services -----------------------------------------------------------------------

class _Versions:
    """Shared behaviour of a key service over ({key id: [version 1, 2, ...]}, default id),
    held as one tuple so a reload swaps both at once."""

    _state: tuple[dict[str, list[bytes]], str]

    @property
    def default_key_id(self) -> str:
        return self._state[1]

    def has(self, key_id: str) -> bool:
        try:
            return normalize_key_id(key_id) in self._state[0]
        except KmsError:
            return False

    def key_ids(self) -> list[str]:
        return sorted(self._state[0])

    def _versions(self, key_id: str, version: int = 1) -> list[bytes]:
        """The versions of a key that has `version`; on a miss the source is looked at
        again once (an operator may have added the key or version a moment ago)."""
        versions = self._state[0].get(key_id)
        if versions is None or version > len(versions):
            if self._refresh():
                versions = self._state[0].get(key_id)
            if versions is None:
                raise KeyNotFound(f"KMS key {key_id!r} does not exist")
            if version > len(versions):
                raise KeyNotFound(f"KMS key {key_id!r} has no version {version}")
        return versions

    def _refresh(self) -> bool:
        """Pick up changes of the key source; True if anything was re-read."""
        return False

    def generate_data_key(self, key_id: str | None = None) -> DataKey:
        key_id = self.default_key_id if key_id is None else normalize_key_id(key_id)
        versions = self._versions(key_id)
        plaintext = new_data_key()
        return DataKey(plaintext, _seal(versions[-1], key_id, len(versions), plaintext), key_id)

    def decrypt(self, sealed: str) -> bytes:
        key_id, version, blob = _parse_sealed(sealed)
        versions = self._versions(key_id, version)
        return _open(versions[version - 1], key_id, version, blob)

    def reseal(self, sealed: str) -> str | None:
        """The sealed key re-wrapped under its key's newest version; None if it already is."""
        key_id, version, blob = _parse_sealed(sealed)
        versions = self._versions(key_id, version)
        if version == len(versions):
            return None
        plaintext = _open(versions[version - 1], key_id, version, blob)
        return _seal(versions[-1], key_id, len(versions), plaintext)


class LocalKeyring(_Versions):
    """The keys of a keyring file, read at construction and again on reload()."""

    def __init__(self, path: str):
        self.path = path
        self._seen = None
        self.reload()

    def reload(self) -> None:
        """Re-read the file (after an operator rotated or added keys). On error the keys
        held so far stay in use and KmsError is raised."""
        seen = self._identity()
        doc = _read_file(self.path)
        if not doc["keys"]:
            raise KmsError(f"keyring {self.path} holds no keys (add one with "
                           f"`s3ish admin kms create-key --keyring {self.path}`)")
        keys = {key_id: [_decode_key(v) for v in entry["versions"]]
                for key_id, entry in doc["keys"].items()}
        self._state = (keys, doc["default"])
        self._seen = seen

    def reload_if_changed(self) -> bool:
        """reload() if the file was replaced since it was last read (one stat otherwise:
        cheap enough to poll every few seconds). True if it re-read the file."""
        if self._identity() == self._seen:
            return False
        self.reload()
        return True

    def _refresh(self) -> bool:
        try:
            return self.reload_if_changed()
        except KmsError:
            return False

    def _identity(self):
        """What changes whenever the file is rewritten (always by rename: a new inode)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size


class MasterKey(_Versions):
    """One key with one version, e.g. from S3ISH_KMS_MASTER_KEY; nothing to rotate."""

    def __init__(self, key: bytes, key_id: str = MASTER_KEY_ID):
        if len(key) != KEY_SIZE:
            raise KmsError(f"a master key is {KEY_SIZE} bytes, not {len(key)}")
        key_id = normalize_key_id(key_id)
        self._state = ({key_id: [bytes(key)]}, key_id)


def parse_master_key(text: str) -> bytes:
    """32 bytes from base64 or 64 hex digits; KmsError (without the text) otherwise."""
    text = text.strip()
    if re.fullmatch(r"[0-9A-Fa-f]{64}", text):
        return bytes.fromhex(text)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_SIZE:
        raise KmsError(f"{MASTER_ENV} must be {KEY_SIZE} bytes given as base64 "
                       f"(44 characters) or as 64 hex digits")
    return key


def load_kms(keyring_path: str | None, environ) -> Kms | None:
    """The server's key service: the keyring file when given (it must exist and parse), else
    the master key from the environment when set, else None (SSE-S3/SSE-KMS refused)."""
    if keyring_path:
        return LocalKeyring(keyring_path)
    text = environ.get(MASTER_ENV)
    if text:
        return MasterKey(parse_master_key(text))
    return None
