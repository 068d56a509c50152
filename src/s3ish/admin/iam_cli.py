"""`s3ish admin user|key|policy ...`: users, access keys and identity policies of a running
server, through its IAM API (the same one `aws iam` speaks), signed with the root
credentials (SigV4, service `iam`).

    user create NAME [--path P] | get NAME | list | delete NAME
    key create USER | list USER | disable USER KEY | enable USER KEY | delete USER KEY
    policy put USER NAME --document FILE | get USER NAME | delete USER NAME | list [USER]
    policy create NAME --document FILE | get NAME | delete NAME     (a managed policy)
    policy attach USER NAME | detach USER NAME      (NAME: a managed policy's name or ARN)
Flags go after the names (`policy put alice readonly --document p.json`).
"""
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from urllib.parse import unquote, urlencode, urlsplit

from ..iam.principals import policy_arn
from ..s3.auth import sigv4

VERBS = {"user": ("create", "get", "list", "delete"),
         "key": ("create", "list", "disable", "enable", "delete"),
         "policy": ("put", "get", "delete", "list", "create", "attach", "detach")}


class Usage(Exception):
    pass


def add_arguments(a) -> None:
    a.add_argument("operands", nargs="*", help="user, key and policy commands: their names "
                   "(`s3ish admin user create NAME`, `key disable USER KEY`, ...)")
    a.add_argument("--document", metavar="FILE", help="policy put/create: the policy "
                   "document (JSON), `-` for standard input")
    a.add_argument("--path", default="/", help="user create / policy create: the IAM path")


def run_iam(args) -> int:
    user, password = os.environ.get("S3ISH_ROOT_USER"), os.environ.get("S3ISH_ROOT_PASSWORD")
    if not (user and password):
        print("set S3ISH_ROOT_USER and S3ISH_ROOT_PASSWORD", file=sys.stderr)
        return 2
    try:
        action, params, show = _request(args)
        result = call(args.endpoint, user, password, args.region, action, params)
    except Usage as e:
        print(f"usage: s3ish admin {args.what} {args.detail or ''}: {e}", file=sys.stderr)
        return 2
    except IamCallError as e:
        print(f"{e.code}: {e.message}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"cannot reach {args.endpoint}: {e}", file=sys.stderr)
        return 1
    if args.what == "policy" and args.detail == "list" and args.operands:
        attached = call(args.endpoint, user, password, args.region, "ListAttachedUserPolicies",
                        {"UserName": args.operands[0]})
        result["AttachedPolicies"] = attached.get("AttachedPolicies", [])
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        show(result)
    return 0


def _operands(args, n: int, names: str) -> list[str]:
    if len(args.operands) != n:
        raise Usage(f"expected {names}")
    return args.operands


def _document(args) -> str:
    if not args.document:
        raise Usage("--document FILE is required")
    if args.document == "-":
        return sys.stdin.read()
    with open(args.document, encoding="utf-8") as f:
        return f.read()


def _arn(name: str) -> str:
    return name if name.startswith("arn:") else policy_arn(name)


def _request(args):
    """(IAM action, parameters, how to print the result) of one admin command."""
    what, verb = args.what, args.detail
    if verb not in VERBS[what]:
        raise Usage(f"one of {', '.join(VERBS[what])}")
    if what == "user":
        if verb == "list":
            return "ListUsers", {}, _show_users
        (name,) = _operands(args, 1, "NAME")
        action = {"create": "CreateUser", "get": "GetUser", "delete": "DeleteUser"}[verb]
        params = {"UserName": name, **({"Path": args.path} if verb == "create" else {})}
        return action, params, _show_user
    if what == "key":
        if verb in ("create", "list"):
            (name,) = _operands(args, 1, "USER")
            return ("CreateAccessKey" if verb == "create" else "ListAccessKeys",
                    {"UserName": name}, _show_keys)
        name, key = _operands(args, 2, "USER KEY")
        if verb == "delete":
            return "DeleteAccessKey", {"UserName": name, "AccessKeyId": key}, _show_done
        return "UpdateAccessKey", {"UserName": name, "AccessKeyId": key, "Status":
                                   "Active" if verb == "enable" else "Inactive"}, _show_done
    return _policy_request(args, verb)


def _policy_request(args, verb: str):
    if verb == "list":
        if not args.operands:
            return "ListPolicies", {"Scope": "Local"}, _show_policies
        (name,) = _operands(args, 1, "[USER]")
        return "ListUserPolicies", {"UserName": name}, _show_policies
    if verb == "create":
        (name,) = _operands(args, 1, "NAME --document FILE")
        return "CreatePolicy", {"PolicyName": name, "PolicyDocument": _document(args),
                                "Path": args.path}, _show_policy
    if verb in ("get", "delete") and len(args.operands) == 1:   # a managed policy
        (name,) = args.operands
        if verb == "delete":
            return "DeletePolicy", {"PolicyArn": _arn(name)}, _show_done
        return "GetPolicyVersion", {"PolicyArn": _arn(name), "VersionId": "v1"}, _show_doc
    user, name = _operands(args, 2, "USER NAME" if verb != "put" else
                           "USER NAME --document FILE")
    if verb in ("attach", "detach"):
        return (verb.capitalize() + "UserPolicy", {"UserName": user, "PolicyArn": _arn(name)},
                _show_done)
    params = {"UserName": user, "PolicyName": name}
    if verb == "put":
        return "PutUserPolicy", {**params, "PolicyDocument": _document(args)}, _show_done
    return {"get": "GetUserPolicy", "delete": "DeleteUserPolicy"}[verb], params, \
        _show_doc if verb == "get" else _show_done


# ---- the call ----

class IamCallError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def call(endpoint: str, access_key: str, secret: str, region: str, action: str,
         params: dict) -> dict:
    """One IAM Query API call; the Result element as a dict (lists: `member` elements)."""
    body = urlencode({"Action": action, "Version": "2010-05-08", **params}).encode()
    url = endpoint.rstrip("/") + "/"
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers=_signed(url, body, access_key, secret, region))
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            doc = ET.fromstring(resp.read())
    except urllib.error.HTTPError as e:
        err = ET.fromstring(e.read())
        raise IamCallError(_find(err, "Code") or str(e.code), _find(err, "Message") or "") \
            from None
    result = next((c for c in doc if _local(c.tag) == f"{action}Result"), None)
    return _decode(result) if result is not None else {}


def _signed(url: str, body: bytes, access_key: str, secret: str, region: str) -> dict:
    parts = urlsplit(url)
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    headers = {"host": parts.netloc, "x-amz-date": amz_date,
               "content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    signed = sorted(headers)
    payload = hashlib.sha256(body).hexdigest()
    canonical = sigv4.canonical_request("POST", "/", [], headers, signed, payload)
    scope = sigv4.scope(amz_date[:8], region, "iam")
    signature = sigv4.sign(sigv4.signing_key(secret, amz_date[:8], region, "iam"),
                           sigv4.string_to_sign(amz_date, scope, canonical))
    headers["authorization"] = (f"{sigv4.ALGORITHM} Credential={access_key}/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={signature}")
    return headers


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(root, name: str) -> str | None:
    for el in root.iter():
        if _local(el.tag) == name:
            return el.text
    return None


def _decode(el):
    children = list(el)
    if not children:
        return el.text or ""
    if all(_local(c.tag) == "member" for c in children):
        return [_decode(c) for c in children]
    return {_local(c.tag): _decode(c) for c in children}


# ---- printing ----

def _show_done(result: dict) -> None:
    print("ok")


def _show_user(result: dict) -> None:
    if "User" in result:
        u = result["User"]
        print(f"{u['UserName']}  {u['Arn']}  id {u['UserId']}  created {u['CreateDate']}")
    else:
        print("ok")


def _show_users(result: dict) -> None:
    for u in result.get("Users") or []:
        print(f"{u['UserName']:24s} {u['UserId']}  {u['Arn']}")


def _show_keys(result: dict) -> None:
    if "AccessKey" in result:
        k = result["AccessKey"]
        print(f"access key: {k['AccessKeyId']}\nsecret key: {k['SecretAccessKey']}\n"
              "(the secret is shown only now)")
        return
    for k in result.get("AccessKeyMetadata") or []:
        print(f"{k['AccessKeyId']:24s} {k['Status']:9s} created {k['CreateDate']}")


def _show_policies(result: dict) -> None:
    for name in result.get("PolicyNames") or []:
        print(f"inline   {name}")
    for p in result.get("AttachedPolicies") or []:
        print(f"attached {p['PolicyName']}  {p['PolicyArn']}")
    for p in result.get("Policies") or []:
        print(f"{p['PolicyName']:24s} {p['Arn']}  attached to {p['AttachmentCount']}")


def _show_policy(result: dict) -> None:
    print(result["Policy"]["Arn"])


def _show_doc(result: dict) -> None:
    doc = result.get("PolicyDocument") or result.get("PolicyVersion", {}).get("Document", "")
    try:
        print(json.dumps(json.loads(unquote(doc)), indent=2))
    except ValueError:
        print(unquote(doc))
