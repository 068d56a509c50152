"""ACL and object ownership shapes (names and fields as in botocore's S3 model):
AccessControlPolicy (Get/Put Bucket/Object Acl) and OwnershipControls."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

XSI = "http://www.w3.org/2001/XMLSchema-instance"


@dataclass
class Grantee:
    """`xsi:type` CanonicalUser (ID, DisplayName), AmazonCustomerByEmail (EmailAddress) or
    Group (URI)."""
    XML_ATTRS: ClassVar[dict] = {"Type": "xsi:type"}
    XML_NAMESPACES: ClassVar[dict] = {"xsi": XSI}
    ID: str | None = None
    DisplayName: str | None = None
    EmailAddress: str | None = None
    URI: str | None = None
    Type: str | None = None


@dataclass
class Grant:
    Grantee: Grantee | None = None
    Permission: str | None = None


@dataclass
class AccessControlList:
    Grant: list[Grant] = field(default_factory=list)


@dataclass
class AclOwner:
    """The policy's <Owner> (named apart from shapes.Owner, whose ID is required)."""
    ID: str | None = None
    DisplayName: str | None = None


@dataclass
class AccessControlPolicy:
    Owner: AclOwner | None = None
    AccessControlList: AccessControlList | None = None


@dataclass
class OwnershipControlsRule:
    ObjectOwnership: str | None = None


@dataclass
class OwnershipControls:
    Rule: list[OwnershipControlsRule] = field(default_factory=list)
