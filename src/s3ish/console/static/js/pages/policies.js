// Managed policies: list, view, create (JSON checked here, then by the server), delete.
import { all, text } from "../api.js";
import { h, card, table, button, field, fmtDate } from "../ui.js";
import { checkJson } from "./bucket_access.js";

const EXAMPLE = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow",
  Action: ["s3:GetObject", "s3:ListBucket"],
  Resource: ["arn:aws:s3:::example-bucket", "arn:aws:s3:::example-bucket/*"] }] }, null, 2);

export default async function policiesPage(main, { client, go }) {
  const list = await client.iam("ListPolicies", { Scope: "Local", MaxItems: "1000" });
  const viewer = h("pre", { id: "policy-view", class: "code" }, "Choose a policy to see it.");
  const rows = all(list, "member").map((p) => {
    const arn = text(p, "Arn");
    return [text(p, "PolicyName"), text(p, "AttachmentCount"), fmtDate(text(p, "CreateDate")),
      h("span", { class: "actions" }, button("Show", async () => {
        const doc = await client.iam("GetPolicyVersion", { PolicyArn: arn, VersionId:
          text(p, "DefaultVersionId") || "v1" });
        viewer.textContent = JSON.stringify(JSON.parse(decodeURIComponent(
          text(doc, "Document"))), null, 2);
      }, "small"), button("Delete", async () => {
        if (!confirm(`Delete policy ${text(p, "PolicyName")}?`)) return undefined;
        await client.iam("DeletePolicy", { PolicyArn: arn });
        go("#/policies");
        return "Policy deleted.";
      }, "danger small"))];
  });
  const name = h("input", { id: "policy-name", placeholder: "read-example-bucket" });
  const desc = h("input", { id: "policy-desc", placeholder: "optional" });
  const doc = h("textarea", { id: "policy-doc", rows: 12, spellcheck: "false" });
  doc.value = EXAMPLE;
  const verdict = h("p", { class: "hint" });
  main.append(h("h1", {}, "Policies"), h("div", { class: "grid two" },
    card("Managed policies", table(["Name", "Attached", "Created", ""], rows,
      "No policies yet."), viewer),
    card("Create a policy", field("Name", name), field("Description", desc),
      field("Document", doc), verdict, button("Create policy", async () => {
        const problem = checkJson(doc.value);
        verdict.className = problem ? "hint bad" : "hint";
        verdict.textContent = problem ? `Not valid JSON: ${problem}` : "";
        if (problem) return undefined;
        const params = { PolicyName: name.value, PolicyDocument: doc.value };
        if (desc.value) params.Description = desc.value;
        await client.iam("CreatePolicy", params);
        go("#/policies");
        return `Policy ${name.value} created; attach it on a user's page.`;
      }, "primary", { id: "create-policy" }))));
}
