"""What a header s3ish stores or echoes may hold: the one validator for every way a name or
value reaches a response header later (PutObject, CopyObject and CreateMultipartUpload headers,
PostObject form fields, response-* overrides, the POST redirect target).

A value that could not be sent back as an HTTP header is refused when it arrives, with S3's
`400 InvalidArgument`; stored, it would break every later GET/HEAD of the object.
"""
import re

from .. import errors

# RFC 9110 token characters: all a header field name may contain.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
# RFC 9110 field values exclude control characters (CR and LF included) except HTAB, and DEL;
# the frontend sends header values as Latin-1, so nothing beyond it can be represented.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]")


def check_name(name: str) -> None:
    if not _TOKEN.match(name):
        shown = repr(name)[1:-1]    # control characters must not reach the error XML
        raise errors.InvalidArgument(f"'{shown}' is not a valid HTTP header name.",
                                     ArgumentName=shown)


def check_value(name: str, value: str) -> None:
    if _BAD_VALUE.search(value):
        raise errors.InvalidArgument(f"Header value for {name} contains characters that are "
                                     "not allowed in an HTTP header.", ArgumentName=name)


def wire_form(text: str) -> str:
    """A value that arrived as text (a form field, a decoded query parameter) in the form a
    header value has once received: its UTF-8 bytes, one Latin-1 character per byte. Sent back,
    it is the bytes the client sent."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def sendable(name: str, value: str) -> bool:
    """Can this header go out? Non-Latin-1 characters are replaced when it is sent; control
    characters or a name that is not a token would make the server drop the response."""
    return bool(_TOKEN.match(name)) and not _CONTROL.search(value)
