"""How the cold tier's remote fails, classified for the workers that retry.

Every failure of `tier.remote` is a `RemoteError`; `retryable` says whether asking again later
can succeed (the remote is down, slow, overloaded, cut a transfer or received a damaged body:
5xx, 429, SlowDown, RequestTimeout, BadDigest, timeouts, connection errors) or not (any other 4xx: bad credentials, a missing
bucket, a malformed request: an operator must act). Two outcomes callers branch on get their own
class: `NotFound` (no such key) and `PreconditionFailed` (a conditional write lost: 412, or 409
ConditionalRequestConflict when another conditional write raced it).
"""

# Error codes that mean "try again" whatever their HTTP status (S3 sends RequestTimeout as a
# 400, OperationAborted as a 409). BadDigest and XAmzContentSHA256Mismatch (400) say the body
# arrived other than it was sent (Content-MD5, SHA-256 or the CRC32C trailer): damaged on the
# way, so sending it again is the cure; nothing was stored.
RETRYABLE_CODES = frozenset({"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout",
                             "OperationAborted", "Throttling", "ThrottlingException",
                             "RequestLimitExceeded", "TooManyRequests", "BadDigest",
                             "XAmzContentSHA256Mismatch"})
PRECONDITION_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


class RemoteError(Exception):
    """A remote operation failed. `status` is the HTTP status (0: none arrived), `code` the S3
    error code ('' when unknown), `retryable` whether retrying later may succeed."""

    def __init__(self, op: str, key: str, message: str, *, retryable: bool, status: int = 0,
                 code: str = ""):
        where = f"{op} {key!r}" if key else op
        detail = f"HTTP {status} {code}".rstrip() if status else ""
        super().__init__(f"{where}: {detail + ': ' if detail else ''}{message}")
        self.op, self.key = op, key
        self.status, self.code = status, code
        self.retryable = retryable


class NotFound(RemoteError):
    """The key does not exist (404 NoSuchKey)."""

    def __init__(self, op: str, key: str, message: str = "no such key", status: int = 404,
                 code: str = "NoSuchKey"):
        super().__init__(op, key, message, retryable=False, status=status, code=code)


class PreconditionFailed(RemoteError):
    """A conditional write did not happen: If-None-Match found the key, If-Match found another
    ETag (412), or a concurrent conditional write on the same key won (409)."""

    def __init__(self, op: str, key: str, message: str, status: int, code: str):
        super().__init__(op, key, message, retryable=False, status=status, code=code)


def from_response(op: str, key: str, status: int, code: str, message: str) -> RemoteError:
    """The exception for an S3 error response."""
    if status == 412 or code in PRECONDITION_CODES:
        return PreconditionFailed(op, key, message, status, code or "PreconditionFailed")
    if status == 404 and code in ("", "NoSuchKey", "NotFound"):
        return NotFound(op, key, message or "no such key", status, code or "NoSuchKey")
    retryable = status >= 500 or status == 429 or code in RETRYABLE_CODES
    return RemoteError(op, key, message, retryable=retryable, status=status, code=code)


def transport(op: str, key: str, message: str) -> RemoteError:
    """A connection refused, reset or cut, or a timeout: always worth retrying."""
    return RemoteError(op, key, message, retryable=True)
