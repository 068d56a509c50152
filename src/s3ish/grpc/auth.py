"""Authenticate a gRPC call from its metadata (signing.py describes the scheme): the access
key is known, the signature matches the call (method, resource, time, nonce, payload
policy), the time is within 15 minutes of ours (as SigV4), and the signature was never seen
before (replay.py). Raises the S3 error SigV4 would (status.py maps them to gRPC codes).

`--auth none` accepts every call as the root user, as the S3 front end does. With
`--allow-header-auth`, the seed design's x-access-key / x-secret-key pair (as metadata) is a
way in too, as over HTTP (s3/auth/header_auth.py): the secret itself is the proof, so such a
call has no signature, no clock window and no replay rule; cli.py refuses the flag on a
non-loopback listener without TLS.
"""
import calendar
import hmac
import re
import time

from ..s3 import errors
from ..s3.auth import header_auth
from . import signing
from .replay import WINDOW

_DATE = re.compile(r"^\d{8}T\d{6}Z$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _unauthenticated(err: errors.S3Error) -> errors.S3Error:
    """An AccessDenied that is about who called, not what they may do: UNAUTHENTICATED."""
    err.unauthenticated = True
    return err


def _parse_date(value: str) -> float | None:
    if not _DATE.match(value):
        return None
    try:
        return float(calendar.timegm(time.strptime(value, signing.DATE_FORMAT)))
    except ValueError:
        return None


class Authenticator:
    def __init__(self, users, region: str, replay, auth_none: bool = False,
                 allow_header_auth: bool = False):
        self.users = users
        self.region = region
        self.replay = replay
        self.auth_none = auth_none
        self.allow_header_auth = allow_header_auth

    async def authenticate(self, metadata: dict, method: str, res: str, message=None):
        """The caller's Identity. `message`: a unary request (its payload hash may be signed);
        None for a stream (UNSIGNED-PAYLOAD only)."""
        if self.auth_none:
            return self.users.root
        if self.allow_header_auth and header_auth.present(metadata):
            if metadata.get(signing.SIGNATURE):
                raise errors.InvalidArgument("Only one auth mechanism allowed: a signature or "
                                             "x-access-key/x-secret-key",
                                             ArgumentName="s3ish-signature")
            return header_auth.identify(self.users, *header_auth.from_headers(metadata))
        missing = [n for n in (signing.ACCESS_KEY, signing.DATE, signing.NONCE,
                               signing.PAYLOAD, signing.SIGNATURE) if not metadata.get(n)]
        if missing:
            raise _unauthenticated(errors.AccessDenied(
                f"the call is not signed: metadata {', '.join(missing)} missing "
                "(docs/grpc.md)"))
        access_key = metadata[signing.ACCESS_KEY]
        ident = self.users.get(access_key)
        if ident is None:
            raise errors.InvalidAccessKeyId(AWSAccessKeyId=access_key)
        date = metadata[signing.DATE]
        signed_at = _parse_date(date)
        if signed_at is None:
            raise _unauthenticated(errors.AccessDenied(
                f"s3ish-date must be YYYYMMDDTHHMMSSZ, not {date!r}"))
        if abs(time.time() - signed_at) > WINDOW:
            raise errors.RequestTimeTooSkewed(RequestTime=date,
                                              MaxAllowedSkewMilliseconds="900000")
        nonce = metadata[signing.NONCE]
        if not 16 <= len(nonce) <= 128:
            raise _unauthenticated(errors.AccessDenied(
                "s3ish-nonce must have 16 to 128 characters"))
        payload = metadata[signing.PAYLOAD]
        self._check_payload(payload, message)
        expected = signing.signature(ident.secret_key, method, res, date, nonce, payload,
                                     self.region)
        provided = metadata[signing.SIGNATURE]
        if not hmac.compare_digest(expected.encode(), provided.encode()):
            raise errors.SignatureDoesNotMatch(
                "The signature does not match the call: check the secret key, the region "
                f"({self.region}), the method and the resource ({res or '(service)'})",
                AWSAccessKeyId=access_key)
        if not await self.replay.claim(provided, signed_at):
            raise _unauthenticated(errors.AccessDenied(
                "this signature was used before: every call needs a new signature (replay "
                "refused)"))
        return ident

    @staticmethod
    def _check_payload(payload: str, message) -> None:
        if payload == signing.UNSIGNED_PAYLOAD:
            return
        if message is None or not _HEX64.match(payload):
            raise errors.InvalidArgument(
                "s3ish-payload must be UNSIGNED-PAYLOAD or, for a unary request, the hex "
                "SHA-256 of its deterministic serialization", ArgumentName="s3ish-payload",
                ArgumentValue=payload)
        if not hmac.compare_digest(signing.payload_hash(message), payload):
            raise errors.SignatureDoesNotMatch("the request message does not match its signed "
                                               "SHA-256 (s3ish-payload)")
