"""The IAM Query API's request pipeline: read the form body (bounded) -> authenticate (SigV4,
service `iam`) -> find the action -> authorize (root, or an identity policy allowing
`iam:<Action>` on the resource) -> run it -> IAM XML. Errors are IAM's ErrorResponse.
"""
import datetime as _dt
import logging
import time
from urllib.parse import parse_qsl

from ..engine.errors import DomainError
from ..http.asgi import ClientDisconnected, Request, Response, send_response
from ..iam import policy as iam_policy
from ..iam.policy import Principal
from ..iam.principals import root_arn, user_arn
from ..obs import logging as obs_log
from ..obs import metrics
from ..s3.auth.authenticate import authenticate_service
from ..s3.errors import S3Error
from ..util.ids import request_id
from . import actions, groups, xml
from .errors import IamError, from_domain

log = logging.getLogger("s3ish.iam")
access_log = logging.getLogger("s3ish.access")

MAX_BODY = 128 * 1024


def is_iam_request(scope) -> bool:
    """POST / signed for service `iam` (the credential scope's service): cheap enough to ask
    of every request."""
    if scope["method"] != "POST" or scope["path"] != "/":
        return False
    for name, value in scope["headers"]:
        if name.lower() == b"authorization":
            cred = value.partition(b"Credential=")[2].partition(b",")[0].split(b"/")
            return len(cred) >= 5 and cred[-2] == b"iam"
    return False


class IamAPI:
    def __init__(self, identities, users, body_timeout: float | None = None,
                 auth_none: bool = False, read_only: str = ""):
        self.identities = identities        # engine.iam.Identities
        self.users = users                  # s3.auth.users.StoreUsers
        self.body_timeout = body_timeout
        self.auth_none = auth_none          # `--auth none`: every request acts as root
        self.read_only = read_only          # why writes are refused ("": they are not)

    async def __call__(self, scope, receive, send) -> None:
        rid = request_id()
        obs_log.request_id.set(rid)
        started = time.monotonic()
        req = Request(scope, receive, self.body_timeout)
        seen = {"action": "-", "who": "-"}     # for the access log, as far as it got
        code = ""
        try:
            resp = await self._handle(req, rid, seen)
        except ClientDisconnected:
            code, resp = "ClientDisconnected", None
        except Exception as exc:  # the error boundary: every failure is an IAM error
            err = self._error(exc, rid)
            code = err.code
            resp = Response(err.status, [("Content-Type", "text/xml")],
                            xml.error(err.code, err.message, rid, err.status < 500))
            if req.has_unread_body():
                resp.headers.append(("Connection", "close"))
        status = 499
        if resp is not None:
            resp.headers += [("x-amzn-RequestId", rid), ("Server", "s3ish")]
            status = resp.status
            try:
                await send_response(send, resp)
            except Exception as e:  # the transport is gone; nothing more to tell
                log.error("%s IAM response failed: %s", rid, e)
        op, who = f"IAM.{seen['action']}", seen["who"]
        metrics.REQUESTS.labels(op, metrics.status_class(status)).inc()
        access_log.info("%s %s POST / %d %s %.1fms", who, op, status, code or "-",
                        (time.monotonic() - started) * 1000,
                        extra={"operation": op, "method": "POST", "status": status,
                               "user": who, "remote": req.client, "error": code or None})

    async def _handle(self, req: Request, rid: str, seen: dict) -> Response:
        body = await req.read_all(MAX_BODY)
        if body is None:
            raise IamError("LimitExceeded", "The request body is too large.", 413)
        if self.auth_none:
            ident = self.users.root
        else:
            ident = authenticate_service(req, self.users, "iam", body)
        if ident is None:
            raise IamError("MissingAuthenticationToken", "Request is missing Authentication "
                           "Token", 403)
        seen["who"] = ident.access_key
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                    strict_parsing=bool(body)))
        except (UnicodeDecodeError, ValueError):
            raise IamError("MalformedQueryString", "The request body is not a valid form.")
        name = params.get("Action", "")
        action = actions.ACTIONS.get(name) or groups.ACTIONS.get(name)
        if action is None:
            raise IamError("InvalidAction" if name else "MissingAction",
                           f"Could not find operation {name} for version 2010-05-08"
                           if name else "Missing Action")
        seen["action"] = name       # a metric label: only names of known actions
        if action.mutates and self.read_only:
            raise IamError("AccessDenied", self.read_only, 403)
        call = actions.Call(self.identities, ident, params)
        resource = await call.resource(action)
        if not self._allowed(ident, name, resource, req):
            raise IamError("AccessDenied", f"User: {_arn(ident)} is not authorized to perform: "
                           f"iam:{name} on resource: {resource}", 403)
        result = await action.run(call)
        if action.mutates:
            await self.users.refresh()       # this worker answers with the change in force
        return Response(200, [("Content-Type", "text/xml")], xml.response(name, result, rid))

    @staticmethod
    def _allowed(ident, action: str, resource: str, req: Request) -> bool:
        if ident.is_root:
            return True
        now = _dt.datetime.now(_dt.timezone.utc)
        context = {"aws:username": ident.user_name, "aws:userid": ident.owner_id,
                   "aws:principaltype": "User", "aws:sourceip": req.client,
                   "aws:currenttime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "aws:epochtime": str(int(now.timestamp())),
                   "aws:securetransport": "true" if req.scope.get("scheme") == "https"
                   else "false"}
        who = Principal(aws=frozenset({_arn(ident)}), canonical=ident.owner_id)
        return iam_policy.evaluate(ident.policies, who, f"iam:{action}", resource,
                                   context) == "Allow"

    @staticmethod
    def _error(exc: Exception, rid: str) -> IamError:
        if isinstance(exc, IamError):
            return exc
        if isinstance(exc, S3Error):      # authentication
            code = "InvalidClientTokenId" if exc.code == "InvalidAccessKeyId" else exc.code
            return IamError(code, exc.message, exc.status)
        if isinstance(exc, iam_policy.MalformedPolicy):
            return IamError("MalformedPolicyDocument", exc.message)
        if isinstance(exc, DomainError):
            err = from_domain(exc)
            if err is not None:
                return err
        log.exception("%s IAM internal error", rid)
        return IamError("ServiceFailure", "We encountered an internal error. Please try "
                        "again.", 500)


def _arn(ident) -> str:
    return root_arn() if ident.is_root else user_arn(ident.user_name)
