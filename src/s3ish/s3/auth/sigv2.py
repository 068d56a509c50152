"""AWS Signature Version 2 (header `AWS AK:SIG` and query `AWSAccessKeyId/Signature/Expires`),
as pure functions. Old clients and the SDKs' default presigned URLs still use it."""
import base64
import hashlib
import hmac

# Query parameters that are part of the canonical resource, per the SigV2 spec.
SUBRESOURCES = frozenset({
    "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber",
    "policy", "requestPayment", "restore", "tagging", "torrent", "uploadId", "uploads",
    "versionId", "versioning", "versions", "website", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "response-content-language",
    "response-content-type", "response-expires", "encryption", "object-lock", "retention",
    "legal-hold", "publicAccessBlock", "ownershipControls", "replication", "accelerate",
})


def canonical_resources(raw_path: str, query: list[tuple[str, str]],
                        vhost_bucket: str | None) -> list[str]:
    """The canonical resource, in the forms clients sign: a bucket-level request is
    `/bucket/` per the spec, but some clients sign it as sent (`/bucket`)."""
    path = raw_path or "/"
    if vhost_bucket:
        path = f"/{vhost_bucket}{path}"
    paths = [path]
    if path.count("/") == 1 and path != "/":
        paths.insert(0, path + "/")
    subs = sorted((k, v) for k, v in query if k in SUBRESOURCES)
    suffix = ""
    if subs:
        suffix = "?" + "&".join(f"{k}={v}" if v != "" else k for k, v in subs)
    return [p + suffix for p in paths]


def canonical_amz_headers(headers: dict[str, str]) -> str:
    amz = sorted((k, " ".join(v.split())) for k, v in headers.items() if k.startswith("x-amz-"))
    return "".join(f"{k}:{v}\n" for k, v in amz)


def string_to_sign(method: str, headers: dict[str, str], date: str, resource: str) -> str:
    return (f"{method}\n{headers.get('content-md5', '')}\n{headers.get('content-type', '')}\n"
            f"{date}\n{canonical_amz_headers(headers)}{resource}")


def sign(secret: str, sts: str) -> str:
    mac = hmac.new(secret.encode(), sts.encode("utf-8", "surrogateescape"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()
