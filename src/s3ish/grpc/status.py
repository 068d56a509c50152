"""The error model of the gRPC front end: every failure is an S3 error first (the S3 front
end's classes, so both interfaces name a failure alike), then a gRPC status code chosen from
it, with the S3 code in trailing metadata `s3-error-code` and the message as the status
details. Unknown failures are INTERNAL with code InternalError (logged with their traceback);
a client never sees a traceback.
"""
import grpc

from ..engine.errors import DomainError
from ..s3 import errors

C = grpc.StatusCode
ERROR_CODE = "s3-error-code"
REQUEST_ID = "s3ish-request-id"

# By S3 code first (codes whose HTTP status alone would mislead), then by HTTP status.
_BY_CODE = {
    "NoSuchKey": C.NOT_FOUND, "NoSuchBucket": C.NOT_FOUND, "NoSuchVersion": C.NOT_FOUND,
    "NoSuchUpload": C.NOT_FOUND,
    "AccessDenied": C.PERMISSION_DENIED,
    "SignatureDoesNotMatch": C.UNAUTHENTICATED, "InvalidAccessKeyId": C.UNAUTHENTICATED,
    "RequestTimeTooSkewed": C.UNAUTHENTICATED,
    "PreconditionFailed": C.FAILED_PRECONDITION, "BucketNotEmpty": C.FAILED_PRECONDITION,
    "InvalidBucketState": C.FAILED_PRECONDITION, "ObjectLocked": C.FAILED_PRECONDITION,
    "BucketAlreadyExists": C.ALREADY_EXISTS, "BucketAlreadyOwnedByYou": C.ALREADY_EXISTS,
    "InvalidRange": C.OUT_OF_RANGE,
    "MethodNotAllowed": C.FAILED_PRECONDITION,      # e.g. reading a delete marker by its id
    "EntityTooLarge": C.INVALID_ARGUMENT,
    "ServiceUnavailable": C.UNAVAILABLE, "RequestTimeout": C.DEADLINE_EXCEEDED,
    "NotImplemented": C.UNIMPLEMENTED, "InternalError": C.INTERNAL,
}
_BY_STATUS = {400: C.INVALID_ARGUMENT, 403: C.PERMISSION_DENIED, 404: C.NOT_FOUND,
              409: C.FAILED_PRECONDITION, 412: C.FAILED_PRECONDITION, 416: C.OUT_OF_RANGE,
              501: C.UNIMPLEMENTED, 503: C.UNAVAILABLE}


def s3_error(exc: BaseException) -> errors.S3Error | None:
    """The S3 error a failure is (None: an unexpected one, an InternalError)."""
    if isinstance(exc, errors.S3Error):
        return exc
    if isinstance(exc, DomainError):
        err = errors.from_domain(exc)
        if err is not None and str(exc) and err.code in ("NoSuchKey", "NoSuchBucket",
                                                          "NoSuchUpload", "NoSuchVersion"):
            err.message = f"{err.message} ({exc})"
        return err
    return None


def code_of(err: errors.S3Error) -> grpc.StatusCode:
    if getattr(err, "unauthenticated", False):    # auth.py: who called is not established
        return C.UNAUTHENTICATED
    return _BY_CODE.get(err.code) or _BY_STATUS.get(err.status) or C.INTERNAL
