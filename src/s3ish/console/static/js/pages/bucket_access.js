// A bucket's access settings: the policy editor (checked as JSON here, then by the server,
// whose answer is shown), the public-read toggle (a policy statement plus the public access
// block) and CORS rules.
import { all, children, text } from "../api.js";
import { h, card, table, button, field, badge } from "../ui.js";
import { getConfig, put, xmlEscape as esc } from "./bucket.js";

const PUBLIC_SID = "ConsolePublicRead";

async function getPolicy(client, bucket) {
  try {
    return await (await client.s3("GET", { bucket, query: [["policy", ""]] })).text();
  } catch (err) {
    if (err.code === "NoSuchBucketPolicy") return "";
    throw err;
  }
}

// A JSON syntax error with its line and column (browsers only give an offset, if that).
export function checkJson(textValue) {
  try {
    JSON.parse(textValue);
    return null;
  } catch (err) {
    const m = /position (\d+)/.exec(err.message);
    if (!m) return err.message;
    const before = textValue.slice(0, Number(m[1])).split("\n");
    return `${err.message} (line ${before.length}, column ${before.at(-1).length + 1})`;
  }
}

export async function accessCards(ctx, bucket, reload) {
  const { client } = ctx;
  const [policy, status, pab, cors] = await Promise.all([getPolicy(client, bucket),
    getConfig(client, bucket, "policyStatus"), getConfig(client, bucket, "publicAccessBlock"),
    getConfig(client, bucket, "cors")]);
  return [publicCard(client, bucket, policy, status, pab, reload),
    corsCard(client, bucket, cors, reload), policyCard(client, bucket, policy, reload)];
}

function policyCard(client, bucket, policy, reload) {
  const pretty = policy ? JSON.stringify(JSON.parse(policy), null, 2) : "";
  const area = h("textarea", { id: "policy-text", rows: 14, spellcheck: "false",
                               placeholder: '{"Version": "2012-10-17", "Statement": [...]}' });
  area.value = pretty;
  const verdict = h("p", { id: "policy-verdict", class: "hint" });
  const validate = () => {
    const problem = checkJson(area.value);
    verdict.className = problem ? "hint bad" : "hint good";
    verdict.textContent = problem ? `Not valid JSON: ${problem}` :
      "Valid JSON. The server checks the policy language when you save.";
    return !problem;
  };
  const save = async () => {
    if (!validate()) return undefined;
    try {
      await put(client, bucket, "policy", area.value);
    } catch (err) {
      verdict.className = "hint bad";
      verdict.textContent = `The server refused it: ${err}`;
      throw err;
    }
    reload();
    return "Bucket policy saved.";
  };
  const el = card("Bucket policy", area, verdict, h("div", { class: "row" },
    button("Validate", validate, "", { id: "policy-validate" }),
    button("Save policy", save, "primary", { id: "policy-save" }),
    button("Delete policy", async () => {
      await client.s3("DELETE", { bucket, query: [["policy", ""]] });
      reload();
      return "Bucket policy deleted.";
    }, "danger", { disabled: !policy })));
  el.classList.add("wide");
  return el;
}

function publicCard(client, bucket, policy, status, pab, reload) {
  const isPublic = status && text(status, "IsPublic") === "true";
  const blocked = pab && ["BlockPublicPolicy", "RestrictPublicBuckets"].some(
    (n) => text(pab, n) === "true");
  const doc = policy ? JSON.parse(policy) : { Version: "2012-10-17", Statement: [] };
  const statements = [].concat(doc.Statement || []);
  const ours = statements.some((s) => s.Sid === PUBLIC_SID);
  const makePublic = async () => {
    // The block must go first: BlockPublicPolicy refuses a public policy.
    await client.s3("DELETE", { bucket, query: [["publicAccessBlock", ""]] });
    doc.Statement = [...statements.filter((s) => s.Sid !== PUBLIC_SID), { Sid: PUBLIC_SID,
      Effect: "Allow", Principal: "*", Action: "s3:GetObject",
      Resource: `arn:aws:s3:::${bucket}/*` }];
    await put(client, bucket, "policy", JSON.stringify(doc, null, 2));
    reload();
    return "Anyone can now read the bucket's objects.";
  };
  const makePrivate = async () => {
    doc.Statement = statements.filter((s) => s.Sid !== PUBLIC_SID);
    if (doc.Statement.length) await put(client, bucket, "policy", JSON.stringify(doc, null, 2));
    else await client.s3("DELETE", { bucket, query: [["policy", ""]] });
    await put(client, bucket, "publicAccessBlock", "<PublicAccessBlockConfiguration>" +
      ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]
        .map((n) => `<${n}>true</${n}>`).join("") + "</PublicAccessBlockConfiguration>");
    reload();
    return "The bucket is private: public access is blocked.";
  };
  return card("Public access",
    h("p", {}, "The bucket is ", badge(isPublic ? "public" : "private", isPublic ? "warn" : "on"),
      blocked ? " (public access block on)" : ""),
    h("p", { class: "hint" }, "Public read adds a policy statement (Sid " + PUBLIC_SID +
      ") letting anyone GET objects, and removes the public access block; private removes " +
      "that statement and blocks public policies and ACLs."),
    h("div", { class: "row" },
      button("Make public (read)", makePublic, isPublic ? "" : "danger",
             { id: "make-public", disabled: isPublic && ours }),
      button("Make private", makePrivate, "primary", { id: "make-private",
             disabled: !isPublic && blocked })));
}

function corsCard(client, bucket, doc, reload) {
  const rules = doc ? children(doc.documentElement, "CORSRule").map((r) => ({
    origins: all(r, "AllowedOrigin").map((e) => e.textContent),
    methods: all(r, "AllowedMethod").map((e) => e.textContent),
    headers: all(r, "AllowedHeader").map((e) => e.textContent),
    expose: all(r, "ExposeHeader").map((e) => e.textContent),
    maxAge: text(r, "MaxAgeSeconds"),
  })) : [];
  const write = async (list) => {
    if (!list.length) await client.s3("DELETE", { bucket, query: [["cors", ""]] });
    else await put(client, bucket, "cors", "<CORSConfiguration>" + list.map((r) =>
      "<CORSRule>" + r.origins.map((o) => `<AllowedOrigin>${esc(o)}</AllowedOrigin>`).join("") +
      r.methods.map((m) => `<AllowedMethod>${m}</AllowedMethod>`).join("") +
      r.headers.map((x) => `<AllowedHeader>${esc(x)}</AllowedHeader>`).join("") +
      r.expose.map((x) => `<ExposeHeader>${esc(x)}</ExposeHeader>`).join("") +
      (r.maxAge ? `<MaxAgeSeconds>${Number(r.maxAge)}</MaxAgeSeconds>` : "") + "</CORSRule>")
      .join("") + "</CORSConfiguration>");
    reload();
    return "CORS saved.";
  };
  const split = (v) => v.split(/[\s,]+/).filter(Boolean);
  const origins = h("input", { id: "cors-origins", placeholder: "https://app.example.com" });
  const methods = ["GET", "PUT", "POST", "DELETE", "HEAD"].map((m) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", value: m,
                                                checked: m === "GET" }), m));
  const headers = h("input", { id: "cors-headers", placeholder: "* or header names" });
  const maxAge = h("input", { id: "cors-maxage", type: "number", min: 0, value: "3000" });
  const rows = rules.map((r, i) => [r.origins.join(" "), r.methods.join(" "),
    r.headers.join(" ") || "–", r.maxAge || "–",
    button("Remove", () => write(rules.filter((_, j) => j !== i)), "danger small")]);
  const el = card("CORS",
    table(["Origins", "Methods", "Headers", "Max age", ""], rows, "No CORS rules: only " +
      "pages of this server's own origin (like this console) may call it from a browser."),
    h("div", { class: "row" }, field("Allowed origins", origins), h("div", { class: "checks" },
      methods), field("Allowed headers", headers), field("Max age (s)", maxAge),
    button("Add rule", () => write([...rules, { origins: split(origins.value),
      methods: methods.map((l) => l.firstChild).filter((c) => c.checked).map((c) => c.value),
      headers: split(headers.value), expose: ["ETag"], maxAge: maxAge.value }]), "primary",
    { id: "cors-add" })));
  el.classList.add("wide");
  return el;
}
