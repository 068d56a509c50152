"""The frontend reports a response that failed after it started with its real outcome, and
never lets a header the server cannot send drop the connection silently."""
import asyncio
import logging

from s3ish.http.asgi import Request, Response
from s3ish.s3.frontend import S3Frontend, Services


def _frontend():
    return S3Frontend(Services(engine=None, multipart=None, users=None, region="us-east-1",
                               domains=()))


def _scope(path="/"):
    return {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(),
            "query_string": b"", "headers": [(b"host", b"localhost")],
            "client": ("127.0.0.1", 1)}


async def _receive():
    return {"type": "http.request", "body": b"", "more_body": False}


class _Send:
    """An ASGI send whose first response start fails, as a server refusing a header does."""

    def __init__(self, fail_start=0):
        self.messages, self.fail_start = [], fail_start

    async def __call__(self, message):
        if message["type"] == "http.response.start" and self.fail_start:
            self.fail_start -= 1
            raise RuntimeError("Invalid HTTP header value.")
        self.messages.append(message)


def _access(caplog):
    return [r for r in caplog.records if r.name == "s3ish.access"]


def test_failed_start_is_answered_and_logged_as_500(caplog):
    caplog.set_level(logging.INFO)
    send = _Send(fail_start=1)
    asyncio.run(_frontend()(_scope(), _receive, send))
    assert send.messages[0]["status"] == 500
    assert b"<Code>InternalError</Code>" in send.messages[1]["body"]
    (entry,) = _access(caplog)
    assert entry.status == 500 and entry.error == "ResponseFailed:RuntimeError"


def test_unsendable_header_becomes_internal_error(caplog):
    caplog.set_level(logging.INFO)
    send = _Send()
    req = Request(_scope("/b/k"), _receive)

    async def body():
        yield b"never sent"

    resp = Response(200, [("x-amz-meta-bad", "a\r\nb")], body())
    out, code, sent = asyncio.run(_frontend()._send(send, req, resp, "", "RID"))
    assert out.status == 500 and code == "ResponseFailed:BadHeader" and sent == 0
    assert send.messages[0]["status"] == 500
    assert all(b"a\r\nb" not in v for _, v in send.messages[0]["headers"])
