"""The few S3 calls a benchmark needs, signed with `util.sigv4_client` and sent on
`util.httpclient`.

Path-style addressing against any endpoint: `http(s)://host[:port]/bucket/key`. Each call takes
the connection to use (one per worker) and raises `S3Error` for a non-2xx status, with the S3
error code and message taken from the XML body, or `HTTPError` for a transport failure.
"""
import base64
import hashlib
import re
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, unescape

from ..util.httpclient import Connection, HTTPError, Response, ssl_context
from ..util.sigv4_client import (EMPTY_SHA256, UNSIGNED_PAYLOAD, Signer, encode_path,
                                 encode_query)

USER_AGENT = "s3ish-bench/1"
_CODE = re.compile(rb"<Code>(.*?)</Code>", re.S)
_MESSAGE = re.compile(rb"<Message>(.*?)</Message>", re.S)
_UPLOAD_ID = re.compile(rb"<UploadId>(.*?)</UploadId>", re.S)
_TOKEN = re.compile(rb"<NextContinuationToken>(.*?)</NextContinuationToken>", re.S)
_KEY = re.compile(rb"<Key>(.*?)</Key>", re.S)
_VERSION = re.compile(rb"<(?:Version|DeleteMarker)>.*?<Key>(.*?)</Key>.*?"
                      rb"<VersionId>(.*?)</VersionId>", re.S)
_NEXT_KEY = re.compile(rb"<NextKeyMarker>(.*?)</NextKeyMarker>", re.S)
_NEXT_VID = re.compile(rb"<NextVersionIdMarker>(.*?)</NextVersionIdMarker>", re.S)


class S3Error(Exception):
    def __init__(self, op: str, status: int, code: str, message: str):
        super().__init__(f"{op}: HTTP {status} {code}: {message}".rstrip(": "))
        self.status = status
        self.code = code


def _error(op: str, resp: Response) -> S3Error:
    body = resp.body or b""
    code = _CODE.search(body)
    message = _MESSAGE.search(body)
    return S3Error(op, resp.status, code.group(1).decode(errors="replace") if code else "",
                   unescape(message.group(1).decode(errors="replace")) if message else
                   body[:200].decode(errors="replace"))


class S3:
    """A path-style S3 client for one endpoint, key pair, region and bucket."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, region: str,
                 bucket: str, verify_tls: bool = True):
        url = urlsplit(endpoint if "://" in endpoint else "http://" + endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"bad endpoint URL {endpoint!r}")
        self.tls = url.scheme == "https"
        self.hostname = url.hostname
        self.port = url.port or (443 if self.tls else 80)
        default_port = (self.tls and self.port == 443) or (not self.tls and self.port == 80)
        host = f"[{url.hostname}]" if ":" in url.hostname else url.hostname
        self.host = host if default_port else f"{host}:{self.port}"
        self.base = url.path.rstrip("/")
        self.bucket = bucket
        self.region = region
        self.signer = Signer(access_key, secret_key, region, self.host)
        self._ssl = ssl_context(verify_tls) if self.tls else None
        self._bucket_path = encode_path(f"{self.base}/{bucket}")

    def connection(self, connect_timeout: float = 30.0) -> Connection:
        return Connection(self.hostname, self.port, self._ssl, self.hostname, connect_timeout)

    def key_path(self, key: str) -> str:
        """The encoded request path of an object; compute it once per key and reuse it."""
        return encode_path(f"{self.base}/{self.bucket}/{key}")

    def _head(self, method: str, path: str, query: str = "", length: int | None = None,
              payload_hash: str = UNSIGNED_PAYLOAD, extra=()) -> bytes:
        amz_date, auth = self.signer.sign(method, path, query, payload_hash, extra)
        target = f"{path}?{query}" if query else path
        lines = "".join(f"{k}: {v}\r\n" for k, v in extra)
        if length is not None:
            lines += f"Content-Length: {length}\r\n"
        return (f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\n"
                f"User-Agent: {USER_AGENT}\r\nX-Amz-Date: {amz_date}\r\n"
                f"X-Amz-Content-SHA256: {payload_hash}\r\nAuthorization: {auth}\r\n"
                f"{lines}\r\n").encode()

    async def _call(self, op: str, conn: Connection, head: bytes, body=None,
                    keep_body: bool = False, no_body: bool = False) -> Response:
        resp = await conn.request(head, body, keep_body, no_body)
        if not 200 <= resp.status < 300:
            raise _error(op, resp)
        return resp

    # -- objects -------------------------------------------------------------------------
    async def put(self, conn: Connection, path: str, body) -> Response:
        return await self._call("PUT", conn, self._head("PUT", path, length=len(body)), body)

    async def get(self, conn: Connection, path: str) -> Response:
        """GET an object, reading (and counting, not keeping) its whole body."""
        return await self._call("GET", conn, self._head("GET", path, payload_hash=EMPTY_SHA256))

    async def delete(self, conn: Connection, path: str) -> Response:
        return await self._call("DELETE", conn,
                                self._head("DELETE", path, payload_hash=EMPTY_SHA256))

    async def list_page(self, conn: Connection, prefix: str, token: str | None,
                        max_keys: int) -> tuple[Response, list[bytes], str | None]:
        """One ListObjectsV2 page: (response, raw keys, next continuation token or None)."""
        params = {"list-type": "2", "prefix": prefix, "max-keys": str(max_keys)}
        if token:
            params["continuation-token"] = token
        query = encode_query(params)
        resp = await self._call("LIST", conn, self._head("GET", self._bucket_path, query,
                                                         payload_hash=EMPTY_SHA256),
                                keep_body=True)
        keys = _KEY.findall(resp.body)
        next_token = _TOKEN.search(resp.body)
        return resp, keys, unescape(next_token.group(1).decode()) if next_token else None

    async def list_versions_page(self, conn: Connection, prefix: str,
                                 marker: tuple[str, str] | None, max_keys: int
                                 ) -> tuple[Response, list[tuple[bytes, bytes]],
                                            tuple[str, str] | None]:
        """One ListObjectVersions page: (response, raw (key, version id) of its versions and
        delete markers, the next (key marker, version id marker) or None at the end)."""
        params = {"versions": "", "prefix": prefix, "max-keys": str(max_keys)}
        if marker:
            params["key-marker"], params["version-id-marker"] = marker
        resp = await self._call("ListObjectVersions", conn, self._head(
            "GET", self._bucket_path, encode_query(params), payload_hash=EMPTY_SHA256),
            keep_body=True)
        found = _VERSION.findall(resp.body)
        if b"<IsTruncated>true</IsTruncated>" not in resp.body:
            return resp, found, None
        key, vid = _NEXT_KEY.search(resp.body), _NEXT_VID.search(resp.body)
        return resp, found, (unescape(key.group(1).decode()) if key else "",
                             unescape(vid.group(1).decode()) if vid else "")

    async def put_versioning(self, conn: Connection, status: str = "Enabled") -> None:
        body = (f'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                f"<Status>{status}</Status></VersioningConfiguration>").encode()
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        await self._call("PutBucketVersioning", conn, self._head(
            "PUT", self._bucket_path, "versioning=", length=len(body),
            payload_hash=hashlib.sha256(body).hexdigest(), extra=(("content-md5", md5),)),
            body)

    async def delete_versions(self, conn: Connection, versions: list[tuple[str, str]]) -> None:
        """DeleteObjects (quiet) of up to 1000 (key, version id): removes them for good."""
        objects = "".join(f"<Object><Key>{escape(k)}</Key><VersionId>{escape(v)}</VersionId>"
                          f"</Object>" for k, v in versions)
        await self._delete_batch(conn, objects)

    # -- multipart -----------------------------------------------------------------------
    async def create_multipart(self, conn: Connection, path: str) -> str:
        resp = await self._call("CreateMultipartUpload", conn,
                                self._head("POST", path, "uploads=", length=0,
                                           payload_hash=EMPTY_SHA256), keep_body=True)
        found = _UPLOAD_ID.search(resp.body)
        if not found:
            raise S3Error("CreateMultipartUpload", resp.status, "", "no UploadId in response")
        return unescape(found.group(1).decode())

    async def upload_part(self, conn: Connection, path: str, upload_id: str, number: int,
                          body) -> str:
        query = encode_query({"partNumber": str(number), "uploadId": upload_id})
        resp = await self._call("UploadPart", conn,
                                self._head("PUT", path, query, length=len(body)), body)
        etag = resp.headers.get("etag")
        if not etag:
            raise S3Error("UploadPart", resp.status, "", "no ETag in response")
        return etag

    async def complete_multipart(self, conn: Connection, path: str, upload_id: str,
                                 etags: list[str]) -> Response:
        parts = "".join(f"<Part><PartNumber>{i}</PartNumber><ETag>{escape(e)}</ETag></Part>"
                        for i, e in enumerate(etags, 1))
        body = (f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>").encode()
        query = encode_query({"uploadId": upload_id})
        resp = await self._call("CompleteMultipartUpload", conn,
                                self._head("POST", path, query, length=len(body)), body,
                                keep_body=True)
        # S3 may answer 200 with an error document once the body has started streaming.
        if b"<Error>" in resp.body[:512]:
            raise _error("CompleteMultipartUpload", resp)
        return resp

    async def abort_multipart(self, conn: Connection, path: str, upload_id: str) -> None:
        query = encode_query({"uploadId": upload_id})
        await self._call("AbortMultipartUpload", conn,
                         self._head("DELETE", path, query, payload_hash=EMPTY_SHA256))

    # -- buckets -------------------------------------------------------------------------
    async def ensure_bucket(self, conn: Connection) -> bool:
        """Create the bucket if it does not exist; return True if this call created it."""
        head = self._head("HEAD", self._bucket_path, payload_hash=EMPTY_SHA256)
        resp = await conn.request(head, no_body=True)
        if 200 <= resp.status < 300:
            return False
        if resp.status != 404:  # a HEAD error has no body: ask again to learn the S3 code
            await self.list_page(conn, "", None, 1)
            raise S3Error("HeadBucket", resp.status, "", "cannot use the bucket")
        body = b""
        if self.region != "us-east-1":
            body = (f'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                    f"<LocationConstraint>{self.region}</LocationConstraint>"
                    f"</CreateBucketConfiguration>").encode()
        await self._call("CreateBucket", conn,
                         self._head("PUT", self._bucket_path, length=len(body)), body)
        return True

    async def delete_bucket(self, conn: Connection) -> None:
        await self._call("DeleteBucket", conn,
                         self._head("DELETE", self._bucket_path, payload_hash=EMPTY_SHA256))

    async def delete_objects(self, conn: Connection, keys: list[str]) -> None:
        """DeleteObjects (quiet) for up to 1000 keys; raises if any key failed."""
        objects = "".join(f"<Object><Key>{escape(k)}</Key></Object>" for k in keys)
        await self._delete_batch(conn, objects)

    async def _delete_batch(self, conn: Connection, objects: str) -> None:
        body = f"<Delete><Quiet>true</Quiet>{objects}</Delete>".encode()
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        head = self._head("POST", self._bucket_path, "delete=", length=len(body),
                          extra=(("content-md5", md5),))
        resp = await self._call("DeleteObjects", conn, head, body, keep_body=True)
        if b"<Error>" in resp.body:
            raise _error("DeleteObjects", Response(resp.status, {}, resp.body.split(
                b"<Error>", 1)[1], 0))

    async def list_all(self, conn: Connection, prefix: str):
        """Yield every key (decoded) under prefix, one page of up to 1000 at a time."""
        token = None
        while True:
            _, keys, token = await self.list_page(conn, prefix, token, 1000)
            yield [unescape(k.decode()) for k in keys]
            if not token:
                return


__all__ = ["S3", "S3Error", "HTTPError"]
