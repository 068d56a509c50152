"""Condition blocks of the policy language: operators compiled once, evaluated per request.

A block `{"StringLike": {"s3:prefix": ["home/", "home/*"]}}` is AND over operators and keys and OR
over the values of one key. Keys are looked up case-insensitively in the request context (the
caller lower-cases it once); a context value is a string or a list of strings (a multi-valued
key, used with ForAnyValue:/ForAllValues:). As AWS defines them: a missing key makes a positive
operator false and a negated one (StringNotEquals, NotIpAddress, ...) true; `...IfExists` makes
any operator true when the key is missing; ForAllValues is true for a missing or empty key,
ForAnyValue false.
"""
import base64
import binascii
import ipaddress
import operator
from datetime import datetime, timezone

from .errors import MalformedPolicy
from .patterns import Pattern


def _string(values, wildcards, fold, variables):
    return [Pattern(v, wildcards=wildcards, variables=variables, ignore_case=fold)
            for v in values]


def _number(text: str) -> float:
    return float(text)


def _date(text) -> float:
    """ISO 8601 (with or without time and zone; UTC if none) or epoch seconds -> epoch. The
    request context may also hold a datetime or a number."""
    if isinstance(text, datetime):
        return (text if text.tzinfo else text.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(text, (int, float)):
        return float(text)
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def _arn(values, variables):
    """Each of the six colon-separated parts of an ARN is matched on its own."""
    out = []
    for v in values:
        parts = _arn_parts(v) if variables else v.split(":", 5)
        out.append([Pattern(p, wildcards=True, variables=variables) for p in parts])
    return out


def _arn_parts(text: str) -> list[str]:
    """Split at the first five colons outside `${...}` (`${aws:userid}` is one variable)."""
    parts, start, depth = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{" and text[i - 1:i] == "$":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif ch == ":" and not depth and len(parts) < 5:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def _arn_match(compiled, value, ctx) -> bool:
    parts = value.split(":", 5)
    return len(parts) == len(compiled) and all(
        p.match(x, ctx) for p, x in zip(compiled, parts))


def _bool_value(text) -> str:
    return str(text).strip().lower()


def _cmp(parse, test):
    """A matcher reading the request value with `parse`; one it cannot read matches nothing."""
    def match(compiled, value, ctx):
        try:
            got = parse(value)
        except (ValueError, TypeError):
            return False
        return test(got, compiled)
    return match


def _ip_match(net, value, ctx) -> bool:
    try:
        return ipaddress.ip_address(str(value).strip()) in net
    except ValueError:
        return False


def _numbers(values, _variables):
    return [_number(v) for v in values]


def _dates(values, _variables):
    return [_date(v) for v in values]


def _nets(values, _variables):
    return [ipaddress.ip_network(v.strip(), strict=False) for v in values]


def _bools(values, _variables):
    return [_bool_value(v) for v in values]


def _binaries(values, _variables):
    return [base64.b64decode(v, validate=True) for v in values]


def _strings(wildcards: bool, fold: bool):
    return lambda values, variables: _string(values, wildcards, fold, variables)


def _pattern_match(pattern, value, ctx) -> bool:
    return pattern.match(str(value), ctx)


def _bool_match(policy_value, value, ctx) -> bool:
    return _bool_value(value) == policy_value


_EQ, _LT, _LE = operator.eq, operator.lt, operator.le
_GT, _GE = operator.gt, operator.ge
_NUM = {"equals": _EQ, "lessthan": _LT, "lessthanequals": _LE, "greaterthan": _GT,
        "greaterthanequals": _GE}

# lower-case name -> (compile the policy values, match one request value against one compiled
# policy value, negated?)
OPERATORS: dict = {
    "stringequals": (_strings(False, False), _pattern_match, False),
    "stringnotequals": (_strings(False, False), _pattern_match, True),
    "stringequalsignorecase": (_strings(False, True), _pattern_match, False),
    "stringnotequalsignorecase": (_strings(False, True), _pattern_match, True),
    "stringlike": (_strings(True, False), _pattern_match, False),
    "stringnotlike": (_strings(True, False), _pattern_match, True),
    "bool": (_bools, _bool_match, False),
    "binaryequals": (_binaries, _cmp(lambda v: base64.b64decode(v, validate=True), _EQ), False),
    "ipaddress": (_nets, _ip_match, False),
    "notipaddress": (_nets, _ip_match, True),
    "arnequals": (_arn, _arn_match, False),
    "arnlike": (_arn, _arn_match, False),
    "arnnotequals": (_arn, _arn_match, True),
    "arnnotlike": (_arn, _arn_match, True),
    "numericnotequals": (_numbers, _cmp(_number, _EQ), True),
    "datenotequals": (_dates, _cmp(_date, _EQ), True),
}
for _suffix, _op in _NUM.items():
    OPERATORS["numeric" + _suffix] = (_numbers, _cmp(_number, _op), False)
    OPERATORS["date" + _suffix] = (_dates, _cmp(_date, _op), False)


class Clause:
    """One (operator, key, values) triple of a condition block, compiled."""
    __slots__ = ("key", "operator", "values", "matcher", "negated", "if_exists", "qualifier",
                 "null")

    def __init__(self, op_name: str, key: str, raw, variables: bool = True):
        self.key = key.lower()
        values = raw if isinstance(raw, list) else [raw]
        if not values or not all(isinstance(v, (str, bool, int, float)) for v in values):
            raise MalformedPolicy(f"Invalid Condition value for {op_name}")
        values = [_bool_value(v) if isinstance(v, bool) else str(v) for v in values]
        name = op_name.lower()
        self.qualifier = None
        for q in ("foranyvalue:", "forallvalues:"):
            if name.startswith(q):
                self.qualifier, name = q[:-1], name[len(q):]
        self.if_exists = name.endswith("ifexists") and name != "ifexists"
        if self.if_exists:
            name = name[:-len("ifexists")]
        self.operator = name          # lower case, without qualifier and IfExists
        self.null = name == "null"
        if self.null:
            if self.if_exists or any(v not in ("true", "false") for v in values):
                raise MalformedPolicy(f"Invalid Condition type : {op_name}")
            self.values, self.matcher, self.negated = values, None, False
            return
        if name not in OPERATORS:
            raise MalformedPolicy(f"Invalid Condition type : {op_name}")
        compile_values, self.matcher, self.negated = OPERATORS[name]
        try:
            self.values = compile_values(values, variables)
        except (ValueError, TypeError, binascii.Error):
            raise MalformedPolicy(f"Invalid Condition value for {op_name}: {values}") from None

    def holds(self, ctx: dict) -> bool:
        value = ctx.get(self.key)
        if self.null:
            absent = value is None or value == [] or value == ()
            return absent == (self.values[0] == "true") if len(self.values) == 1 else any(
                absent == (v == "true") for v in self.values)
        if isinstance(value, bool):
            value = [str(value).lower()]
        elif value is not None and not isinstance(value, (list, tuple, set, frozenset)):
            value = [value]       # a single-valued key (a string, a number, a datetime)
        if not value:
            if self.if_exists:
                return True
            if self.qualifier == "forallvalues":
                return True
            return self.negated and self.qualifier is None
        ok = self._accepts
        if self.qualifier == "forallvalues":
            return all(ok(v, ctx) for v in value)
        return any(ok(v, ctx) for v in value)

    def _accepts(self, value, ctx) -> bool:
        """One request value against the OR of the policy values (negated: against none)."""
        hit = any(self.matcher(c, value, ctx) for c in self.values)
        return not hit if self.negated else hit


def compile_block(block, variables: bool = True) -> list[Clause]:
    """Compile a Condition object; `variables` is False for Version 2008-10-17 documents."""
    if not isinstance(block, dict):
        raise MalformedPolicy("Condition block must be an object")
    tests = []
    for op_name, keys in block.items():
        if not isinstance(keys, dict) or not keys:
            raise MalformedPolicy(f"Invalid Condition type : {op_name}")
        for key, values in keys.items():
            tests.append(Clause(op_name, key, values, variables))
    return tests
