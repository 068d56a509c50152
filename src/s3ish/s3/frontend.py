"""The S3 request pipeline: request id -> error boundary -> route -> authenticate ->
authorize (access.py: the route's IAM action, every request) -> handler -> engine. Renders
S3 errors as XML; logs one access line per request.
A CORS preflight (OPTIONS) is answered right after routing, without authentication; every
other response of a browser request (errors too) gets its bucket's CORS headers.
"""
import logging
import time
from dataclasses import dataclass

from ..engine.errors import DomainError
from ..obs import logging as obs_log
from ..obs import metrics
from ..http.asgi import ClientDisconnected, Request, Response, send_response
from ..util.ids import host_id, request_id
from . import access, errors, routes
from .auth.authenticate import accept_unauthenticated, authenticate
from .handlers.common import refuse_unsupported_request
from .handlers.cors import add_response_headers
from .handlers.header_rules import sendable
from .handlers.sse_headers import check_request as check_sse_headers
from .handlers.context import Ctx
from .xml.codec import escape_text

log = logging.getLogger("s3ish.s3")
access_log = logging.getLogger("s3ish.access")

MAX_HEADER_BYTES = 8 * 1024
MAX_KEY_BYTES = 1024


@dataclass
class Services:
    engine: object
    multipart: object
    users: object
    region: str
    domains: tuple[str, ...]
    auth_none: bool = False     # development mode: every request acts as the root user
    body_timeout: float | None = None   # seconds a request body may send nothing
    # ACLs: "enforce" (AWS), "record" (stored and returned, never consulted) or "ignore"
    # (discarded; every resource reads back as private).
    acl_mode: str = "enforce"
    # Object ownership of a bucket created without x-amz-object-ownership.
    default_ownership: str = "BucketOwnerEnforced"
    # Key service of SSE-S3/SSE-KMS (storage/kms.py's Kms), None: such requests are refused.
    kms: object = None
    # Accept SSE-C customer keys over plain HTTP (local tests; AWS refuses them).
    allow_insecure_sse_c: bool = False
    # A read-only server (a follower of the cold tier): why writes are refused ("": none are).
    read_only: str = ""
    # The seed design's x-access-key/x-secret-key headers authenticate (auth/header_auth.py).
    header_auth: bool = False


class S3Frontend:
    def __init__(self, services: Services):
        self.svc = services

    async def __call__(self, scope, receive, send) -> None:
        rid = request_id()
        obs_log.request_id.set(rid)
        started = time.monotonic()
        req = Request(scope, receive, self.svc.body_timeout)
        op, code, ctx, sent = "-", "", None, 0
        metrics.IN_FLIGHT.inc()
        try:
            try:
                ctx, route = self._resolve(req, rid)
                op = route.operation if route else "-"
                resp = await self._handle(ctx, route)
            except ClientDisconnected:
                code, resp = "ClientDisconnected", None
            except Exception as exc:  # the error boundary: every failure becomes an S3 error
                resp, code = self._error_response(exc, req, rid)
                if req.has_unread_body():
                    # The client may still be sending (or, after Expect: 100-continue,
                    # withholding) a body we will not read: the connection cannot be reused.
                    resp.headers.append(("Connection", "close"))
            if resp is not None and ctx is not None:
                await self._cors(ctx, resp)
            if resp is not None:
                resp, code, sent = await self._send(send, req, resp, code, rid)
        finally:
            metrics.IN_FLIGHT.dec()
            status = resp.status if resp is not None else 499
            self._observe(req, ctx, op, status, code, sent, time.monotonic() - started)

    @staticmethod
    async def _cors(ctx, resp) -> None:
        """The CORS headers of a browser request, on successes and errors alike; a failure
        to add them costs the client only the headers."""
        try:
            await add_response_headers(ctx, resp)
        except Exception:
            log.exception("%s CORS headers not added", ctx.request_id)

    async def _send(self, send, req, resp, code, rid):
        """Send `resp`; returns (the response as it really ended, error code, bytes sent).
        A failure is logged with its real outcome, never with the status it started with."""
        resp.headers += [("x-amz-request-id", rid), ("x-amz-id-2", host_id()),
                         ("Server", "s3ish")]
        tracked = _TrackedSend(send)
        bad = [name for name, value in resp.headers if not sendable(name, value)]
        if bad:
            # Say, metadata stored before its values were checked: the server would refuse to
            # send it (dropping the connection), so the client gets a clean InternalError.
            log.error("%s %d response has unsendable headers %s", rid, resp.status,
                      [repr(n)[1:-1] for n in bad])
            return await self._send_internal_error(send, req, rid, "ResponseFailed:BadHeader",
                                                   resp.body)
        try:
            return resp, code, await send_response(tracked, resp,
                                                   head_only=req.method == "HEAD")
        except Exception as exc:
            failure = f"ResponseFailed:{type(exc).__name__}"
            if tracked.started:
                # After the headers all we can do is cut it off: the body stops short of its
                # Content-Length and the connection closes, so the client sees a failure,
                # never a short object. The log says 500: the request failed.
                log.error("%s %d response cut off after the headers: %s", rid, resp.status, exc)
                return Response(500), failure, tracked.body_bytes
            # Nothing reached the client (say, a header the server refused to send): it
            # gets a clean InternalError instead.
            log.error("%s %d response could not be started: %s", rid, resp.status, exc)
        return await self._send_internal_error(send, req, rid, failure, resp.body)

    @staticmethod
    async def _send_internal_error(send, req, rid, failure, unsent=None):
        close = getattr(unsent, "aclose", None)
        if close is not None:    # a streamed body that will never be read: release it
            await close()
        err = Response(500, [("Content-Type", "application/xml"), ("Connection", "close"),
                             ("x-amz-request-id", rid), ("x-amz-id-2", host_id()),
                             ("Server", "s3ish")],
                       render_error(errors.InternalError(), req.raw_path, rid))
        try:
            await send_response(send, err, head_only=req.method == "HEAD")
        except Exception as exc:  # the transport itself is gone
            log.error("%s error response failed too: %s", rid, exc)
        return err, failure, 0

    @staticmethod
    def _observe(req, ctx, op, status, code, sent, seconds) -> None:
        metrics.REQUESTS.labels(op, metrics.status_class(status)).inc()
        metrics.LATENCY.labels(op).observe(seconds)
        if req.bytes_in:
            metrics.BYTES_IN.labels(op).inc(req.bytes_in)
        if sent:
            metrics.BYTES_OUT.labels(op).inc(sent)
        if code:
            metrics.ERRORS.labels(op, code).inc()
        user = ctx.identity.access_key if ctx is not None and ctx.identity else "-"
        bucket, key = (ctx.bucket, ctx.key) if ctx is not None else ("", "")
        access_log.info(
            "%s %s %s %s %d %s in=%d out=%d %.1fms", user, op, req.method, req.raw_path,
            status, code or "-", req.bytes_in, sent, seconds * 1000,
            extra={"operation": op, "method": req.method, "bucket": bucket, "key": key,
                   "status": status, "bytes_in": req.bytes_in, "bytes_out": sent,
                   "duration_ms": round(seconds * 1000, 3), "user": user,
                   "remote": req.client, "error": code or None})

    def _resolve(self, req: Request, rid: str):
        """Find bucket, key and route; errors here are still rendered with a request id."""
        ctx = Ctx(req=req, svc=self.svc, bucket="", key="", identity=None, request_id=rid)
        if req.header_bytes > MAX_HEADER_BYTES:
            raise errors.RequestHeaderSectionTooLarge(MaxSizeAllowed=str(MAX_HEADER_BYTES))
        ctx.bucket, ctx.key, ctx.extra["vhost"] = self._bucket_key(req)
        try:
            ctx.key.encode("utf-8")
        except UnicodeEncodeError:
            raise errors.InvalidURI() from None
        if ctx.key and len(ctx.key.encode("utf-8", "surrogateescape")) > MAX_KEY_BYTES:
            raise errors.KeyTooLongError(Size=str(len(ctx.key.encode())),
                                         MaxSizeAllowed=str(MAX_KEY_BYTES))
        target = "object" if ctx.key else "bucket" if ctx.bucket else "service"
        route = routes.match(req.method, target, req.query, req.headers)
        return ctx, route

    def _bucket_key(self, req: Request) -> tuple[str, str, bool]:
        """(bucket, key, virtual-host style?) from the Host header or the path."""
        host = req.headers.get("host", "").lower()
        host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        for domain in self.svc.domains:
            if host.endswith("." + domain):
                return host[: -len(domain) - 1], req.path[1:], True
        bucket, _, key = req.path[1:].partition("/")
        return bucket, key, False

    async def _handle(self, ctx: Ctx, route) -> Response:
        if route is not None and route.access == "preflight":
            return await route.handler(ctx)    # never signed: it carries no credentials
        # Authenticate before anything reads the body: a refused upload transfers nothing.
        if self.svc.auth_none:
            ctx.identity = accept_unauthenticated(ctx.req, self.svc.users)
        else:
            ctx.identity = authenticate(ctx.req, self.svc.users,
                                        ctx.bucket if ctx.extra["vhost"] else None,
                                        self.svc.region, self.svc.header_auth)
        if route is None:
            if ctx.req.method not in ("GET", "HEAD", "PUT", "POST", "DELETE"):
                raise errors.MethodNotAllowed(Method=ctx.req.method)
            raise errors.NotImplemented()
        if route.mutates and self.svc.read_only:
            # The one place writes are refused on a read-only server: every operation the
            # route table marks as changing what is stored, before its body is read.
            raise errors.AccessDenied(self.svc.read_only)
        if route.access == "form":
            # The handler authenticates from the form, then authorizes the form's key.
            refuse_unsupported_request(route.operation, ctx.req.headers)
            check_sse_headers(ctx, route.operation)
            return await route.handler(ctx)
        await access.authorize(ctx, route)
        # Before the handler reads anything: a header s3ish cannot honour is refused, never
        # ignored.
        refuse_unsupported_request(route.operation, ctx.req.headers)
        check_sse_headers(ctx, route.operation)
        return await route.handler(ctx)

    def _error_response(self, exc: Exception, req: Request, rid: str) -> tuple[Response, str]:
        if isinstance(exc, errors.S3Error):
            err = exc
        elif isinstance(exc, DomainError):
            err = errors.from_domain(exc) or errors.InternalError()
            if err.code == "InternalError":
                log.error("%s unmapped domain error %r", rid, exc)
            elif str(exc) and err.code in _RESOURCE_FIELD:
                err.extra[_RESOURCE_FIELD[err.code]] = str(exc)
            elif str(exc) and err.code == "ServiceUnavailable":
                log.error("%s %s", rid, exc)
                err.message = f"{err.message} ({exc})"
        else:
            log.exception("%s internal error on %s %s", rid, req.method, req.raw_path)
            err = errors.InternalError()
        if err.status == 304:
            return Response(304, [(k, v) for k, v in err.extra.items()]), err.code
        return Response(err.status, [("Content-Type", "application/xml")] + err.headers,
                        render_error(err, req.raw_path, rid)), err.code


class _TrackedSend:
    """An ASGI `send` that remembers whether the response start went out and how many body
    bytes followed, so a failure can be reported for what it was."""

    def __init__(self, send):
        self._send = send
        self.started = False
        self.body_bytes = 0

    async def __call__(self, message) -> None:
        await self._send(message)
        if message["type"] == "http.response.start":
            self.started = True
        else:
            self.body_bytes += len(message.get("body", b""))


_RESOURCE_FIELD = {"NoSuchBucket": "BucketName", "BucketNotEmpty": "BucketName",
                   "BucketAlreadyExists": "BucketName", "BucketAlreadyOwnedByYou": "BucketName",
                   "NoSuchKey": "Key", "NoSuchUpload": "UploadId"}


def render_error(err: errors.S3Error, resource: str, rid: str) -> bytes:
    extra = "".join(f"<{k.replace('_', '-')}>{escape_text(str(v))}</{k.replace('_', '-')}>"
                    for k, v in err.extra.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{err.code}</Code><Message>{escape_text(err.message)}</Message>"
            f"{extra}<Resource>{escape_text(resource)}</Resource>"
            f"<RequestId>{rid}</RequestId><HostId>{host_id()}</HostId></Error>").encode()


def connection_error(code: str, extra: dict) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and XML body of an error the HTTP protocol answers on its own (a request head
    over its bounds or too slow), before any request reached the pipeline."""
    rid = request_id()
    err = getattr(errors, code)(**extra)
    access_log.info("- - - - 400 %s", code, extra={"status": 400, "error": code})
    return ([("Content-Type", "application/xml"), ("x-amz-request-id", rid),
             ("x-amz-id-2", host_id()), ("Server", "s3ish")], render_error(err, "/", rid))

