"""GET/HEAD /_console/...: the console's static files, shipped inside the package.

The files are read once, at the first request, into a table keyed by their URL path: a
request is answered from the table or refused with 404, so no request path ever reaches the
file system (nothing like `..`, an encoded slash or a symlink can lead outside the folder).
The assets are a few tens of KiB in all. Each answer carries a strong ETag (a hash of its
bytes) and `Cache-Control: no-cache`: the browser keeps a copy but asks again each time, so
an upgraded server serves its new console at once, for the price of a 304.
"""
import hashlib
import os
from dataclasses import dataclass

from ..http.asgi import Response

PREFIX = "/_console/"
STATIC = os.path.join(os.path.dirname(__file__), "static")

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
}

# Scripts and styles only from files of this origin (no inline script, no eval), requests
# only to this origin (the S3, IAM and admin APIs live here), never framed, no forms posted
# anywhere. The page builds its DOM with textContent, never innerHTML: together these keep
# an object key or a tag value from running as script in the page that holds the secret.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")

SECURITY_HEADERS = [
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
]


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


def load(folder: str = STATIC) -> dict[str, Asset]:
    """Every file under `folder` with a known type, keyed by its path below /_console/."""
    table = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            ctype = TYPES.get(os.path.splitext(name)[1])
            if ctype is None or name.startswith("."):
                continue
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                body = f.read()
            rel = os.path.relpath(path, folder).replace(os.sep, "/")
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            table[rel] = Asset(body, ctype, etag)
    return table


class Console:
    """The handler of every path that starts with /_console."""

    def __init__(self, folder: str = STATIC):
        self.folder = folder
        self._assets: dict[str, Asset] | None = None

    def assets(self) -> dict[str, Asset]:
        if self._assets is None:
            self._assets = load(self.folder)
        return self._assets

    def handle(self, method: str, path: str, headers: dict) -> Response:
        if not path.startswith(PREFIX):
            # /_console: the page's relative URLs need the trailing slash.
            return Response(308, [("Location", PREFIX), ("Content-Type", "text/plain")],
                            b"moved to /_console/\n")
        if method not in ("GET", "HEAD"):
            return _text(405, "the console's files are read with GET or HEAD\n",
                         [("Allow", "GET, HEAD")])
        asset = self.assets().get(path[len(PREFIX):] or "index.html")
        if asset is None:
            return _text(404, "no such console file\n")
        headers_out = [("ETag", asset.etag), ("Cache-Control", "no-cache"), *SECURITY_HEADERS]
        if _matches(headers.get("if-none-match"), asset.etag):
            return Response(304, headers_out)
        return Response(200, [("Content-Type", asset.content_type), *headers_out], asset.body)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _text(status: int, text: str, extra=()) -> Response:
    return Response(status, [("Content-Type", "text/plain; charset=utf-8"), *extra,
                             *SECURITY_HEADERS], text.encode())
