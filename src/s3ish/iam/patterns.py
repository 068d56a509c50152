"""Compiled string patterns of the policy language: `*` and `?` wildcards and policy variables.

A pattern is compiled once, when its policy is parsed: a literal becomes a plain comparison, a
wildcard pattern without variables one precompiled regex. A pattern with variables
(`${aws:username}`, `${s3:prefix, 'home/'}`) cannot be a regex (the values are known only per
request), so it keeps its tokens and is matched by a small glob matcher: evaluation never
compiles a regex. `COMPILED` counts the regexes compiled so tests can check that.
"""
import re

COMPILED = [0]          # regexes compiled so far (a list so tests can read it by reference)

STAR, ONE = object(), object()
_ESCAPES = {"*": "*", "?": "?", "$": "$"}     # ${*} ${?} ${$}: the literal character
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")


class Var:
    """A policy variable: a context key (lower case) and the value used when it is absent."""
    __slots__ = ("key", "default")

    def __init__(self, key: str, default: str | None):
        self.key, self.default = key.lower(), default

    def resolve(self, ctx: dict) -> str | None:
        value = ctx.get(self.key)
        if isinstance(value, (list, tuple)):
            value = value[0] if len(value) == 1 else None   # a set has no single substitution
        if value is None:
            return self.default
        return value if isinstance(value, str) else str(value)


def _tokens(text: str, wildcards: bool, variables: bool) -> list:
    """Literal strings, STAR, ONE and Var objects, in order."""
    out: list = []
    pos = 0
    while pos < len(text):
        m = _VARIABLE.match(text, pos) if variables else None
        if m:
            inner = m.group(1)
            if inner in _ESCAPES:
                out.append(_ESCAPES[inner])
            else:
                d = _DEFAULT.match(inner)
                out.append(Var(d.group(1), d.group(2)) if d else Var(inner.strip(), None))
            pos = m.end()
            continue
        ch = text[pos]
        out.append(STAR if wildcards and ch == "*" else ONE if wildcards and ch == "?" else ch)
        pos += 1
    merged: list = []      # adjacent characters joined so literals compare in one step
    for t in out:
        if isinstance(t, str) and merged and isinstance(merged[-1], str):
            merged[-1] += t
        else:
            merged.append(t)
    return merged


class Pattern:
    """One compiled pattern; `match(value, ctx)` says whether `value` matches it."""
    __slots__ = ("text", "fold", "literal", "regex", "tokens", "segments")

    def __init__(self, text: str, wildcards=True, variables=False, ignore_case=False):
        self.text, self.fold = text, ignore_case
        self.literal = self.regex = self.tokens = self.segments = None
        tokens = _tokens(text, wildcards, variables)
        if any(isinstance(t, Var) for t in tokens):
            if any(t is ONE for t in tokens):
                self.tokens = tokens
            else:
                self.segments = _segments(tokens)
        elif all(isinstance(t, str) for t in tokens):
            self.literal = "".join(tokens).casefold() if ignore_case else "".join(tokens)
        else:
            src = "".join(".*" if t is STAR else "." if t is ONE else re.escape(t) for t in tokens)
            COMPILED[0] += 1
            self.regex = re.compile(src, re.DOTALL | (re.IGNORECASE if ignore_case else 0))

    def match(self, value: str, ctx: dict) -> bool:
        if self.literal is not None:
            return (value.casefold() if self.fold else value) == self.literal
        if self.regex is not None:
            return self.regex.fullmatch(value) is not None
        if self.segments is not None:
            return self._match_segments(value, ctx)
        return self._match_tokens(value, ctx)

    def _match_segments(self, value: str, ctx: dict) -> bool:
        """Variables and `*` only: the literal pieces between stars, found with str methods."""
        pieces = []
        for segment in self.segments:
            piece = []
            for t in segment:
                sub = t.resolve(ctx) if isinstance(t, Var) else t
                if sub is None:
                    return False        # an unresolved variable matches nothing, as on AWS
                piece.append(sub)
            pieces.append("".join(piece))
        if self.fold:
            value, pieces = value.casefold(), [p.casefold() for p in pieces]
        if len(pieces) == 1:
            return value == pieces[0]
        first, last = pieces[0], pieces[-1]
        end = len(value) - len(last)
        if end < len(first) or not value.startswith(first) or not value.endswith(last):
            return False
        pos = len(first)
        for piece in pieces[1:-1]:
            found = value.find(piece, pos, end)
            if found < 0:
                return False
            pos = found + len(piece)
        return True

    def _match_tokens(self, value: str, ctx: dict) -> bool:
        units: list = []     # characters and wildcards after substitution
        for t in self.tokens:
            if isinstance(t, Var):
                sub = t.resolve(ctx)
                if sub is None:
                    return False        # an unresolved variable matches nothing, as on AWS
                units.extend(sub)
            elif isinstance(t, str):
                units.extend(t)
            else:
                units.append(t)
        if self.fold:
            value = value.casefold()
            units = [u.casefold() if isinstance(u, str) else u for u in units]
        return glob(units, value)


def _segments(tokens: list) -> list[list]:
    """Tokens without ONE split at each STAR: the pieces that must appear in order."""
    out: list[list] = [[]]
    for t in tokens:
        if t is STAR:
            out.append([])
        else:
            out[-1].append(t)
    return out


def glob(units: list, value: str) -> bool:
    """Greedy wildcard match with backtracking to the last STAR (linear in practice)."""
    p = v = 0
    star_p, star_v = -1, 0
    while v < len(value):
        if p < len(units) and units[p] is not STAR and (units[p] is ONE or units[p] == value[v]):
            p += 1
            v += 1
        elif p < len(units) and units[p] is STAR:
            star_p, star_v = p, v
            p += 1
        elif star_p >= 0:
            star_v += 1
            p, v = star_p + 1, star_v
        else:
            return False
    while p < len(units) and units[p] is STAR:
        p += 1
    return p == len(units)
