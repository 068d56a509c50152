// AWS Signature Version 4 in the browser, with the Web Crypto API (HMAC-SHA256, SHA-256).
// The secret key never leaves the page and is not kept: at sign-in it is turned into the
// signing keys of today and tomorrow (scopedKeys), which the session keeps instead. Used for
// S3 (header and presigned query), the IAM Query API (service "iam") and /_admin/ (service
// "s3", as src/s3ish/admin/client.py signs it).

const enc = new TextEncoder();

export const UNSIGNED = "UNSIGNED-PAYLOAD";
export const EMPTY_SHA256 =
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

function bytes(data) {
  return typeof data === "string" ? enc.encode(data) : data;
}

export async function sha256(data) {
  return crypto.subtle.digest("SHA-256", bytes(data));
}

export async function sha256Hex(data) {
  return hex(await sha256(data));
}

export function base64(buf) {
  let s = "";
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s);
}

async function hmac(key, msg) {
  const k = await crypto.subtle.importKey("raw", bytes(key), { name: "HMAC", hash: "SHA-256" },
    false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, bytes(msg));
}

// RFC 3986 percent-encoding as SigV4 defines it: everything but A-Z a-z 0-9 - _ . ~ (and
// "/" in a path, where it separates segments).
export function uriEncode(text, keepSlash = false) {
  let out = "";
  for (const byte of enc.encode(text)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

export function canonicalQuery(params) {
  return params
    .map(([k, v]) => [uriEncode(k), uriEncode(v ?? "")])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

export function amzDate(now = new Date()) {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

export async function signingKey(secret, day, region, service) {
  let k = await hmac("AWS4" + secret, day);
  k = await hmac(k, region);
  k = await hmac(k, service);
  return hmac(k, "aws4_request");
}

// Signing keys for `days` (YYYYMMDD), `region` and `services`, as hex, keyed
// "day/region/service": what a session keeps instead of the secret key. Each one signs only
// requests of its day, region and service.
export async function scopedKeys(secret, days, region, services) {
  const keys = {};
  for (const day of days) {
    for (const service of services) {
      keys[`${day}/${region}/${service}`] = hex(await signingKey(secret, day, region, service));
    }
  }
  return keys;
}

export class SessionExpired extends Error {
  constructor() {
    super("The session's signing keys do not cover today: sign in again.");
    this.code = "SessionExpired";
  }
}

function unhex(text) {
  return new Uint8Array(text.match(/../g).map((b) => parseInt(b, 16)));
}

async function keyFor(creds, day, region, service) {
  if (creds.secretKey) return signingKey(creds.secretKey, day, region, service);
  const stored = creds.keys && creds.keys[`${day}/${region}/${service}`];
  if (!stored) throw new SessionExpired();
  return unhex(stored);
}

async function signature(creds, date, region, service, canonical) {
  const scope = `${date.slice(0, 8)}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", date, scope, await sha256Hex(canonical)].join("\n");
  const key = await keyFor(creds, date.slice(0, 8), region, service);
  return { scope, signature: hex(await hmac(key, toSign)) };
}

// Headers that sign a request: `path` is already URI-encoded (the URL's own path), `query`
// a list of [name, value] (not encoded), `headers` lower-case names (x-amz-* ones are signed,
// as S3 requires), `payloadHash` the hex SHA-256 of the body or UNSIGNED. Returns the headers
// to send (the browser adds Host itself: it is signed with the value it will send).
export async function signHeaders({ method, path, query = [], headers = {}, payloadHash,
                                    creds, region, service = "s3", host = location.host,
                                    now = new Date() }) {
  const date = amzDate(now);
  const all = { ...headers, host, "x-amz-date": date, "x-amz-content-sha256": payloadHash };
  const names = Object.keys(all).filter((n) => n === "host" || n.startsWith("x-amz-")).sort();
  const canonical = [method, path, canonicalQuery(query),
    names.map((n) => `${n}:${String(all[n]).trim().replace(/\s+/g, " ")}\n`).join(""),
    names.join(";"), payloadHash].join("\n");
  const s = await signature(creds, date, region, service, canonical);
  const out = { ...all };
  delete out.host;
  out.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKey}/${s.scope}, ` +
    `SignedHeaders=${names.join(";")}, Signature=${s.signature}`;
  return out;
}

// A presigned URL (query authentication): anyone holding it may make this one request until
// it expires (at most 7 days, as S3 allows).
export async function presignUrl({ method = "GET", path, query = [], creds, region,
                                   expires = 3600, origin = location.origin,
                                   now = new Date() }) {
  const date = amzDate(now);
  const host = new URL(origin).host;
  const scope = `${date.slice(0, 8)}/${region}/s3/aws4_request`;
  const params = [...query,
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${creds.accessKey}/${scope}`],
    ["X-Amz-Date", date],
    ["X-Amz-Expires", String(expires)],
    ["X-Amz-SignedHeaders", "host"]];
  const canonical = [method, path, canonicalQuery(params), `host:${host}\n`, "host",
    UNSIGNED].join("\n");
  const s = await signature(creds, date, region, "s3", canonical);
  return `${origin}${path}?${canonicalQuery(params)}&X-Amz-Signature=${s.signature}`;
}
