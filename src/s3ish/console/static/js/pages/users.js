// Users and their access keys and policies (root, or a user IAM allows), through the IAM
// Query API on this endpoint, as `aws iam` and `s3ish admin user` use it.
import { all, text } from "../api.js";
import { h, card, table, button, field, fmtDate, badge, link, guarded } from "../ui.js";
import { checkJson } from "./bucket_access.js";

export default async function usersPage(main, ctx, selected) {
  const { client, go } = ctx;
  const list = await client.iam("ListUsers", { MaxItems: "1000" });
  const users = all(list, "member").map((u) => ({ name: text(u, "UserName"),
    arn: text(u, "Arn"), created: text(u, "CreateDate") }));
  const name = h("input", { id: "new-user", placeholder: "alice", required: true });
  const create = h("form", { class: "row", onsubmit: (ev) => {
    ev.preventDefault();
    guarded(async () => {
      await client.iam("CreateUser", { UserName: name.value });
      go(`#/users/${encodeURIComponent(name.value)}`);
      return `User ${name.value} created.`;
    })();
  } }, field("User name", name), h("button", { type: "submit", class: "primary",
                                               id: "create-user" }, "Create user"));
  main.append(h("h1", {}, "Users & keys"), h("div", { class: "grid two" },
    card("Users", create, table(["Name", "Created", ""], users.map((u) => [
      link(`#/users/${encodeURIComponent(u.name)}`, u.name, { class: "user-link" }),
      fmtDate(u.created),
      u.name === selected ? badge("selected", "on") : ""]), "No users yet.")),
    selected ? await userCard(ctx, selected) : card("Details", h("p", { class: "empty" },
      "Choose a user to see and manage their keys and policies."))));
}

async function userCard(ctx, user) {
  const { client, go } = ctx;
  const reload = () => go(`#/users/${encodeURIComponent(user)}`);
  const [keys, attached, inline, managed] = await Promise.all([
    client.iam("ListAccessKeys", { UserName: user }),
    client.iam("ListAttachedUserPolicies", { UserName: user }),
    client.iam("ListUserPolicies", { UserName: user }),
    client.iam("ListPolicies", { Scope: "All", MaxItems: "1000" })]);
  const secretBox = h("div", { id: "new-key" });
  const keyRows = all(keys, "member").map((k) => {
    const id = text(k, "AccessKeyId");
    const status = text(k, "Status");
    return [h("span", { class: "mono" }, id), badge(status, status === "Active" ? "on" : "warn"),
      fmtDate(text(k, "CreateDate")), h("span", { class: "actions" },
        button(status === "Active" ? "Deactivate" : "Activate", async () => {
          await client.iam("UpdateAccessKey", { UserName: user, AccessKeyId: id,
            Status: status === "Active" ? "Inactive" : "Active" });
          reload();
        }, "small"),
        button("Delete", async () => {
          if (!confirm(`Delete access key ${id}?`)) return undefined;
          await client.iam("DeleteAccessKey", { UserName: user, AccessKeyId: id });
          reload();
          return `Key ${id} deleted.`;
        }, "danger small"))];
  });
  const newKey = button("Create access key", async () => {
    const doc = await client.iam("CreateAccessKey", { UserName: user });
    secretBox.replaceChildren(h("div", { class: "secret" },
      h("p", {}, h("strong", {}, "Save the secret key now: it is shown only once.")),
      h("dl", { class: "props" }, h("dt", {}, "Access key"),
        h("dd", { class: "mono", id: "new-access-key" }, text(doc, "AccessKeyId")),
        h("dt", {}, "Secret key"),
        h("dd", { class: "mono", id: "new-secret-key" }, text(doc, "SecretAccessKey")))));
    return "Access key created.";
  }, "primary", { id: "create-key" });

  const attachedArns = all(attached, "member").map((p) => [text(p, "PolicyName"),
                                                           text(p, "PolicyArn")]);
  const choices = all(managed, "member").map((p) => [text(p, "PolicyName"), text(p, "Arn")])
    .filter(([, arn]) => !attachedArns.some(([, a]) => a === arn));
  const pick = h("select", { id: "attach-policy" }, choices.map(([n, arn]) =>
    h("option", { value: arn }, n)));
  const inlineNames = all(inline, "member").map((m) => m.textContent);
  const inlineName = h("input", { id: "inline-name", placeholder: "policy name" });
  const inlineDoc = h("textarea", { id: "inline-doc", rows: 6, spellcheck: "false",
    placeholder: '{"Version": "2012-10-17", "Statement": [...]}' });
  return card(`User ${user}`,
    h("h3", {}, "Access keys"), table(["Access key", "Status", "Created", ""], keyRows,
      "No access keys."), newKey, secretBox,
    h("h3", {}, "Managed policies"), table(["Policy", ""], attachedArns.map(([n, arn]) => [n,
      button("Detach", async () => {
        await client.iam("DetachUserPolicy", { UserName: user, PolicyArn: arn });
        reload();
      }, "small")]), "None attached."),
    choices.length ? h("div", { class: "row" }, pick, button("Attach", async () => {
      await client.iam("AttachUserPolicy", { UserName: user, PolicyArn: pick.value });
      reload();
      return "Policy attached.";
    }, "primary")) : null,
    h("h3", {}, "Inline policies"), table(["Policy", ""], inlineNames.map((n) => [n,
      h("span", { class: "actions" }, button("Show", async () => {
        const doc = await client.iam("GetUserPolicy", { UserName: user, PolicyName: n });
        inlineName.value = n;
        inlineDoc.value = JSON.stringify(JSON.parse(decodeURIComponent(
          text(doc, "PolicyDocument"))), null, 2);
      }, "small"), button("Delete", async () => {
        await client.iam("DeleteUserPolicy", { UserName: user, PolicyName: n });
        reload();
      }, "danger small"))]), "None."),
    field("Name", inlineName), field("Document", inlineDoc),
    button("Save inline policy", async () => {
      const problem = checkJson(inlineDoc.value);
      if (problem) throw new Error(`Not valid JSON: ${problem}`);
      await client.iam("PutUserPolicy", { UserName: user, PolicyName: inlineName.value,
                                          PolicyDocument: inlineDoc.value });
      reload();
      return "Inline policy saved.";
    }, "primary"),
    h("h3", {}, "Danger zone"),
    button("Delete user", async () => {
      if (!confirm(`Delete user ${user}? Their keys and policies must be removed first.`)) {
        return undefined;
      }
      await client.iam("DeleteUser", { UserName: user });
      go("#/users");
      return `User ${user} deleted.`;
    }, "danger"));
}
