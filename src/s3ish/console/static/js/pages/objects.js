// The object browser: one "folder" (prefix with delimiter "/") of a bucket at a time,
// uploads (multipart above 8 MiB, with progress), downloads and share links (presigned URLs
// the browser opens itself: the bytes never pass through this page's memory), delete.
import { all, text } from "../api.js";
import { uploadFile } from "../upload.js";
import { h, card, table, button, fmtBytes, fmtDate, link, clear } from "../ui.js";
import { xmlEscape as esc } from "./bucket.js";

const PAGE = 200;

export function objectHash(bucket, key) {
  return `#/object/${encodeURIComponent(bucket)}/${encodeURIComponent(key)}`;
}
export function browseHash(bucket, prefix = "") {
  return `#/browse/${encodeURIComponent(bucket)}/${encodeURIComponent(prefix)}`;
}

// Start a download: a presigned GET asking for `Content-Disposition: attachment`, opened by
// the browser, which streams it to disk.
export async function download(client, bucket, key, versionId) {
  const name = key.split("/").pop() || "download";
  const query = [["response-content-disposition",
    `attachment; filename*=UTF-8''${encodeURIComponent(name)}`]];
  if (versionId) query.push(["versionId", versionId]);
  const url = await client.presign({ bucket, key, query, expires: 300 });
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  return url;
}

function breadcrumbs(bucket, prefix) {
  const parts = prefix.split("/").filter(Boolean);
  const crumbs = [link("#/buckets", "Buckets"), " / ",
    link(browseHash(bucket, ""), bucket, { class: "mono" })];
  parts.forEach((p, i) => crumbs.push(" / ", link(browseHash(bucket,
    parts.slice(0, i + 1).join("/") + "/"), p, { class: "mono" })));
  return h("nav", { class: "crumbs", id: "crumbs" }, crumbs);
}

function uploader(client, bucket, prefix, done) {
  const input = h("input", { type: "file", id: "upload-input", multiple: true });
  const list = h("div", { id: "uploads" });
  input.addEventListener("change", async () => {
    const files = Array.from(input.files);
    for (const file of files) {
      const bar = h("progress", { max: file.size || 1, value: 0 });
      const label = h("span", { class: "upload-label" }, "waiting");
      const row = h("div", { class: "upload" }, h("span", { class: "mono" }, file.name), bar,
        label);
      list.append(row);
      try {
        const started = performance.now();
        await uploadFile(client, bucket, prefix + file.name, file, (sent, total) => {
          bar.value = sent;
          const secs = (performance.now() - started) / 1000;
          label.textContent = `${fmtBytes(sent)} of ${fmtBytes(total)}` +
            (secs > 0.5 ? ` · ${fmtBytes(sent / secs)}/s` : "");
        });
        label.textContent = `Uploaded ${fmtBytes(file.size)}`;
        row.classList.add("done");
      } catch (err) {
        label.textContent = `Failed: ${err}`;
        row.classList.add("failed");
      }
    }
    input.value = "";
    done();
  });
  return card("Upload", h("p", { class: "hint" }, "Files go to ",
    h("span", { class: "mono" }, `${bucket}/${prefix}`),
    ". Files above 8 MiB are sent as a multipart upload in 8 MiB parts."), input, list);
}

function shareBox(client, bucket, key) {
  const expiry = h("select", { id: "share-expiry" }, [["900", "15 minutes"], ["3600", "1 hour"],
    ["86400", "1 day"], ["604800", "7 days (the most S3 allows)"]].map(([v, l]) =>
    h("option", { value: v, selected: v === "3600" }, l)));
  const out = h("input", { id: "share-url", readonly: true, class: "mono wide",
                           placeholder: "press Create link" });
  return h("div", { class: "share" }, h("label", {}, "Link valid for "), expiry,
    button("Create link", async () => {
      out.value = await client.presign({ bucket, key, expires: Number(expiry.value) });
      out.select();
      return "Share link created: anyone with it can download the object until it expires.";
    }, "primary", { id: "share-create" }),
    button("Copy", async () => {
      await navigator.clipboard.writeText(out.value);
      return "Copied.";
    }), out);
}
export { shareBox };

export default async function objects(main, ctx, bucket, prefix = "") {
  const { client } = ctx;
  const body = h("div", { id: "listing" });
  let token = null;
  const more = button("Load more", () => load(false), "", { hidden: true });
  const load = async (fresh) => {
    if (fresh) { clear(body); token = null; }
    const query = [["list-type", "2"], ["delimiter", "/"], ["prefix", prefix],
                   ["max-keys", String(PAGE)]];
    if (token) query.push(["continuation-token", token]);
    const doc = await client.s3xml("GET", { bucket, query });
    token = text(doc, "IsTruncated") === "true" ? text(doc, "NextContinuationToken") : null;
    more.hidden = !token;
    const rows = [];
    for (const p of all(doc, "CommonPrefixes")) {
      const sub = text(p, "Prefix");
      rows.push(["", link(browseHash(bucket, sub), sub.slice(prefix.length),
        { class: "folder" }), "", "", ""]);
    }
    for (const o of all(doc, "Contents")) {
      const key = text(o, "Key");
      if (key === prefix) continue;          // the folder's own marker object
      rows.push([h("input", { type: "checkbox", class: "pick", "data-key": key,
                              "aria-label": `select ${key}`, onchange: picked }),
        link(objectHash(bucket, key), key.slice(prefix.length),
        { class: "object mono", "data-key": key }),
        fmtBytes(Number(text(o, "Size"))), fmtDate(text(o, "LastModified")),
        h("span", { class: "actions" },
          button("Download", () => download(client, bucket, key), "small"),
          link(objectHash(bucket, key), "Details", { class: "btn small" }),
          button("Delete", async () => {
            if (!confirm(`Delete ${key}?`)) return undefined;
            await client.s3("DELETE", { bucket, key });
            await load(true);
            return `Deleted ${key}.`;
          }, "danger small"))]);
    }
    const tbody = body.querySelector("tbody");
    if (tbody && !fresh) {
      // "Load more": the next page's rows go into the same table.
      tbody.append(...table(["", "", "", "", ""], rows).querySelectorAll("tbody tr"));
    } else {
      body.append(table(["", "Name", "Size", "Last modified", ""], rows,
        "This folder is empty."));
    }
    picked();
  };
  const selected = () => Array.from(body.querySelectorAll("input.pick:checked"))
    .map((c) => c.dataset.key);
  const removeSelected = button("Delete selected", async () => {
    const keys = selected();
    if (!confirm(`Delete ${keys.length} object${keys.length === 1 ? "" : "s"}?`)) {
      return undefined;
    }
    const doc = await client.s3xml("POST", { bucket, query: [["delete", ""]], checksum: true,
      body: "<Delete><Quiet>true</Quiet>" + keys.map((k) =>
        `<Object><Key>${esc(k)}</Key></Object>`).join("") + "</Delete>" });
    const failed = all(doc, "Error").map((e) => `${text(e, "Key")}: ${text(e, "Code")}`);
    await load(true);
    if (failed.length) throw new Error(`Not deleted: ${failed.join(", ")}`);
    return `Deleted ${keys.length} object${keys.length === 1 ? "" : "s"}.`;
  }, "danger", { id: "delete-selected", disabled: true, onsettled: () => picked() });
  function picked() {
    const n = selected().length;
    removeSelected.disabled = n === 0;
    removeSelected.textContent = n ? `Delete ${n} selected` : "Delete selected";
  }
  const folder = h("input", { id: "folder-name", placeholder: "folder name" });
  main.append(h("h1", {}, "Objects"), breadcrumbs(bucket, prefix),
    h("div", { class: "grid two" }, uploader(client, bucket, prefix, () => load(true)),
      card("Go to a folder", h("p", { class: "hint" }, "Folders are key prefixes: a folder " +
        "exists as soon as an object is uploaded into it."),
      h("form", { class: "row", onsubmit: (ev) => {
        ev.preventDefault();
        if (folder.value) ctx.go(browseHash(bucket, prefix + folder.value.replace(/\/*$/, "/")));
      } }, folder, h("button", { type: "submit" }, "Open")))),
    card(prefix ? `In ${prefix}` : "All objects", h("div", { class: "row toolbar" },
      removeSelected), body, more));
  await load(true);
}
