"""IAM's XML: `<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>` and
`<ErrorResponse><Error><Type>Sender</Type><Code>...`, from plain Python values: a dict is a
sequence of elements, a list a sequence of `<member>` elements, a datetime ISO 8601 (UTC),
a bool `true`/`false`; None is left out."""
import datetime as _dt

from ..s3.xml.codec import escape_text

NS = "https://iam.amazonaws.com/doc/2010-05-08/"


def _value(v) -> str:
    if isinstance(v, dict):
        return "".join(f"<{k}>{_value(x)}</{k}>" for k, x in v.items() if x is not None)
    if isinstance(v, list):
        return "".join(f"<member>{_value(x)}</member>" for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        when = _dt.datetime.fromtimestamp(v, _dt.timezone.utc)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return escape_text(str(v))


def response(action: str, result: dict | None, request_id: str) -> bytes:
    body = f"<{action}Result>{_value(result)}</{action}Result>" if result is not None else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{NS}">{body}'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            f"</{action}Response>").encode()


def error(code: str, message: str, request_id: str, sender: bool = True) -> bytes:
    kind = "Sender" if sender else "Receiver"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="{NS}"><Error>'
            f"<Type>{kind}</Type><Code>{code}</Code><Message>{escape_text(message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>").encode()
