"""Fuzz request authentication (s3/auth/): the SigV4 and SigV2 Authorization header parsers, the
presigned (query) forms of both, and `authenticate` end to end on a real `http.asgi.Request`.

Every example starts from a request correctly signed now (SigV4 with the benchmark client's
signer, presigned SigV4 and SigV2 with the server's own sigv4/sigv2 functions), then mutates
the Authorization value, a signed header, the path, the query string or the header set.
Invariant: an Identity (or None: anonymous) or an S3Error; an unmutated request authenticates.
"""
import calendar
import datetime as _dt
import time

from hypothesis import strategies as st

from s3ish.util.sigv4_client import Signer, encode_path, encode_query
from s3ish.http.asgi import Request
from s3ish.s3 import errors
from s3ish.s3.auth import authenticate as auth
from s3ish.s3.auth import sigv2, sigv4
from s3ish.s3.auth.credentials import Identity, Users
from tests.fuzz.harness import frozen_now, fuzz, mutate_text, received, run, wire

AK, SECRET, REGION, HOST = "AKIDFUZZ", "fuzz/secret+KEY", "us-east-1", "127.0.0.1:9000"
USERS = Users([Identity(AK, SECRET, "fuzz")])
# One fixed "now" for signer and server (see harness.frozen_now).
NOW = _dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=_dt.timezone.utc)
NOW_TS = calendar.timegm(NOW.timetuple())
_TOKENS = ["AWS4-HMAC-SHA256", "AWS ", "Credential=", "SignedHeaders=", "Signature=",
           "/aws4_request", "host;", "x-amz-date", "20130524T000000Z", "20991231T235959Z",
           "00010101T000000Z", AK, "us-west-2", "s3", "X-Amz-Expires=", "Expires=",
           "X-Amz-Algorithm=", "&", "==", "UNSIGNED-PAYLOAD",
           "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"]

_keys = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1,
                max_size=12)
_path = st.tuples(st.sampled_from(["/", "/bkt", "/bkt/"]), st.text(max_size=12))
_query = st.lists(st.tuples(st.sampled_from(["acl", "uploads", "prefix", "versionId", "x"]),
                            st.text(max_size=6)), max_size=3)


def _receive():
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    return receive


def _request(method, raw_path: str, query: str, headers: list[tuple[str, str]]) -> Request:
    scope = {"type": "http", "method": method, "path": raw_path,
             "raw_path": wire(raw_path), "query_string": wire(query),
             "headers": [(wire(k), wire(v)) for k, v in headers]}
    return Request(scope, _receive())


def _v4_header(data):
    base, key = data.draw(_path)
    path = base + (key if base.endswith("/") else "")
    params = data.draw(_query)
    payload = data.draw(st.sampled_from([sigv4.UNSIGNED, sigv4.EMPTY_SHA256, sigv4.STREAMING,
                                         sigv4.STREAMING_TRAILER,
                                         sigv4.STREAMING_UNSIGNED_TRAILER]))
    extra = ()
    headers = [("host", HOST)]
    if payload.startswith("STREAMING"):
        extra = (("x-amz-decoded-content-length", "0"),)
    tampered = data.draw(st.booleans())
    if tampered:
        # Mutate before signing: odd values that still carry a valid signature reach the
        # code behind the signature check (body wrapping, declared lengths).
        payload = received(mutate_text(data, payload, _TOKENS))
        extra = tuple((k, " ".join(received(mutate_text(data, v, _TOKENS)).split()))
                      for k, v in extra)
    amz_date, authz = Signer(AK, SECRET, REGION, HOST).sign(
        "PUT", encode_path(path), encode_query(params), payload, extra, now=NOW_TS)
    headers += [("x-amz-content-sha256", payload), ("x-amz-date", amz_date),
                ("authorization", authz), *extra]
    return "PUT", encode_path(path), encode_query(params), headers, tampered


def _v4_presigned(data):
    base, key = data.draw(_path)
    path = base + (key if base.endswith("/") else "")
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(NOW_TS))
    scope = sigv4.scope(amz_date[:8], REGION)
    params = data.draw(_query) + [
        ("X-Amz-Algorithm", sigv4.ALGORITHM), ("X-Amz-Credential", f"{AK}/{scope}"),
        ("X-Amz-Date", amz_date), ("X-Amz-Expires", str(data.draw(st.integers(1, 604800)))),
        ("X-Amz-SignedHeaders", "host")]
    canonical = sigv4.canonical_request("GET", path, params, {"host": HOST}, ["host"],
                                        sigv4.UNSIGNED)
    sig = sigv4.sign(sigv4.signing_key(SECRET, amz_date[:8], REGION),
                     sigv4.string_to_sign(amz_date, scope, canonical))
    query = encode_query(params + [("X-Amz-Signature", sig)])
    return "GET", encode_path(path), query, [("host", HOST)], False


def _v2(data, presigned: bool):
    base, key = data.draw(_path)
    raw_path = encode_path(base + (key if base.endswith("/") else ""))
    params = data.draw(_query)
    headers = {"content-type": data.draw(st.sampled_from(["", "text/plain"])),
               "x-amz-meta-a": data.draw(st.text(st.characters(max_codepoint=255),
                                                 max_size=8))}
    date = str(NOW_TS + 600) if presigned else time.strftime(
        "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(NOW_TS))
    headers = {k: v for k, v in headers.items() if v}
    if not presigned:
        headers["date"] = date
    # The server signs the query and path as they arrive (decoded query values).
    query = encode_query(params)
    resources = sigv2.canonical_resources(raw_path, _request("GET", raw_path, query, [])
                                          .query_items(), None)
    sig = sigv2.sign(SECRET, sigv2.string_to_sign("GET", headers, date, resources[0]))
    pairs = list(headers.items())
    if presigned:
        query += ("&" if query else "") + encode_query(
            [("AWSAccessKeyId", AK), ("Expires", date), ("Signature", sig)])
    else:
        pairs.append(("authorization", f"AWS {AK}:{sig}"))
    return "GET", raw_path, query, [("host", HOST)] + pairs, False


def _mutate_request(data, method, raw_path, query, headers):
    where = data.draw(st.sampled_from(["none", "header", "path", "query", "add", "drop",
                                       "several"]))
    rounds = data.draw(st.integers(2, 4)) if where == "several" else 1
    for _ in range(rounds):
        if where == "several":
            where = data.draw(st.sampled_from(["header", "path", "query", "add", "drop"]))
        if where == "header" and headers:
            i = data.draw(st.integers(0, len(headers) - 1))
            headers[i] = (headers[i][0], mutate_text(data, headers[i][1], _TOKENS))
        elif where == "path":
            raw_path = mutate_text(data, raw_path, _TOKENS)
        elif where == "query":
            query = mutate_text(data, query, _TOKENS)
        elif where == "add":
            name = data.draw(st.sampled_from(["authorization", "x-amz-date", "date",
                                              "x-amz-content-sha256", "x-amz-copy-source",
                                              "x-amz-decoded-content-length", "host"]) | _keys)
            headers.append((name, data.draw(st.sampled_from(_TOKENS) | st.text(max_size=30))))
        elif where == "drop" and headers:
            headers.pop(data.draw(st.integers(0, len(headers) - 1)))
    return method, raw_path, query, headers


async def _drain(body) -> None:
    async for _ in body:
        pass


def _authenticate(data, build) -> None:
    method, raw_path, query, headers, tampered = build(data)
    mutated = _mutate_request(data, method, raw_path, query, list(headers))
    req = _request(*mutated)
    try:
        with frozen_now(auth, NOW):
            ident = auth.authenticate(req, USERS)
    except errors.S3Error:
        assert tampered or mutated != (method, raw_path, query, headers), \
            "a valid request was refused"
        return
    assert ident is None or ident.access_key == AK
    try:
        run(_drain(req.body))      # the body as wrapped: verified, de-chunked
    except errors.S3Error:
        pass


@fuzz(st.data())
def test_authenticate_sigv4_header(data):
    _authenticate(data, _v4_header)


@fuzz(st.data())
def test_authenticate_sigv4_presigned(data):
    _authenticate(data, _v4_presigned)


@fuzz(st.data())
def test_authenticate_sigv2_header(data):
    _authenticate(data, lambda d: _v2(d, presigned=False))


@fuzz(st.data())
def test_authenticate_sigv2_presigned(data):
    _authenticate(data, lambda d: _v2(d, presigned=True))


@fuzz(st.data())
def test_sigv4_authorization_parsers(data):
    headers = _v4_header(data)[3]
    value = mutate_text(data, dict(headers)["authorization"], _TOKENS, max_ops=6)
    parts = sigv4.parse_authorization(value)
    assert parts is None or {"Credential", "SignedHeaders", "Signature"} <= parts.keys()
    cred = mutate_text(data, parts["Credential"] if parts else f"{AK}/20130524/{REGION}/s3/"
                       "aws4_request", _TOKENS)
    parsed = sigv4.parse_credential(cred)
    assert parsed is None or (len(parsed) == 4 and all(isinstance(p, str) for p in parsed))
    # The canonical forms are total over any path, query and header the server can decode.
    req = _request("GET", mutate_text(data, "/b/k", _TOKENS), mutate_text(data, "a=b", _TOKENS),
                   [("host", value), ("x-amz-a", cred)])
    canonical = sigv4.canonical_request("GET", req.path, req.query_items(), req.headers,
                                        ["host", "x-amz-a"], sigv4.UNSIGNED)
    sigv4.sign(sigv4.signing_key(SECRET, "20260102", REGION),
               sigv4.string_to_sign("20260102T000000Z", "scope", canonical))
    sigv2.sign(SECRET, sigv2.string_to_sign("GET", req.headers, req.headers["host"],
                                                    req.raw_path))
