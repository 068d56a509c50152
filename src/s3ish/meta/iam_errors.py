"""Domain errors of identity mutations, named as the IAM API's error codes."""
from .errors import DomainError


class NoSuchEntity(DomainError):
    pass


class EntityAlreadyExists(DomainError):
    pass


class DeleteConflict(DomainError):
    pass


class LimitExceeded(DomainError):
    pass


class ValidationError(DomainError):
    """A parameter outside its constraints (a name's characters, a path's form)."""


class InvalidInput(DomainError):
    pass
