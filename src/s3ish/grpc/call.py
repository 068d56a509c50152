"""One gRPC call's pipeline, as the S3 front end's: request id -> authenticate (auth.py) ->
authorize (access.py) -> operation -> engine; every failure becomes an S3 error and then a
gRPC status (status.py); one access-log line and the request metrics per call (operation
labels are `grpc.<Method>`, so both interfaces show side by side).
"""
import contextlib
import functools
import logging
import time

from ..obs import logging as obs_log
from ..obs import metrics
from ..s3 import errors
from ..util.ids import request_id
from . import access, signing, status

log = logging.getLogger("s3ish.grpc")
access_log = logging.getLogger("s3ish.access")
SERVICE = "/s3ish.v1.Storage/"


class Call:
    """What a handler knows of its call."""
    __slots__ = ("name", "context", "rid", "metadata", "ctx", "started", "bytes_in",
                 "bytes_out", "bucket", "key")

    def __init__(self, name: str, context):
        self.name = name
        self.context = context
        self.rid = request_id()
        self.metadata = {k: v for k, v in (context.invocation_metadata() or ())
                         if isinstance(v, str)}
        self.ctx = None
        self.started = time.monotonic()
        self.bytes_in = self.bytes_out = 0
        self.bucket = self.key = ""

    @property
    def method(self) -> str:
        return SERVICE + self.name


async def admit(front, call: Call, bucket: str = "", key: str = "", message=None):
    """Authenticate the call for bucket/key (`message`: a unary request, whose payload hash
    may be signed); sets call.ctx for the authorize step."""
    call.bucket, call.key = bucket, key
    identity = await front.auth.authenticate(call.metadata, call.method,
                                             signing.resource(bucket, key), message)
    req = access.CallRequest(access.peer_address(call.context.peer() or ""), front.tls,
                             call.metadata.get("user-agent", ""))
    call.ctx = access.context(front.svc, identity, req, call.rid)
    return call.ctx


async def _fail(call: Call, exc: BaseException):
    err = status.s3_error(exc)
    if err is None:
        log.exception("%s internal error in %s", call.rid, call.name)
        err = errors.InternalError()
    code = status.code_of(err)
    call.context.set_trailing_metadata(((status.ERROR_CODE, err.code),
                                        (status.REQUEST_ID, call.rid)))
    _observe(call, err.code, code.name)
    await call.context.abort(code, f"{err.code}: {err.message}")


def _observe(call: Call, error: str, code: str = "OK") -> None:
    op = "grpc." + call.name
    seconds = time.monotonic() - call.started
    http_like = 200 if code == "OK" else 500 if code in ("INTERNAL", "UNKNOWN") else 400
    metrics.REQUESTS.labels(op, metrics.status_class(http_like)).inc()
    metrics.LATENCY.labels(op).observe(seconds)
    if call.bytes_in:
        metrics.BYTES_IN.labels(op).inc(call.bytes_in)
    if call.bytes_out:
        metrics.BYTES_OUT.labels(op).inc(call.bytes_out)
    if error:
        metrics.ERRORS.labels(op, error).inc()
    ident = call.ctx.identity if call.ctx is not None else None
    user = ident.access_key if ident is not None else "-"
    access_log.info("%s %s GRPC %s %s %s in=%d out=%d %.1fms", user, op, call.bucket + "/" +
                    call.key, code, error or "-", call.bytes_in, call.bytes_out,
                    seconds * 1000,
                    extra={"operation": op, "method": "GRPC", "bucket": call.bucket,
                           "key": call.key, "status": code, "bytes_in": call.bytes_in,
                           "bytes_out": call.bytes_out, "duration_ms": round(seconds * 1000, 3),
                           "user": user, "error": error or None})


def unary(fn):
    """A handler `fn(self, call, request_or_iterator)` answering one message."""
    @functools.wraps(fn)
    async def handler(self, request, context):
        async with _answering(fn.__name__, context) as call:
            return await fn(self, call, request)
    return handler


def streaming(fn):
    """A handler `fn(self, call, request)` that is an async generator of responses."""
    @functools.wraps(fn)
    async def handler(self, request, context):
        async with _answering(fn.__name__, context) as call:
            async for response in fn(self, call, request):
                yield response
    return handler


@contextlib.asynccontextmanager
async def _answering(method: str, context):
    """One call's request id, in-flight gauge, error answer (_fail aborts the call with the
    mapped status), trailing metadata and access log line, for either kind of handler."""
    call = Call(method, context)
    obs_log.request_id.set(call.rid)
    metrics.IN_FLIGHT.inc()
    try:
        yield call
    except Exception as exc:
        if _aborted(exc):
            raise
        await _fail(call, exc)
    finally:
        metrics.IN_FLIGHT.dec()
    context.set_trailing_metadata(((status.REQUEST_ID, call.rid),))
    _observe(call, "")


def _aborted(exc: BaseException) -> bool:
    """context.abort() raises this to end the call: let it through."""
    return type(exc).__name__ == "AbortError"
