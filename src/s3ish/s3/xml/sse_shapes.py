"""Default bucket encryption shapes (names and fields as in botocore's S3 model):
ServerSideEncryptionConfiguration (PutBucketEncryption, GetBucketEncryption)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ServerSideEncryptionByDefault:
    SSEAlgorithm: str | None = None
    KMSMasterKeyID: str | None = None


@dataclass
class BlockedEncryptionTypes:
    EncryptionType: list[str] = field(default_factory=list)


@dataclass
class ServerSideEncryptionRule:
    ApplyServerSideEncryptionByDefault: ServerSideEncryptionByDefault | None = None
    BucketKeyEnabled: bool | None = None
    BlockedEncryptionTypes: BlockedEncryptionTypes | None = None


@dataclass
class ServerSideEncryptionConfiguration:
    Rule: list[ServerSideEncryptionRule] = field(default_factory=list)
