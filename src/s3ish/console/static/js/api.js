// The console's clients of the server's own APIs, on this origin: S3 (path style), the IAM
// Query API (POST / signed for service "iam") and the operator's /_admin/ and /_metrics
// (signed by root for service "s3"). Every request is signed here; none carries a cookie.
import { EMPTY_SHA256, base64, canonicalQuery, presignUrl, sha256, sha256Hex, signHeaders,
         uriEncode } from "./sigv4.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || `HTTP ${status}`;
  }
  toString() {
    return `${this.code}: ${this.message}`;
  }
}

export function parseXml(text) {
  return new DOMParser().parseFromString(text, "application/xml");
}

// The first element named `tag` under `node` (any depth), or null; and its text.
export function first(node, tag) {
  return node.getElementsByTagName(tag)[0] || null;
}
export function text(node, tag, fallback = "") {
  const el = first(node, tag);
  return el ? el.textContent : fallback;
}
export function all(node, tag) {
  return Array.from(node.getElementsByTagName(tag));
}
// Direct children named `tag` (S3 repeats element names at several depths).
export function children(node, tag) {
  return Array.from(node.children).filter((c) => c.localName === tag);
}

export function objectPath(bucket, key) {
  let path = "/" + uriEncode(bucket);
  if (key !== undefined && key !== null) path += "/" + uriEncode(key, true);
  return path;
}

async function errorOf(resp) {
  const body = await resp.text();
  if (body.startsWith("<")) {
    const doc = parseXml(body);
    const code = text(doc, "Code");
    if (code) return Object.assign(new ApiError(resp.status, code, text(doc, "Message")),
      { region: text(doc, "Region") });
  }
  if (body.startsWith("{")) {
    try {
      return new ApiError(resp.status, `HTTP ${resp.status}`, JSON.parse(body).error);
    } catch (e) { /* not JSON after all: shown as text below */ }
  }
  return new ApiError(resp.status, `HTTP ${resp.status}`, body.trim().slice(0, 300));
}

// Reads bypass the browser's cache (a listing must be current). Only reads: with "no-store"
// the browser adds `Cache-Control: no-cache` to the request, which a PutObject or
// CreateMultipartUpload would store as the object's own Cache-Control.
function cacheMode(method) {
  return method === "GET" || method === "HEAD" ? "no-store" : "default";
}

export class Client {
  // `secretKey` at sign-in only; afterwards `keys`, the session's scoped signing keys.
  constructor({ accessKey, secretKey, keys, region }) {
    this.creds = { accessKey, secretKey, keys };
    this.region = region || "us-east-1";
  }

  // One signed S3 request. `body`: a string or bytes (hashed and signed); `checksum` adds
  // x-amz-checksum-sha256, which operations that require Content-MD5 accept instead (Web
  // Crypto has no MD5).
  async s3(method, { bucket, key, query = [], headers = {}, body = null, checksum = false,
                     retried = false } = {}) {
    const path = bucket ? objectPath(bucket, key) : "/";
    const data = typeof body === "string" ? new TextEncoder().encode(body) : body;
    const amz = {};
    const plain = {};
    for (const [k, v] of Object.entries(headers)) {
      (k.toLowerCase().startsWith("x-amz-") ? amz : plain)[k.toLowerCase()] = v;
    }
    if (checksum && data) amz["x-amz-checksum-sha256"] = base64(await sha256(data));
    const signed = await signHeaders({
      method, path, query, headers: amz, creds: this.creds,
      region: this.region, payloadHash: data ? await sha256Hex(data) : EMPTY_SHA256,
    });
    const url = path + (query.length ? "?" + canonicalQuery(query) : "");
    const resp = await fetch(url, { method, headers: { ...plain, ...signed }, body: data,
                                    cache: cacheMode(method), credentials: "omit" });
    if (resp.ok) return resp;
    const err = await errorOf(resp);
    if (!retried && err.region && err.region !== this.region) {
      // The server names its region when a signature used another: sign again with it.
      this.region = err.region;
      return this.s3(method, { bucket, key, query, headers, body, checksum, retried: true });
    }
    throw err;
  }

  async s3xml(method, opts) {
    const resp = await this.s3(method, opts);
    return parseXml(await resp.text());
  }

  presign({ method = "GET", bucket, key, query = [], expires = 3600 }) {
    return presignUrl({ method, path: objectPath(bucket, key), query, creds: this.creds,
                        region: this.region, expires });
  }

  // The IAM Query API: `params` an object of form fields (lists as Name.member.N).
  async iam(action, params = {}) {
    const body = new URLSearchParams({ Action: action, Version: "2010-05-08", ...params })
      .toString();
    const signed = await signHeaders({
      method: "POST", path: "/", creds: this.creds, region: this.region, service: "iam",
      payloadHash: await sha256Hex(body),
    });
    const resp = await fetch("/", {
      method: "POST", body, credentials: "omit",
      headers: { ...signed, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    });
    if (!resp.ok) throw await errorOf(resp);
    return parseXml(await resp.text());
  }

  // A root-only operator endpoint (/_admin/... or /_metrics), signed like `s3ish admin`.
  async operator(method, path) {
    const signed = await signHeaders({ method, path, creds: this.creds, region: this.region,
                                       payloadHash: EMPTY_SHA256 });
    const resp = await fetch(path, { method, headers: signed, cache: cacheMode(method),
                                     credentials: "omit" });
    if (!resp.ok) throw await errorOf(resp);
    return resp;
  }

  async admin(method, path) {
    return (await this.operator(method, path)).json();
  }

  async metrics() {
    return parseMetrics(await (await this.operator("GET", "/_metrics")).text());
  }
}

// Prometheus text format -> [{name, labels, value}] (comments and malformed lines skipped).
export function parseMetrics(body) {
  const out = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/;
  for (const raw of body.split("\n")) {
    if (!raw || raw.startsWith("#")) continue;
    const m = line.exec(raw);
    if (!m) continue;
    const labels = {};
    for (const l of (m[3] || "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    }
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}
