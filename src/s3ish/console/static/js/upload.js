// Uploads from the browser: one PutObject up to PART_SIZE, multipart above it (parts of
// 8 MiB, three at a time, each hashed and signed; so a tab holds three parts, never the
// whole file).
// XMLHttpRequest, not fetch, because only XHR reports upload progress.
import { canonicalQuery, sha256Hex, signHeaders } from "./sigv4.js";
import { objectPath, parseXml, text, ApiError } from "./api.js";

export const PART_SIZE = 8 * 1024 * 1024;
export const PARALLEL = 3;

function send(method, url, headers, body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(xhr);
      const doc = xhr.responseText.startsWith("<") ? parseXml(xhr.responseText) : null;
      reject(new ApiError(xhr.status, doc && text(doc, "Code"),
                          doc ? text(doc, "Message") : xhr.responseText));
    };
    xhr.onerror = () => reject(new ApiError(0, "NetworkError", "the upload was interrupted"));
    xhr.send(body);
  });
}

async function signedSend(client, method, bucket, key, query, data, headers, onProgress) {
  const path = objectPath(bucket, key);
  const signed = await signHeaders({ method, path, query, creds: client.creds,
                                     region: client.region, payloadHash: await sha256Hex(data) });
  const url = path + (query.length ? "?" + canonicalQuery(query) : "");
  return send(method, url, { ...headers, ...signed }, data, onProgress);
}

// Upload `file` (a File or Blob) as bucket/key; onProgress(bytesSent, total).
export async function uploadFile(client, bucket, key, file, onProgress = () => {}) {
  const type = { "content-type": file.type || "application/octet-stream" };
  if (file.size <= PART_SIZE) {
    const data = new Uint8Array(await file.arrayBuffer());
    await signedSend(client, "PUT", bucket, key, [], data, type,
                     (n) => onProgress(n, file.size));
    onProgress(file.size, file.size);
    return;
  }
  const created = await client.s3xml("POST", { bucket, key, query: [["uploads", ""]],
                                               headers: type });
  const uploadId = text(created, "UploadId");
  const count = Math.ceil(file.size / PART_SIZE);
  const etags = new Array(count);
  const sent = new Array(count).fill(0);
  let next = 0;
  // PARALLEL parts in flight (each one part's bytes in memory): a browser far from the
  // server is latency-bound with one.
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const offset = i * PART_SIZE;
      const data = new Uint8Array(await file.slice(offset, offset + PART_SIZE).arrayBuffer());
      const xhr = await signedSend(client, "PUT", bucket, key,
        [["partNumber", String(i + 1)], ["uploadId", uploadId]], data, {}, (n) => {
          sent[i] = n;
          onProgress(sent.reduce((a, b) => a + b, 0), file.size);
        }).catch((err) => {
          next = count;           // the other workers stop taking parts
          throw err;
        });
      sent[i] = data.length;
      etags[i] = xhr.getResponseHeader("ETag");
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(PARALLEL, count) }, worker));
    const parts = etags.map((etag, i) =>
      `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`).join("");
    await client.s3("POST", { bucket, key, query: [["uploadId", uploadId]],
      body: `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>` });
    onProgress(file.size, file.size);
  } catch (err) {
    // Leave no half upload behind (its parts would hold space until the reaper's expiry).
    await client.s3("DELETE", { bucket, key, query: [["uploadId", uploadId]] })
      .catch(() => {});
    throw err;
  }
}
