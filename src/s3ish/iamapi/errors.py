"""IAM's errors: a code, an HTTP status and a message, rendered as IAM's ErrorResponse."""
from ..meta import iam_errors

_STATUS = {"NoSuchEntity": 404, "EntityAlreadyExists": 409, "DeleteConflict": 409,
           "LimitExceeded": 409, "ValidationError": 400, "InvalidInput": 400}


class IamError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def from_domain(exc: Exception) -> IamError | None:
    """The IAM error of an identity domain error (same name), None for any other."""
    name = type(exc).__name__
    if name in _STATUS and isinstance(exc, iam_errors.DomainError):
        return IamError(name, str(exc) or name, _STATUS[name])
    return None
