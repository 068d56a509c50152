"""Browser-based uploads: verify a POST form's signed policy (SigV4 or SigV2) and check its
conditions (eq, starts-with, content-length-range) against the form fields."""
import base64
import binascii
import datetime as _dt
import json

from ...util.clock import now, parse_amz_date
from .. import errors
from . import sigv2, sigv4

# Fields that need no condition in the policy.
_EXEMPT = {"policy", "x-amz-signature", "signature", "awsaccesskeyid", "file"}


def _denied(why: str):
    return errors.AccessDenied(f"Invalid according to Policy: {why}")


def authenticate_post(fields: dict, users, region: str | None = None):
    """`fields` has lower-case names; `region` is the one a SigV4 credential must name.
    Returns (identity, conditions list)."""
    policy_b64 = fields.get("policy")
    if not policy_b64:
        raise errors.AccessDenied("Anonymous POST uploads are not allowed")
    if "x-amz-signature" in fields:
        ident = _check_v4(fields, users, policy_b64, region)
    elif "signature" in fields:
        ident = users.get(fields.get("awsaccesskeyid", ""))
        if ident is None:
            raise errors.InvalidAccessKeyId(AWSAccessKeyId=fields.get("awsaccesskeyid", ""))
        if not sigv4.verify(sigv2.sign(ident.secret_key, policy_b64), fields["signature"]):
            raise errors.SignatureDoesNotMatch()
    else:
        raise errors.AccessDenied("POST form has a policy but no signature")
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
        expiration = _dt.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        conditions = policy["conditions"]
        if not isinstance(conditions, list):
            raise ValueError("conditions must be a list")
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise errors.InvalidPolicyDocument() from None      # RecursionError: deep nesting
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=_dt.timezone.utc)
    if now() > expiration:
        raise _denied("Policy expired.")
    return ident, conditions


def _check_v4(fields, users, policy_b64, expected_region):
    if fields.get("x-amz-algorithm") != sigv4.ALGORITHM:
        raise errors.InvalidRequest("Only AWS4-HMAC-SHA256 is supported as x-amz-algorithm")
    credential = fields.get("x-amz-credential", "")
    parsed = sigv4.parse_credential(credential)
    if parsed is None or parsed[3] != "s3":
        raise errors.InvalidArgument("Invalid x-amz-credential", ArgumentName="x-amz-credential")
    access_key, date, region, _ = parsed
    # The scope rule of every SigV4 request; a form gets S3's InvalidArgument for it.
    if expected_region is not None and region != expected_region:
        raise errors.InvalidArgument(f"the region '{region}' is wrong; expecting "
                                     f"'{expected_region}'", ArgumentName="X-Amz-Credential",
                                     ArgumentValue=credential, Region=expected_region)
    ident = users.get(access_key)
    if ident is None:
        raise errors.InvalidAccessKeyId(AWSAccessKeyId=access_key)
    if parse_amz_date(fields.get("x-amz-date", "")) is None:
        raise errors.InvalidArgument("Invalid x-amz-date", ArgumentName="x-amz-date")
    key = sigv4.signing_key(ident.secret_key, date, region)
    if not sigv4.verify(sigv4.sign(key, policy_b64), fields["x-amz-signature"]):
        raise errors.SignatureDoesNotMatch()
    return ident


def check_conditions(conditions: list, fields: dict, bucket: str) -> tuple[int, int] | None:
    """Every condition must hold and every field must be covered by one. Returns the
    content-length-range (min, max) if the policy sets one."""
    values = {**fields, "bucket": bucket}
    covered, length_range = set(), None
    for cond in conditions:
        if isinstance(cond, dict) and len(cond) == 1:
            (name, want), = cond.items()
            op, name = "eq", name.lower()
        elif isinstance(cond, list) and len(cond) == 3:
            op = str(cond[0]).lower()
            if op == "content-length-range":
                try:
                    length_range = int(cond[1]), int(cond[2])
                except (TypeError, ValueError, OverflowError):      # OverflowError: 1e999
                    raise errors.InvalidPolicyDocument() from None
                continue
            name, want = str(cond[1]).lower().lstrip("$"), cond[2]
        else:
            raise errors.InvalidPolicyDocument()
        have = values.get(name, "")
        if op == "eq":
            ok = have == str(want)
        elif op == "starts-with":
            ok = _starts_with(name, have, str(want))
        else:
            raise errors.InvalidPolicyDocument()
        if not ok:
            raise _denied(f"Policy Condition failed: {json.dumps(cond)}")
        covered.add(name)
    # x-amz-algorithm/-credential/-date are not exempt: S3 wants them in the policy too.
    extra = [n for n in fields
             if n not in covered and n not in _EXEMPT and not n.startswith("x-ignore-")]
    if extra:
        raise _denied(f"Extra input fields: {', '.join(sorted(extra))}")
    return length_range


def _starts_with(name: str, have: str, prefix: str) -> bool:
    if name == "content-type":
        # Content-Type may list several types; each must start with the prefix.
        return all(part.strip().startswith(prefix) for part in have.split(","))
    return have.startswith(prefix)

