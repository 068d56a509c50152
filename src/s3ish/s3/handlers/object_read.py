"""GetObject and HeadObject: conditional requests, single ranges, response overrides."""
import re

from ...engine import tiering
from ...http.asgi import Response
from ...util.clock import parse_http_date
from ...util.numbers import ascii_int
from .. import errors
from ..access import check_object
from .common import object_headers, read_checksum_headers
from .lifecycle import expiration_headers
from .header_rules import check_value, wire_form
from .sse_headers import customer_key, response_headers as sse_response_headers
from .tagging import tag_count_header
from .versioning import version_arg, version_header

_RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")
_MAX_DIGITS = 4000  # int() refuses 4300+ digits; longer numbers are past any size anyway
_OVERRIDES = {"response-content-type": "Content-Type",
              "response-content-language": "Content-Language",
              "response-expires": "Expires",
              "response-cache-control": "Cache-Control",
              "response-content-disposition": "Content-Disposition",
              "response-content-encoding": "Content-Encoding"}


def range_number(digits: str) -> int:
    """An ASCII decimal from a range header (exact below 10**_MAX_DIGITS, capped there)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_DIGITS else 10 ** _MAX_DIGITS


def parse_range(value: str | None, size: int) -> tuple[int, int] | None:
    """Inclusive (start, end) for a single `bytes=` range; None to serve the whole object
    (no header, or one S3 ignores: bad syntax, several ranges). Raises InvalidRange when the
    range cannot be satisfied."""
    if not value:
        return None
    m = _RANGE.match(value.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    first, last = m.group(1), m.group(2)
    if not first:
        suffix = range_number(last)
        if suffix == 0 or size == 0:
            raise errors.InvalidRange(RangeRequested=value, ActualObjectSize=str(size))
        return max(0, size - suffix), size - 1
    start = range_number(first)
    end = range_number(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise errors.InvalidRange(RangeRequested=value, ActualObjectSize=str(size))
    return start, min(end, size - 1)


def check_conditions(headers: dict, etag: str, mtime: float) -> None:
    """The four conditional headers, in the order and with the precedence S3 applies."""
    quoted = f'"{etag}"'

    def matches(value: str) -> bool:
        tags = [t.strip() for t in value.split(",")]
        return "*" in tags or quoted in tags or etag in tags

    last_modified = int(mtime)
    if_match = headers.get("if-match")
    if if_match is not None:
        if not matches(if_match):
            raise errors.PreconditionFailed(Condition="If-Match")
    elif "if-unmodified-since" in headers:
        since = parse_http_date(headers["if-unmodified-since"])
        if since is not None and last_modified > since.timestamp():
            raise errors.PreconditionFailed(Condition="If-Unmodified-Since")
    if_none = headers.get("if-none-match")
    if if_none is not None:
        if matches(if_none):
            raise errors.NotModified(ETag=quoted)
    elif "if-modified-since" in headers:
        since = parse_http_date(headers["if-modified-since"])
        if since is not None and last_modified <= since.timestamp():
            raise errors.NotModified(ETag=quoted)


def _part_number(req) -> int | None:
    value = req.query.get("partNumber")
    if value is None:
        return None
    number = ascii_int(value)
    if number is None or not 1 <= number <= 10000:
        raise errors.InvalidArgument("Part number must be an integer between 1 and 10000, "
                                     "inclusive", ArgumentName="partNumber",
                                     ArgumentValue=value)
    if "range" in req.headers:
        raise errors.InvalidRequest("Cannot specify both Range header and partNumber query "
                                    "parameter")
    return number


def part_range(v, number: int) -> tuple[int, int] | None:
    """The byte range of part `number` (1-based, in completion order). An object that was not
    uploaded in parts is its own single part."""
    sizes = [p.size for p in v.parts] if v.is_multipart else [v.size]
    if number > len(sizes):
        raise errors.InvalidPartNumber(PartNumberRequested=str(number),
                                       ActualPartCount=str(len(sizes)))
    if v.size == 0:
        return None
    start = sum(sizes[: number - 1])
    return start, start + sizes[number - 1] - 1


def _overrides(query: dict) -> list[tuple[str, str]]:
    """response-* query parameters: headers the response carries instead of the stored ones.
    A value that cannot be a header is refused before anything is read."""
    out = []
    for q, header in _OVERRIDES.items():
        if q in query:
            value = wire_form(query[q])
            check_value(q, value)
            out.append((header, value))
    return out


async def GetObject(ctx) -> Response:
    return await _read(ctx, body=True)


async def HeadObject(ctx) -> Response:
    return await _read(ctx, body=False)


async def _read(ctx, body: bool) -> Response:
    req = ctx.req
    part_number = _part_number(req)
    version_id = version_arg(req)
    overrides = _overrides(req.query)
    customer = customer_key(req.headers)
    state = {}

    def plan(v):
        check_object(ctx, v)        # what authorization left for the record (access.py)
        check_conditions(req.headers, v.etag, v.mtime)
        if part_number is None:
            rng = parse_range(req.headers.get("range"), v.size)
        else:
            rng = part_range(v, part_number)
        state["range"] = rng
        if not body:
            return None
        return rng if rng is not None else (0, v.size - 1)

    v, _, stream = await ctx.svc.engine.get_object(ctx.bucket, ctx.key, plan, version_id,
                                                   customer)
    rng = state["range"]
    headers = (object_headers(v) + sse_response_headers(v, customer)
               + tag_count_header(v.tags)
               + version_header(ctx.bucket_record, v.version_id)
               + expiration_headers(ctx, v))
    restore = tiering.restore_header(v)      # a copy of data moved to the cold tier
    if restore is not None:
        headers.append(("x-amz-restore", restore))
    if part_number is not None and v.is_multipart:
        headers.append(("x-amz-mp-parts-count", str(len(v.parts))))
    if overrides:
        names = {h for h, _ in overrides}
        headers = [(k, val) for k, val in headers if k not in names] + overrides
    headers += read_checksum_headers(req.headers, v, part_number, rng is not None)
    if rng is None:
        status, length = 200, v.size
    else:
        status, length = 206, rng[1] - rng[0] + 1
        headers.append(("Content-Range", f"bytes {rng[0]}-{rng[1]}/{v.size}"))
    headers.append(("Content-Length", str(length)))
    return Response(status, headers, stream if body else b"")
