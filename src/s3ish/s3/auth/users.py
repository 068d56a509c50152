"""The users a worker authenticates against, from the metadata store.

Every worker process keeps the whole identity view in memory (Users' dictionaries), so
`get(access_key)` on the request path is a dictionary lookup. The view is rebuilt, off the
request path, when the store's identity generation moves (every identity mutation bumps it):
each worker polls the generation every POLL seconds (a one-row read), and the worker that
made a change through the IAM API rebuilds before it answers. So a disabled or deleted key
stops authenticating in every worker within about POLL seconds plus one rebuild.

At start-up the root user (S3ISH_ROOT_USER / S3ISH_ROOT_PASSWORD) and the auth file's users
are imported into the store (engine/iam.py: idempotent, a changed secret updates the key).
"""
import asyncio
import logging

from ...engine.errors import DomainError
from ...iam import policy as iam_policy
from ...util.threads import run_io
from .credentials import Identity, Users, legacy_owner_id, read_auth_file

log = logging.getLogger("s3ish.iam")

POLL = 0.1              # seconds between two looks at the identity generation
_MAX_STORED_DOC = 1 << 20     # stored documents were checked when put: never refused here


class StoreUsers(Users):
    def __init__(self, identities):
        super().__init__([])
        self.identities = identities        # engine.iam.Identities
        self.generation = -1
        self._compiled: dict[str, object] = {}     # document text -> compiled Policy
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()

    async def start(self, root: tuple[str, str] | None, auth_file: str | None,
                    import_keys: bool = True) -> None:
        """Import root and the auth file's users (unless `import_keys` is false: a
        read-only follower holds its writer's), then load the view."""
        if root and import_keys:
            await self._import(root[0], root[1], root[0], "", "env")
        if auth_file and import_keys:
            lines = await run_io(read_auth_file, auth_file)
            for access_key, secret, display, email in lines:
                await self._import(access_key, secret, display, email, "auth-file")
        await self.refresh()

    async def _import(self, access_key, secret, display, email, source) -> None:
        try:
            await self.identities.import_key(access_key, secret, legacy_owner_id(access_key),
                                             display, display, email, source)
        except DomainError as e:
            log.error("key %s (%s) not imported: %s", access_key, source, e)

    async def watch(self) -> None:
        """Poll the generation until `stop`; rebuild the view when it moved."""
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), POLL)
                return
            except asyncio.TimeoutError:
                pass
            try:
                if await self.identities.generation() != self.generation:
                    await self.refresh()
            except Exception:  # a failed look is retried at the next poll
                log.exception("identity refresh failed")

    def stop(self) -> None:
        """End `watch` after its current look. Shutdown awaits that rather than cancelling:
        a cancelled await leaves its store read running in a thread, which would race the
        store's close (and can crash the interpreter inside SQLite)."""
        self._stopping.set()

    async def refresh(self) -> None:
        async with self._lock:
            snap = await self.identities.snapshot()
            if snap["gen"] == self.generation:
                return
            view = await run_io(self._build, snap)
            self._set(*view)
            self.generation = snap["gen"]

    def _build(self, snap: dict) -> tuple[list[Identity], Identity | None, list[Identity]]:
        """(an Identity per active key, root's, one per user without an active key)."""
        used: dict[str, object] = {}
        policies = {u.user_id: self._policies(snap, u.user_id, used) for u in snap["users"]}
        self._compiled = used       # documents no longer in use are forgotten
        users = {u.user_id: u for u in snap["users"]}
        keyed, root = [], None
        for k in sorted(snap["keys"], key=lambda k: (k.source != "env", k.created)):
            u = users.get(k.user_id)
            if u is None or k.status != "Active":
                continue
            ident = _identity(u, k.access_key, k.secret, policies[u.user_id])
            keyed.append(ident)
            if u.root and root is None:
                root = ident
        with_key = {i.user_id for i in keyed}
        owners = [_identity(u, "", "", policies[u.user_id]) for u in snap["users"]
                  if u.user_id not in with_key]
        return keyed, root, owners

    def _policies(self, snap: dict, user_id: str, used: dict) -> tuple:
        """The user's inline and attached policies, and those of its groups."""
        docs = []
        for entity in (user_id, *snap["members"].get(user_id, [])):
            docs += snap["inline"].get(entity, {}).values()
            docs += [snap["policies"][n].document for n in snap["attached"].get(entity, [])
                     if n in snap["policies"]]
        out = []
        for doc in docs:
            compiled = self._compiled.get(doc)
            if compiled is None:
                try:
                    compiled = iam_policy.parse(doc, kind="identity", max_size=_MAX_STORED_DOC)
                except iam_policy.MalformedPolicy as e:
                    log.error("a stored identity policy of user %s does not compile: %s",
                              user_id, e.message)
                    continue
            used[doc] = compiled
            out.append(compiled)
        return tuple(out)


def _identity(u, access_key: str, secret: str, policies: tuple) -> Identity:
    return Identity(access_key, secret, u.display_name or u.name, u.email, u.user_id, u.name,
                    u.root, policies)
