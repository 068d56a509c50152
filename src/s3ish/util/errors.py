"""Failure kinds lower layers share so upper layers can tell them apart without importing
each other."""


class QuorumError(OSError):
    """Too few drives took (or can serve) an operation: refused cleanly, nothing half-done."""
