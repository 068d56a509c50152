// One object: its metadata (HeadObject), tags (edit), versions (download, restore an older
// one by copying it over the current one, delete), download and share link.
import { all, text } from "../api.js";
import { uriEncode } from "../sigv4.js";
import { h, card, table, button, fmtBytes, fmtDate, link, badge, notify } from "../ui.js";
import { browseHash, download, shareBox } from "./objects.js";
import { xmlEscape as esc } from "./bucket.js";

async function versions(client, bucket, key) {
  const out = [];
  let marker = null;
  let vmarker = null;
  do {
    const query = [["versions", ""], ["prefix", key]];
    if (marker !== null) query.push(["key-marker", marker], ["version-id-marker", vmarker]);
    const doc = await client.s3xml("GET", { bucket, query });
    // In the answer's order: newest first (versions and delete markers interleaved).
    for (const v of Array.from(doc.documentElement.children)) {
      if (!["Version", "DeleteMarker"].includes(v.localName) || text(v, "Key") !== key) {
        continue;
      }
      out.push({ id: text(v, "VersionId"), latest: text(v, "IsLatest") === "true",
                 date: text(v, "LastModified"), size: Number(text(v, "Size", "0")),
                 marker: v.localName === "DeleteMarker" });
    }
    const more = text(doc, "IsTruncated") === "true" && text(doc, "NextKeyMarker") === key;
    marker = more ? text(doc, "NextKeyMarker") : null;
    vmarker = more ? text(doc, "NextVersionIdMarker") : null;
  } while (marker !== null);
  return out;
}

function metadataCard(resp) {
  const hd = resp.headers;
  const rows = [["Size", fmtBytes(Number(hd.get("content-length")))],
    ["Last modified", fmtDate(hd.get("last-modified"))], ["ETag", hd.get("etag")],
    ["Content type", hd.get("content-type")], ["Version", hd.get("x-amz-version-id") || "–"],
    ["Storage class", hd.get("x-amz-storage-class") || "STANDARD"],
    ["Encryption", hd.get("x-amz-server-side-encryption") || "none"]];
  for (const [name, value] of hd.entries()) {
    if (name.startsWith("x-amz-meta-")) rows.push([`Metadata: ${name.slice(11)}`, value]);
    else if (["cache-control", "content-disposition", "content-encoding",
              "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date",
              "x-amz-object-lock-legal-hold"].includes(name)) rows.push([name, value]);
  }
  return card("Metadata", h("dl", { class: "props", id: "object-meta" },
    rows.map(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono" }, v ?? "")])));
}

function tagsCard(client, bucket, key, doc, reload) {
  const tags = all(doc, "Tag").map((t) => [text(t, "Key"), text(t, "Value")]);
  const write = async (list) => {
    if (!list.length) await client.s3("DELETE", { bucket, key, query: [["tagging", ""]] });
    else await client.s3("PUT", { bucket, key, query: [["tagging", ""]], checksum: true,
      body: "<Tagging><TagSet>" + list.map(([k, v]) =>
        `<Tag><Key>${esc(k)}</Key><Value>${esc(v)}</Value></Tag>`).join("") +
        "</TagSet></Tagging>" });
    reload();
    return "Tags saved.";
  };
  const k = h("input", { id: "tag-key", placeholder: "key" });
  const v = h("input", { id: "tag-value", placeholder: "value" });
  return card("Tags", table(["Key", "Value", ""], tags.map(([tk, tv], i) => [tk, tv,
    button("Remove", () => write(tags.filter((_, j) => j !== i)), "danger small")]),
  "No tags."), h("div", { class: "row" }, k, v, button("Add tag",
    () => write([...tags.filter(([tk]) => tk !== k.value), [k.value, v.value]]), "primary",
    { id: "tag-add" })));
}

function versionsCard(client, bucket, key, list, reload) {
  const source = (id) => `${uriEncode(bucket)}/${uriEncode(key, true)}?versionId=${
    encodeURIComponent(id)}`;
  const rows = list.map((v) => [h("span", { class: "mono" }, v.id),
    v.marker ? badge("delete marker", "warn") : v.latest ? badge("current", "on") : "",
    fmtDate(v.date), v.marker ? "" : fmtBytes(v.size),
    h("span", { class: "actions" },
      v.marker ? null : button("Download", () => download(client, bucket, key, v.id), "small"),
      v.latest || v.marker ? null : button("Restore", async () => {
        await client.s3("PUT", { bucket, key, headers: { "x-amz-copy-source": source(v.id) } });
        reload();
        return `Version ${v.id} restored: it is the current version again (as a new copy).`;
      }, "primary small"),
      button("Delete", async () => {
        if (!confirm(`Delete version ${v.id} for good?`)) return undefined;
        await client.s3("DELETE", { bucket, key, query: [["versionId", v.id]] });
        reload();
        return `Version ${v.id} deleted.`;
      }, "danger small"))]);
  const el = card("Versions", table(["Version", "", "Date", "Size", ""], rows,
    "Versioning has never been enabled on this bucket."));
  el.id = "versions";
  return el;
}

export default async function objectPage(main, ctx, bucket, key) {
  const { client } = ctx;
  const reload = () => ctx.go(`#/object/${encodeURIComponent(bucket)}/${encodeURIComponent(key)}`);
  const folder = key.includes("/") ? key.slice(0, key.lastIndexOf("/") + 1) : "";
  main.append(h("nav", { class: "crumbs" }, link("#/buckets", "Buckets"), " / ",
    link(browseHash(bucket, folder), `${bucket}/${folder}`, { class: "mono" })),
  h("h1", { class: "mono", id: "object-key" }, key.slice(folder.length)));
  const [head, tags, vers] = await Promise.all([
    client.s3("HEAD", { bucket, key }).catch((e) => {
      if (e.status === 404) return null;
      throw e;
    }),
    client.s3xml("GET", { bucket, key, query: [["tagging", ""]] }).catch(() => null),
    versions(client, bucket, key)]);
  const dl = h("a", { id: "download-link", class: "btn primary", href: "#" }, "Download");
  if (head) {
    // Presigned as the page is drawn (valid 15 minutes): the browser streams it to disk.
    const name = key.split("/").pop();
    const query = [["response-content-disposition",
      `attachment; filename*=UTF-8''${encodeURIComponent(name)}`]];
    dl.href = await client.presign({ bucket, key, query, expires: 900 });
    dl.setAttribute("download", name);
    // A click presigns afresh (the page may have been open for longer than 15 minutes);
    // the href stays for "copy link" and "save link as".
    dl.addEventListener("click", (ev) => {
      ev.preventDefault();
      download(client, bucket, key).catch((err) => notify(String(err), "error"));
    });
  }
  main.append(h("div", { class: "grid two" },
    head ? metadataCard(head) : card("Metadata", h("p", { class: "empty" },
      "The current version is a delete marker: restore an older version below.")),
    card("Download and share", head ? h("p", {}, dl) : null,
      h("p", { class: "hint" }, "A share link is a presigned URL: anyone holding it can " +
        "download this object until it expires, with your permissions."),
      shareBox(client, bucket, key)),
    head && tags ? tagsCard(client, bucket, key, tags, reload) : null,
    versionsCard(client, bucket, key, vers, reload)));
}
