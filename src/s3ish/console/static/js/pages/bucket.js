// A bucket's settings: usage, versioning, object lock, lifecycle expiry, default encryption
// (this module), and its access: policy editor, public toggle, CORS (bucket_access.js).
import { all, children, first, text } from "../api.js";
import { h, card, table, button, field, fmtBytes, badge, link } from "../ui.js";
import { usage } from "./buckets.js";
import { accessCards } from "./bucket_access.js";

// A GET of a configuration that may not exist: the document, or null on a 404.
export async function getConfig(client, bucket, sub) {
  try {
    return await client.s3xml("GET", { bucket, query: [[sub, ""]] });
  } catch (err) {
    if (err.status === 404 && err.code !== "NoSuchBucket") return null;
    throw err;
  }
}

export function put(client, bucket, sub, body) {
  return client.s3("PUT", { bucket, query: [[sub, ""]], body, checksum: true });
}

function esc(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
export { esc as xmlEscape };

export default async function bucketPage(main, ctx, bucket) {
  const { client, session } = ctx;
  const reload = () => ctx.go(`#/bucket/${encodeURIComponent(bucket)}`);
  const [ver, lock, life, enc, used] = await Promise.all([
    getConfig(client, bucket, "versioning"), getConfig(client, bucket, "object-lock"),
    getConfig(client, bucket, "lifecycle"), getConfig(client, bucket, "encryption"),
    session.isRoot ? usage(client) : {}]);
  main.append(h("h1", {}, "Bucket ", h("span", { class: "mono" }, bucket), " ",
    link(`#/browse/${encodeURIComponent(bucket)}/`, "Browse objects", { class: "btn" })));
  const grid = h("div", { class: "grid" });
  main.append(grid);
  grid.append(usageCard(used[bucket]), versioningCard(client, bucket, ver, reload),
    lockCard(client, bucket, lock, reload), lifecycleCard(client, bucket, life, reload),
    encryptionCard(client, bucket, enc, reload), ...await accessCards(ctx, bucket, reload));
}

function usageCard(u) {
  return card("Usage", u ? h("dl", { class: "stats" },
    h("dt", {}, "Objects"), h("dd", { id: "usage-objects" }, String(u.objects ?? 0)),
    h("dt", {}, "Stored"), h("dd", { id: "usage-bytes" }, fmtBytes(u.bytes ?? 0)))
    : h("p", { class: "empty" }, "Usage comes from the server's metrics (root only)."));
}

function versioningCard(client, bucket, doc, reload) {
  const status = doc ? text(doc, "Status") : "";
  const set = (s) => async () => {
    await put(client, bucket, "versioning",
      `<VersioningConfiguration><Status>${s}</Status></VersioningConfiguration>`);
    reload();
    return `Versioning ${s.toLowerCase()}.`;
  };
  return card("Versioning",
    h("p", {}, "Status: ", badge(status || "Never enabled", status === "Enabled" ? "on" : ""),
      " ", h("span", { id: "versioning-status", hidden: true }, status || "Off")),
    h("div", { class: "row" },
      button("Enable", set("Enabled"), status === "Enabled" ? "" : "primary",
             { id: "versioning-enable", disabled: status === "Enabled" }),
      button("Suspend", set("Suspended"), "", { disabled: status !== "Enabled" })));
}

function lockCard(client, bucket, doc, reload) {
  const enabled = doc && text(doc, "ObjectLockEnabled") === "Enabled";
  const mode = h("select", { id: "lock-mode" }, ["", "GOVERNANCE", "COMPLIANCE"].map((m) =>
    h("option", { value: m, selected: doc && text(doc, "Mode") === m }, m || "No default")));
  const days = h("input", { type: "number", min: 1, id: "lock-days",
                            value: doc ? text(doc, "Days") : "" });
  const save = async () => {
    const rule = mode.value ? `<Rule><DefaultRetention><Mode>${mode.value}</Mode>` +
      `<Days>${Number(days.value) || 1}</Days></DefaultRetention></Rule>` : "";
    await put(client, bucket, "object-lock", "<ObjectLockConfiguration><ObjectLockEnabled>" +
      `Enabled</ObjectLockEnabled>${rule}</ObjectLockConfiguration>`);
    reload();
    return "Object lock saved.";
  };
  return card("Object lock",
    h("p", {}, "Status: ", badge(enabled ? "Enabled" : "Off", enabled ? "on" : "")),
    enabled ? null : h("p", { class: "hint" }, "Enabling object lock needs versioning " +
      "enabled; it cannot be turned off afterwards."),
    h("div", { class: "row" }, field("Default retention", mode), field("Days", days),
      button(enabled ? "Save" : "Enable object lock", save, "primary", { id: "lock-save" })));
}

// Lifecycle rules as the console edits them: expiry of current and noncurrent versions and
// of unfinished uploads, per prefix. A rule with anything else (transitions, tag filters) was
// written by another tool: the console shows the rules but does not rewrite them.
const KNOWN = new Set(["ID", "Filter", "Prefix", "Status", "Expiration", "Days",
  "NoncurrentVersionExpiration", "NoncurrentDays", "AbortIncompleteMultipartUpload",
  "DaysAfterInitiation", "Rule"]);

function parseRules(doc) {
  if (!doc) return { rules: [], foreign: false };
  const rules = children(doc.documentElement, "Rule").map((r) => ({
    id: text(r, "ID"), prefix: text(r, "Prefix"), status: text(r, "Status", "Enabled"),
    days: first(r, "Expiration") ? text(first(r, "Expiration"), "Days") : "",
    noncurrent: text(r, "NoncurrentDays"), uploads: text(r, "DaysAfterInitiation"),
  }));
  const foreign = all(doc, "*").some((e) => e !== doc.documentElement && !KNOWN.has(e.localName));
  return { rules, foreign };
}

function ruleXml(r) {
  return `<Rule><ID>${esc(r.id)}</ID><Filter><Prefix>${esc(r.prefix)}</Prefix></Filter>` +
    `<Status>${r.status}</Status>` +
    (r.days ? `<Expiration><Days>${r.days}</Days></Expiration>` : "") +
    (r.noncurrent ? "<NoncurrentVersionExpiration><NoncurrentDays>" +
      `${r.noncurrent}</NoncurrentDays></NoncurrentVersionExpiration>` : "") +
    (r.uploads ? "<AbortIncompleteMultipartUpload><DaysAfterInitiation>" +
      `${r.uploads}</DaysAfterInitiation></AbortIncompleteMultipartUpload>` : "") + "</Rule>";
}

function lifecycleCard(client, bucket, doc, reload) {
  const { rules, foreign } = parseRules(doc);
  const write = async (list) => {
    if (!list.length) await client.s3("DELETE", { bucket, query: [["lifecycle", ""]] });
    else await put(client, bucket, "lifecycle", "<LifecycleConfiguration>" +
      list.map(ruleXml).join("") + "</LifecycleConfiguration>");
    reload();
    return "Lifecycle saved.";
  };
  const prefix = h("input", { id: "life-prefix", placeholder: "logs/ (empty: all)" });
  const days = h("input", { id: "life-days", type: "number", min: 1, placeholder: "30" });
  const nc = h("input", { id: "life-noncurrent", type: "number", min: 1, placeholder: "–" });
  const rows = rules.map((r, i) => [r.id, r.prefix || "(all)", r.status, r.days || "–",
    r.noncurrent || "–", r.uploads || "–", foreign ? "" : button("Remove",
      () => write(rules.filter((_, j) => j !== i)), "danger small")]);
  const el = card("Lifecycle expiry",
    table(["Rule", "Prefix", "Status", "Expire (days)", "Noncurrent (days)",
           "Abort uploads (days)", ""], rows, "No lifecycle rules."),
    foreign ? h("p", { class: "hint" }, "These rules use features the console does not " +
      "edit (transitions, tag filters): change them with the CLI.") :
      h("div", { class: "row" }, field("Prefix", prefix), field("Expire after days", days),
        field("Noncurrent after days", nc),
        button("Add rule", () => write([...rules, { id: `expire-${prefix.value || "all"}-` +
          `${Date.now().toString(36)}`, prefix: prefix.value, status: "Enabled",
          days: days.value, noncurrent: nc.value, uploads: "" }]), "primary",
          { id: "life-add" })));
  el.classList.add("wide");
  return el;
}

function encryptionCard(client, bucket, doc, reload) {
  const algo = doc ? text(doc, "SSEAlgorithm") : "";
  const keyId = doc ? text(doc, "KMSMasterKeyID") : "";
  const sel = h("select", { id: "enc-algo" }, [["", "None"], ["AES256", "SSE-S3 (AES256)"],
    ["aws:kms", "SSE-KMS"]].map(([v, l]) => h("option", { value: v, selected: v === algo }, l)));
  const key = h("input", { id: "enc-key", value: keyId, placeholder: "key id (KMS)" });
  const save = async () => {
    if (!sel.value) {
      await client.s3("DELETE", { bucket, query: [["encryption", ""]] });
    } else {
      const kms = sel.value === "aws:kms" && key.value ?
        `<KMSMasterKeyID>${esc(key.value)}</KMSMasterKeyID>` : "";
      await put(client, bucket, "encryption", "<ServerSideEncryptionConfiguration><Rule>" +
        `<ApplyServerSideEncryptionByDefault><SSEAlgorithm>${sel.value}</SSEAlgorithm>${kms}` +
        "</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>");
    }
    reload();
    return "Default encryption saved.";
  };
  return card("Default encryption",
    h("p", {}, "New objects: ", badge(algo ? `${algo}${keyId ? ` (${keyId})` : ""}` :
      "not encrypted by default", algo ? "on" : "")),
    h("div", { class: "row" }, field("Algorithm", sel), field("KMS key", key),
      button("Save", save, "primary", { id: "enc-save" })));
}
