"""Server-side encryption in the data path: which encryption a new object gets, the writer and
handle wrappers that put storage/sealed.py between the engine and the store, and the checks
of a customer's key (SSE-C).

Envelope keys. Every data unit (a simple object's unit, each multipart part) gets a random
256-bit data key of its own; its bytes are stored as sealed packages (AES-256-GCM, 64 KiB of
plaintext each, storage/sealed.py). The data key is kept only wrapped, in the unit's
`DataPart.sse_key` (and its shard headers):
- SSE-S3 (`AES256`): sealed by the KMS's default key (storage/kms.py), the KMS's text;
- SSE-KMS (`aws:kms`): sealed by the KMS key the client named (or the default one), ditto;
- SSE-C: wrapped with the customer's key (`sealed.wrap`), base64. The customer's key is never
  stored: a wrong key is found out because the unwrap fails. A multipart upload keeps a random
  secret wrapped the same way (`Upload.sse_c_check`), so each part can check its key.
A small encrypted object kept inline in its metadata record is kept sealed there the same way
(`ObjectVersion.inline` the sealed bytes, `inline_key` its wrapped data key), so the index,
the journal and the snapshots hold nothing of its plaintext; erasure coding, bitrot hashes,
healing and scrubbing all work on the sealed bytes.

Layering with compression: compress before encrypting. Writers stack as
CompressingWriter(EncryptingWriter(store writer)): the sealer seals whatever it is given (the
compressed stream when compressing). Readers stack as DecodingHandle(DecryptingHandle(store
handle)): the decrypting handle serves the stream as it was before sealing, whose size is the
part's `stored_size` when compressed, else its `size`. A ranged read decrypts only the
packages it touches.

What clients see is the plaintext's: sizes, ranges, Content-MD5 checks and additional
checksums. The ETag is the plaintext's MD5 under SSE-S3 (as AWS); under SSE-KMS and SSE-C it
must not reveal that MD5 (AWS's is not the MD5 either): it is the first 16 bytes of
HMAC-SHA256(K, plaintext MD5), hex, with K = HMAC-SHA256(the unit's data key (SSE-KMS) or the
customer's key (SSE-C), "s3ish etag key"): a key of its own, never the one that encrypts. Under
SSE-C the same bytes with the same key get the same ETag (a part sent again keeps its ETag);
without the key it says nothing.

Which encryption a new object gets: the request's headers (handlers/sse_headers.py parses them
into `Encryption`), else the bucket's default encryption (SSE-C is never a default), else
none. SSE-S3 and SSE-KMS need a KMS (`--kms-keyring` / S3ISH_KMS_MASTER_KEY): without one such
a write is refused, never stored in clear.
"""
import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from ..meta import records as r
from ..storage import sealed
from ..storage.kms import KmsError, key_arn, normalize_key_id  # noqa: F401  (key_arn re-exported)
from ..util.threads import run_io
from . import compress, errors

SSE_S3, SSE_KMS, SSE_C = "AES256", "aws:kms", "SSE-C"
# Wrap AADs of what is wrapped with a customer's key: a unit's data key, an upload's check.
_UNIT_AAD = b"s3ish sse-c data key"
_CHECK_AAD = b"s3ish sse-c upload check"
_ETAG_KEY = b"s3ish etag key"


# ---- domain errors (s3/errors.py maps each to AWS's) ----

class KmsNotConfigured(errors.DomainError):
    """SSE-S3 / SSE-KMS asked of a server started without a KMS."""


class KmsKeyNotFound(errors.DomainError):
    """SSE-KMS with a key id the KMS does not have."""


class BucketKeyNotApplicable(errors.DomainError):
    """x-amz-server-side-encryption-bucket-key-enabled: true on a write that is not SSE-KMS."""


class SseCustomerKeyRequired(errors.DomainError):
    """An SSE-C object read (or copied) without its key."""


class SseNotApplicable(errors.DomainError):
    """A customer key given for an object (or upload) that is not SSE-C."""


class SseCustomerKeyMismatch(errors.DomainError):
    """An SSE-C object read with another key."""


class SseUploadKeyRequired(errors.DomainError):
    """A part of an SSE-C upload sent without the key."""


class SseUploadKeyMismatch(errors.DomainError):
    """A part of an SSE-C upload sent with another key."""


class SseKeyUnavailable(IOError):
    """A stored data key cannot be unsealed by the KMS (a key missing from the keyring, no
    KMS configured): an operator's problem, answered 500 and logged with the key id."""


# ---- what a write asks for, and what it gets ----

@dataclass(frozen=True)
class CustomerKey:
    key: bytes                # 32 bytes (checked with its MD5 by the front end)
    md5: str                  # base64 MD5 of the key as the client sent it (echoed back)


@dataclass
class Encryption:
    """The encryption a write's request asks for (PutSpec.sse)."""
    mode: str = ""            # "" (none said: the bucket default applies), AES256, aws:kms
    kms_key_id: str = ""      # aws:kms: as the client named it (bare id or ARN); "": default
    context: str = ""         # aws:kms: x-amz-server-side-encryption-context as sent
    bucket_key: bool | None = None    # None: not said (the bucket default's applies)
    customer: CustomerKey | None = None   # SSE-C


@dataclass
class Applied:
    """The encryption a new object or upload gets (fields of ObjectVersion and Upload)."""
    sse: str = ""
    sse_kms_key_id: str = ""
    sse_context: str = ""
    sse_bucket_key: bool = False

    def fields(self) -> dict:
        return {"sse": self.sse, "sse_kms_key_id": self.sse_kms_key_id,
                "sse_context": self.sse_context, "sse_bucket_key": self.sse_bucket_key}


def applied_of(record) -> Applied:
    """The encryption of a version or an upload record."""
    return Applied(record.sse, record.sse_kms_key_id, record.sse_context,
                   record.sse_bucket_key)


def resolve(kms, bucket: r.Bucket, asked: Encryption | None) -> Applied:
    """What a new object of `bucket` gets for a request asking `asked`. Raises the domain
    error AWS's answer is for: no KMS, a key id the KMS lacks, a bucket key off SSE-KMS."""
    asked = asked or Encryption()
    default = bucket.encryption
    if asked.customer is not None:
        out = Applied(SSE_C)
    elif asked.mode:
        out = Applied(asked.mode, asked.kms_key_id if asked.mode == SSE_KMS else "",
                      asked.context)
    elif default is not None:
        out = Applied(default.algorithm, default.kms_key_id if default.algorithm == SSE_KMS
                      else "")
    else:
        out = Applied()
    bucket_key = asked.bucket_key
    if bucket_key is None:
        bucket_key = default is not None and default.bucket_key and not asked.customer
    if bucket_key and out.sse != SSE_KMS:
        if asked.bucket_key:
            raise BucketKeyNotApplicable(out.sse or "none")
        bucket_key = False        # the bucket's setting is about SSE-KMS objects only
    out.sse_bucket_key = bool(bucket_key)
    if out.sse in (SSE_S3, SSE_KMS):
        if kms is None:
            raise KmsNotConfigured(out.sse)
        if out.sse == SSE_KMS:
            out.sse_kms_key_id = kms_key(kms, out.sse_kms_key_id)
    return out


def kms_key(kms, named: str) -> str:
    """The bare id of the KMS key a client named ("": the default), checked to exist."""
    if not named:
        return kms.default_key_id
    try:
        key_id = normalize_key_id(named)
    except (KmsError, ValueError):
        raise KmsKeyNotFound(named) from None
    if not kms.has(key_id):
        raise KmsKeyNotFound(named)
    return key_id


def check_bucket_default(kms, config: r.EncryptionConfig | None) -> None:
    """A default encryption this server can apply (PutBucketEncryption)."""
    if config is None:
        return
    if kms is None:
        raise KmsNotConfigured(config.algorithm)
    if config.algorithm == SSE_KMS:
        kms_key(kms, config.kms_key_id)


# ---- writes ----

class Sealer:
    """Makes each new data unit's key: a random data key and its wrapped form."""

    def __init__(self, kms, applied: Applied, customer: CustomerKey | None = None):
        self.kms = kms
        self.applied = applied
        self.customer = customer

    def new_unit(self) -> tuple[bytes, str, bytes | None]:
        """(data key, wrapped form for DataPart.sse_key, the key of the unit's ETag: None
        for the plaintext's MD5). Blocking (a KMS call)."""
        if self.applied.sse == SSE_C:
            key = sealed.new_data_key()
            return key, _b64(sealed.wrap(self.customer.key, key, _UNIT_AAD)), \
                self.customer.key
        dk = self.kms.generate_data_key(self.applied.sse_kms_key_id or None)
        # SSE-S3's ETag is the plaintext's MD5 (as AWS); SSE-KMS's must not reveal it.
        return dk.plaintext, dk.sealed, dk.plaintext if self.applied.sse == SSE_KMS else None


def sealer_for(kms, applied: Applied, customer: CustomerKey | None = None) -> Sealer | None:
    return Sealer(kms, applied, customer) if applied.sse else None


def upload_check(customer: CustomerKey) -> str:
    """Upload.sse_c_check for an SSE-C upload created with `customer`'s key."""
    return _b64(sealed.wrap(customer.key, os.urandom(32), _CHECK_AAD))


def part_sealer(kms, upload: r.Upload, customer: CustomerKey | None) -> Sealer | None:
    """The sealer of a new part of `upload`, after checking the part's customer key: an
    SSE-C upload's parts come with its key, other uploads' with none."""
    check_upload_key(upload, customer, required=True)
    if upload.sse in (SSE_S3, SSE_KMS) and kms is None:
        raise KmsNotConfigured(upload.sse)
    return sealer_for(kms, applied_of(upload), customer)


def check_upload_key(upload: r.Upload, customer: CustomerKey | None,
                     required: bool) -> None:
    """The customer key a request on an upload gives (None: none given)."""
    if upload.sse != SSE_C:
        if customer is not None:
            raise SseNotApplicable(upload.upload_id)
        return
    if customer is None:
        if required:
            raise SseUploadKeyRequired(upload.upload_id)
        return
    try:
        sealed.unwrap(customer.key, _unb64(upload.sse_c_check), _CHECK_AAD)
    except sealed.SealCorrupt:
        raise SseUploadKeyMismatch(upload.upload_id) from None


async def open_writer(data, describe, small: bool, compressing, sealer: Sealer | None):
    """A new data unit's writer: sealing if `sealer`, compressing (above the sealing) if
    `await compressing()` says so (a falsy `compressing`: never)."""
    writer = await run_io(data.writer, describe, small)
    if sealer is not None:
        try:
            key, wrapped, etag_key = await run_io(sealer.new_unit)
        except BaseException:
            await run_io(writer.abort)
            raise
        writer = EncryptingWriter(writer, key, wrapped, etag_key)
    if compressing and await compressing():
        writer = compress.CompressingWriter(writer)
    return writer


class EncryptingWriter:
    """A DataWriter that seals what is written through it into the wrapped writer, under the
    unit's data key. Blocking, like the writer it wraps (called from worker threads)."""

    def __init__(self, inner, data_key: bytes, sse_key: str, etag_key: bytes | None):
        self.inner = inner
        self.data_id = inner.data_id
        self.sse_key = sse_key
        self.etag_key = etag_key
        self._sealing = sealed.SealingWriter(inner.write, data_key)

    def write(self, block) -> None:
        self._sealing.write(block)

    def commit(self, completion: dict | None = None) -> None:
        self._sealing.finish()
        if completion is not None:     # shard headers: what a rebuild needs to read it back
            completion = {**completion, **self.part_fields()}
        self.inner.commit(completion)

    def abort(self) -> None:
        self.inner.abort()

    def part_fields(self) -> dict:
        return {"sse_key": self.sse_key}


def _encrypting(writer) -> EncryptingWriter | None:
    while writer is not None and not isinstance(writer, EncryptingWriter):
        writer = getattr(writer, "inner", None)
    return writer


def part_fields(writer) -> dict:
    """The DataPart fields saying how `writer`'s unit is stored (compressed, sealed)."""
    enc = _encrypting(writer)
    return {**compress.part_fields(writer), **(enc.part_fields() if enc else {})}


def unit_etag(writer, md5: bytes) -> str:
    """The ETag clients see for a unit written through `writer` with plaintext MD5 `md5`."""
    enc = _encrypting(writer)
    return _etag(enc.etag_key if enc is not None else None, md5)


def _etag(etag_key: bytes | None, md5: bytes) -> str:
    if etag_key is None:
        return md5.hex()
    key = hmac.new(etag_key, _ETAG_KEY, hashlib.sha256).digest()
    return hmac.new(key, md5, hashlib.sha256).digest()[:16].hex()


def seal_inline(sealer: Sealer, plain: bytes, md5: bytes) -> tuple[bytes, str, str]:
    """A small body kept in its record, sealed like a unit under a data key of its own:
    (sealed bytes, wrapped key for ObjectVersion.inline_key, ETag). Blocking (a KMS call)."""
    key, wrapped, etag_key = sealer.new_unit()
    out = []
    writer = sealed.SealingWriter(out.append, key)
    writer.write(plain)
    writer.finish()
    return b"".join(out), wrapped, _etag(etag_key, md5)


# ---- reads ----

def check_read(v: r.ObjectVersion, customer: CustomerKey | None) -> None:
    """A read (GET, HEAD, a copy's source) of `v` with the customer key `customer` (None:
    none given): an SSE-C object needs its key, any other object takes none. The key is
    checked against the object's first unit without reading any data."""
    if v.sse != SSE_C:
        if customer is not None:
            raise SseNotApplicable(v.key)
        return
    if customer is None:
        raise SseCustomerKeyRequired(v.key)
    if v.parts:
        _unwrap_customer(customer, v.parts[0], v.key)
    elif v.inline_key:
        _unwrap_customer(customer, _inline_unit(v), v.key)


def _inline_unit(v: r.ObjectVersion) -> r.DataPart:
    """The inline bytes of an encrypted version, described as the unit they stand for."""
    return r.DataPart(r.ResealedKey.INLINE, v.size, v.etag, sse_key=v.inline_key)


def read_inline(v: r.ObjectVersion, keys: "Unsealer", start: int, end: int) -> bytes:
    """Plaintext bytes [start, end] of an encrypted version kept inline. Blocking."""
    sealed_bytes = v.inline
    reader = sealed.SealedReader(lambda at, n: sealed_bytes[at: at + n],
                                 keys.data_key(_inline_unit(v)), v.size,
                                 stored_size=len(sealed_bytes))
    return bytes(reader.read(start, end - start + 1))


def _unwrap_customer(customer: CustomerKey, part: r.DataPart, key: str) -> bytes:
    try:
        return sealed.unwrap(customer.key, _unb64(part.sse_key), _UNIT_AAD)
    except sealed.SealCorrupt:
        raise SseCustomerKeyMismatch(key) from None


class Unsealer:
    """The data keys of one version's units, for a read (blocking: KMS calls)."""

    def __init__(self, kms, v: r.ObjectVersion, customer: CustomerKey | None):
        self.kms = kms
        self.v = v
        self.customer = customer

    def data_key(self, part: r.DataPart) -> bytes:
        if self.v.sse == SSE_C:
            if self.customer is None:
                raise SseCustomerKeyRequired(self.v.key)
            return _unwrap_customer(self.customer, part, self.v.key)
        where = (f"data unit {part.data_id} of {self.v.bucket}/{self.v.key} "
                 f"({self.v.sse}, KMS key {self.v.sse_kms_key_id or 'default'})")
        if self.kms is None:
            raise SseKeyUnavailable(f"{where}: no KMS configured (start the server with "
                                    "--kms-keyring or S3ISH_KMS_MASTER_KEY)")
        try:
            return self.kms.decrypt(part.sse_key)
        except KmsError as e:
            raise SseKeyUnavailable(f"{where}: the KMS cannot unseal its data key: {e}") \
                from e


class DecryptingHandle:
    """A DataHandle of a sealed unit that reads the bytes as they were before sealing
    (`plain_size` of them), decrypting only the packages a read touches."""

    def __init__(self, inner, data_key: bytes, plain_size: int):
        self.inner = inner
        self._reader = sealed.SealedReader(inner.read_at, data_key, plain_size)

    def read_at(self, offset: int, n: int) -> bytes:
        return self._reader.read(offset, n)

    def close(self) -> None:
        self.inner.close()


def open_unit(data, part: r.DataPart, keys: Unsealer | None):
    """Open a part's data unit for plaintext reads, whatever its stored form (blocking)."""
    handle = data.open(part.data_id)
    if part.sse_key:
        try:
            if keys is None:
                raise SseKeyUnavailable(f"data unit {part.data_id} is sealed, no key given")
            plain = part.stored_size if part.compression else part.size
            handle = DecryptingHandle(handle, keys.data_key(part), plain)
        except BaseException:
            handle.close()
            raise
    return compress.decoding(handle, part)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise sealed.SealCorrupt("wrapped key is not base64") from None
