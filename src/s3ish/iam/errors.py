"""The one error of the policy language: a document AWS would refuse as MalformedPolicy."""


class MalformedPolicy(ValueError):
    """An invalid policy document; `message` is the text AWS puts in its error response."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
