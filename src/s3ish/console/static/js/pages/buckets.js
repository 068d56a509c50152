// Buckets: list (with usage from /_metrics for root), create (optionally versioned or with
// object lock), delete.
import { all, text } from "../api.js";
import { h, card, table, button, field, fmtBytes, fmtDate, link, notify, guarded } from "../ui.js";

export async function usage(client) {
  // Per-bucket object counts and bytes are metrics (root only); others see "–".
  const out = {};
  try {
    for (const m of await client.metrics()) {
      if (m.name !== "s3ish_bucket_objects" && m.name !== "s3ish_bucket_bytes") continue;
      const b = (out[m.labels.bucket] ||= {});
      b[m.name === "s3ish_bucket_objects" ? "objects" : "bytes"] = m.value;
    }
  } catch (e) { /* not root */ }
  return out;
}

export default async function buckets(main, { client, session, go }) {
  const [list, used] = await Promise.all([client.s3xml("GET", {}).catch((err) => {
    if (err.code === "AccessDenied") return null;   // no s3:ListAllMyBuckets
    throw err;
  }), session.isRoot ? usage(client) : {}]);
  const names = list ? all(list, "Bucket").map((b) => ({ name: text(b, "Name"),
                                                         created: text(b, "CreationDate") }))
    : [];
  const name = h("input", { id: "new-bucket", placeholder: "my-bucket", required: true,
                            pattern: "[a-z0-9][a-z0-9.\\-]{1,61}[a-z0-9]", spellcheck: "false" });
  const versioned = h("input", { type: "checkbox", id: "new-versioned" });
  const locked = h("input", { type: "checkbox", id: "new-locked" });
  const create = h("form", { class: "inline", onsubmit: (ev) => {
    ev.preventDefault();
    guarded(async () => {
      const headers = locked.checked ? { "x-amz-bucket-object-lock-enabled": "true" } : {};
      const body = client.region === "us-east-1" ? null : "<CreateBucketConfiguration>" +
        `<LocationConstraint>${client.region}</LocationConstraint></CreateBucketConfiguration>`;
      await client.s3("PUT", { bucket: name.value, headers, body });
      if (versioned.checked && !locked.checked) {
        await client.s3("PUT", { bucket: name.value, query: [["versioning", ""]], checksum: true,
          body: "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>" });
      }
      notify(`Bucket ${name.value} created.`);
      go("#/buckets");
    })();
  } },
  field("Name", name),
  h("label", { class: "check" }, versioned, "Versioning"),
  h("label", { class: "check" }, locked, "Object lock (implies versioning)"),
  h("button", { type: "submit", id: "create-bucket", class: "primary" }, "Create bucket"));

  const rows = names.map((b) => [
    link(`#/browse/${encodeURIComponent(b.name)}/`, b.name, { class: "bucket-link" }),
    fmtDate(b.created),
    used[b.name] ? String(used[b.name].objects ?? 0) : "–",
    used[b.name] ? fmtBytes(used[b.name].bytes ?? 0) : "–",
    h("span", { class: "actions" },
      link(`#/bucket/${encodeURIComponent(b.name)}`, "Settings", { class: "btn" }),
      button("Delete", async () => {
        if (!confirm(`Delete bucket ${b.name}? It must be empty.`)) return;
        await client.s3("DELETE", { bucket: b.name });
        go("#/buckets");
        return `Bucket ${b.name} deleted.`;
      }, "danger")),
  ]);
  const known = h("input", { id: "open-bucket", placeholder: "bucket name", required: true,
                             spellcheck: "false" });
  main.append(
    h("h1", {}, "Buckets"),
    card("Create a bucket", create),
    list ? card(`${names.length} bucket${names.length === 1 ? "" : "s"}`,
      table(["Name", "Created", "Objects", "Size", ""], rows, "No buckets yet.")) : null,
    card("Open a bucket by name", list ? null : h("p", { class: "hint" }, "Your access key " +
      "may not list the buckets (s3:ListAllMyBuckets), but may still use some."),
    h("form", { class: "row", onsubmit: (ev) => {
      ev.preventDefault();
      go(`#/browse/${encodeURIComponent(known.value.trim())}/`);
    } }, known, h("button", { type: "submit", id: "open-bucket-go" }, "Open"))));
}
