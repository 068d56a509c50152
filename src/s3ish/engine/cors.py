"""CORS: what S3 accepts as a bucket's CORS configuration, and which rule (if any) lets a
browser request through.

A rule matches when the request's origin matches one of its AllowedOrigins (at most one `*`
wildcard, matched case-sensitively), its method is one of AllowedMethods, and (preflight)
every header named in Access-Control-Request-Headers matches one of AllowedHeaders (case-
insensitively, at most one `*` each). The first matching rule wins, as on S3.
"""
from dataclasses import dataclass

from ..meta.bucketconf import CorsRule
from .errors import DomainError

METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
MAX_RULES = 100
MAX_ID = 255
# Responses whose content depends on these request headers once a bucket has CORS rules.
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


class CorsConfigError(DomainError):
    """A CORS configuration S3 refuses: `code` is the S3 error code (MalformedXML,
    InvalidRequest or InvalidArgument), with AWS's message and argument."""

    def __init__(self, code: str, message: str = "", argument: str = "", value: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.argument = argument
        self.value = value


def validate(rules: list[CorsRule]) -> list[CorsRule]:
    """Check a configuration as S3 does; returns it (raises CorsConfigError)."""
    if not rules or len(rules) > MAX_RULES:
        raise CorsConfigError("MalformedXML")
    for rule in rules:
        if not rule.allowed_methods or not rule.allowed_origins:
            raise CorsConfigError("MalformedXML")
        if rule.id is not None and len(rule.id) > MAX_ID:
            # As for lifecycle rule ids.
            raise CorsConfigError("InvalidArgument", "ID length should not exceed allowed "
                                  f"limit of {MAX_ID}", "ID", rule.id)
        for method in rule.allowed_methods:
            if method not in METHODS:
                raise CorsConfigError("InvalidRequest", "Found unsupported HTTP method in CORS "
                                      f"config. Unsupported method is {method}")
        for origin in rule.allowed_origins:
            if origin.count("*") > 1:
                raise CorsConfigError("InvalidRequest", f'AllowedOrigin "{origin}" can not have '
                                      "more than one wildcard.")
        for header in rule.allowed_headers:
            if header.count("*") > 1:
                raise CorsConfigError("InvalidRequest", f'AllowedHeader "{header}" can not have '
                                      "more than one wildcard.")
        for header in rule.expose_headers:
            if "*" in header:
                raise CorsConfigError("InvalidRequest", f'ExposeHeader "{header}" contains '
                                      "wildcard. We currently do not support wildcard for "
                                      "ExposeHeader.")
    return rules


def _wild_match(pattern: str, value: str) -> bool:
    """`pattern` with at most one `*` standing for any (possibly empty) run of characters."""
    head, star, tail = pattern.partition("*")
    if not star:
        return pattern == value
    return (len(value) >= len(head) + len(tail) and value.startswith(head)
            and value.endswith(tail))


def request_headers(value: str | None) -> list[str]:
    """The header names of an Access-Control-Request-Headers value, lowercased."""
    if not value:
        return []
    return [h.strip().lower() for h in value.split(",") if h.strip()]


@dataclass
class CorsMatch:
    rule: CorsRule
    wildcard: bool        # matched through the `*` origin: any origin, no credentials


def find_rule(rules: list[CorsRule], origin: str, method: str,
              headers: list[str] = ()) -> CorsMatch | None:
    """The first rule allowing `origin` to use `method` with request `headers`."""
    for rule in rules:
        if method not in rule.allowed_methods:
            continue
        matched = next((o for o in rule.allowed_origins if _wild_match(o, origin)), None)
        if matched is None:
            continue
        allowed = [h.lower() for h in rule.allowed_headers]
        if all(any(_wild_match(a, h) for a in allowed) for h in headers):
            return CorsMatch(rule, matched == "*")
    return None


def response_headers(match: CorsMatch, origin: str, preflight_headers: list[str] | None = None
                     ) -> list[tuple[str, str]]:
    """The Access-Control-* headers S3 answers a matched request with (a preflight also
    names the request headers it allows)."""
    rule = match.rule
    out = [("Access-Control-Allow-Origin", "*" if match.wildcard else origin),
           ("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods))]
    if not match.wildcard:
        out.append(("Access-Control-Allow-Credentials", "true"))
    if preflight_headers:
        out.append(("Access-Control-Allow-Headers", ", ".join(preflight_headers)))
    if rule.expose_headers:
        out.append(("Access-Control-Expose-Headers", ", ".join(rule.expose_headers)))
    if rule.max_age_seconds is not None:
        out.append(("Access-Control-Max-Age", str(rule.max_age_seconds)))
    out.append(("Vary", VARY))
    return out
