"""What a handler receives: the request, the resolved bucket/key, the caller, the services."""
from dataclasses import dataclass, field


@dataclass
class Ctx:
    req: object            # http.asgi.Request
    svc: object            # s3.frontend.Services
    bucket: str
    key: str
    identity: object       # auth.credentials.Identity, or None when anonymous
    request_id: str
    bucket_record: object = None
    extra: dict = field(default_factory=dict)

    @property
    def owner(self) -> str:
        """Who owns what the request creates: the caller, or for an anonymous request the
        bucket's owner."""
        if self.identity is None:
            return self.bucket_record.owner if self.bucket_record is not None else ""
        return self.identity.owner_id
