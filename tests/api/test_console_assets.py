"""/_console/: the web console's static files, served beside S3 (console/assets.py): types,
caching (ETag, 304), the security headers, and no way out of the static folder."""
import http.client

import requests

from s3ish.console.assets import CSP


def get(server, path, **kw):
    return requests.get(server.endpoint + path, timeout=10, allow_redirects=False, **kw)


def test_index_and_modules_have_their_types_and_headers(server):
    r = get(server, "/_console/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<script type="module" src="js/app.js">' in r.content
    assert r.headers["Content-Security-Policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-cache"
    for path, ctype in [("/_console/js/app.js", "text/javascript; charset=utf-8"),
                        ("/_console/js/pages/objects.js", "text/javascript; charset=utf-8"),
                        ("/_console/console.css", "text/css; charset=utf-8"),
                        ("/_console/favicon.svg", "image/svg+xml")]:
        r = get(server, path)
        assert (r.status_code, r.headers["Content-Type"]) == (200, ctype), path
    assert get(server, "/_console/index.html").content == get(server, "/_console/").content


def test_etag_revalidation_answers_304(server):
    r = get(server, "/_console/js/sigv4.js")
    etag = r.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = get(server, "/_console/js/sigv4.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    other = get(server, "/_console/js/sigv4.js", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.content == r.content
    head = requests.head(server.endpoint + "/_console/js/sigv4.js", timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(r.content))


def test_no_path_leads_outside_the_static_folder(server):
    for path in ["/_console/../app.py", "/_console/%2e%2e/assets.py",
                 "/_console/js/..%2f..%2fassets.py", "/_console/%2e%2e%2f%2e%2e%2fapp.py",
                 "/_console//etc/passwd", "/_console/..%5cassets.py", "/_console/js/",
                 "/_console/assets.py", "/_console/__init__.py", "/_console/nope.html"]:
        # http.client sends the path as written (no client-side dot-segment clean-up).
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        conn.close()
        assert r.status == 404, path
        assert b"no such console file" in body, path


def test_methods_and_the_bare_prefix(server):
    r = requests.post(server.endpoint + "/_console/", timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    r = get(server, "/_console")
    assert r.status_code == 308 and r.headers["Location"] == "/_console/"


def test_the_console_is_not_a_bucket(server, s3):
    """`_console` can never be a bucket name: S3 requests do not reach it, and a bucket
    listing is unaffected."""
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "_console" not in names
