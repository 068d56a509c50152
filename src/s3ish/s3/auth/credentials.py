"""Identities: who signed a request. The root user comes from the environment, more users
from an auth file of `ACCESS_KEY:SECRET_KEY[:DISPLAY_NAME[:EMAIL]]` lines and the IAM API;
the server keeps them in the metadata store (users.py). Every user is its own owner."""
import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    access_key: str
    secret_key: str
    display_name: str
    email: str = ""           # ACL grants may name a user by email
    user_id: str = ""         # the canonical id; "" means derived from the access key
    name: str = ""            # the IAM user name; "" means the display name
    is_root: bool = False
    # The user's compiled identity policies (iam.policy.Policy): inline, attached, groups'.
    policies: tuple = field(default=(), compare=False)

    @property
    def owner_id(self) -> str:
        """A stable 64-hex canonical user id, like AWS's. Users from before the metadata
        store kept users had the hash of their first access key; they keep it."""
        return self.user_id or legacy_owner_id(self.access_key)

    @property
    def user_name(self) -> str:
        return self.name or self.display_name


def legacy_owner_id(access_key: str) -> str:
    return hashlib.sha256(("s3ish:" + access_key).encode()).hexdigest()


class Users:
    """Identities by access key, canonical id and email: a fixed set (tests, `--auth none`
    without a store); the server uses StoreUsers (users.py), backed by the metadata store."""

    def __init__(self, identities: list[Identity], root: Identity | None = None):
        self._set(identities, root)

    def _set(self, identities: list[Identity], root: Identity | None,
             owners: list[Identity] = ()) -> None:
        """Replace the whole view at once (readers see the old one or the new one).
        `owners`: users without an active key, still known by id and email."""
        by_key = {i.access_key: i for i in identities}
        by_owner = {i.owner_id: i for i in (*owners, *identities)}
        by_email = {i.email.lower(): i for i in (*owners, *identities) if i.email}
        # The user `--auth none` acts as: the root user, or a stand-in when there is none.
        root = root or Identity("root", "", "root", is_root=True)
        by_owner.setdefault(root.owner_id, root)
        self._by_key, self._by_owner, self._by_email, self.root = (by_key, by_owner,
                                                                   by_email, root)

    def get(self, access_key: str) -> Identity | None:
        return self._by_key.get(access_key)

    def by_owner(self, owner_id: str) -> Identity | None:
        return self._by_owner.get(owner_id)

    def by_email(self, email: str) -> Identity | None:
        return self._by_email.get(email.lower())

    @classmethod
    def load(cls, root: tuple[str, str] | None, auth_file: str | None) -> "Users":
        ids = []
        root_ident = Identity(root[0], root[1], root[0], is_root=True) if root else None
        if root_ident:
            ids.append(root_ident)
        if auth_file:
            ids += [Identity(*line) for line in read_auth_file(auth_file)]
        return cls(ids, root_ident)


def read_auth_file(path: str) -> list[tuple[str, str, str, str]]:
    """(access key, secret, display name, email) of each line; ValueError names a bad line."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split(":")
            if len(fields) not in (2, 3, 4) or not fields[0] or not fields[1]:
                raise ValueError(f"{path}:{n}: expected ACCESS_KEY:SECRET_KEY"
                                 "[:DISPLAY_NAME[:EMAIL]]")
            name = fields[2] if len(fields) > 2 and fields[2] else fields[0]
            out.append((fields[0], fields[1], name, fields[3] if len(fields) == 4 else ""))
    return out
