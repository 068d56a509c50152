"""Value types the engine takes and returns."""
from dataclasses import dataclass, field


@dataclass
class PutSpec:
    """What a writer says about a new object, besides its bytes."""
    owner: str
    content_type: str = "binary/octet-stream"
    headers: dict = field(default_factory=dict)
    user_meta: dict = field(default_factory=dict)
    storage_class: str = "STANDARD"
    checksum_algorithm: str = ""      # one of util.checksums.ALGORITHMS, or ""
    checksum_type: str = ""
    tags: dict = field(default_factory=dict)
    lock_mode: str = ""               # object lock retention asked for this object
    lock_until: float = 0.0
    legal_hold: bool | None = None    # None: no legal hold asked (neither ON nor OFF)
    acl: list | None = None           # stored form (engine/acl.py); None: private
    sse: object = None                # sse.Encryption the request asks for (None: none)


@dataclass
class Digests:
    """What the engine computed over a body as it streamed."""
    size: int
    md5: bytes
    checksum: bytes | None      # of PutSpec.checksum_algorithm, if one was asked
    mtime: float = 0.0          # when the data was committed (the version's time)


@dataclass
class ListResult:
    contents: list            # ListedObject rows
    common_prefixes: list[str]
    is_truncated: bool
    next_marker: str          # the last key or prefix returned (marker for the next page)


@dataclass
class UploadListing:
    uploads: list             # records.Upload
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str
    next_upload_id_marker: str
