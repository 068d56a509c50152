// Sign in: check the access key by a signed ListBuckets (AccessDenied still proves the key),
// learn who it is (IAM GetUser), keep signing keys derived from the secret (not the secret)
// in sessionStorage for this tab.
import { Client, text } from "../api.js";
import { scopedKeys } from "../sigv4.js";
import { h, field, notify } from "../ui.js";

// The services the console signs for: S3 (and /_admin/, /_metrics) and IAM.
const SERVICES = ["s3", "iam"];

function utcDay(offsetDays = 0) {
  return new Date(Date.now() + offsetDays * 86400000).toISOString().slice(0, 10)
    .replace(/-/g, "");
}

export default async function signin(main, { session, go }) {
  const access = h("input", { id: "access-key", name: "access", autocomplete: "username",
                              required: true, spellcheck: "false" });
  const secret = h("input", { id: "secret-key", name: "secret", type: "password",
                              autocomplete: "current-password", required: true });
  const region = h("input", { id: "region", name: "region", value: "us-east-1" });
  const submit = h("button", { type: "submit", id: "signin", class: "primary" }, "Sign in");
  const form = h("form", { class: "card signin", onsubmit: async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    try {
      const client = new Client({ accessKey: access.value.trim(), secretKey: secret.value,
                                  region: region.value.trim() });
      let userName = "";
      try {
        userName = text(await client.s3xml("GET", {}), "DisplayName");
      } catch (err) {
        // The signature was accepted (a wrong key or secret is InvalidAccessKeyId or
        // SignatureDoesNotMatch): a user without s3:ListAllMyBuckets opens buckets by name.
        if (err.code !== "AccessDenied") throw err;
      }
      let isRoot = false;
      try {
        const me = await client.iam("GetUser");
        isRoot = text(me, "Arn").endsWith(":root");
        userName = text(me, "UserName") || userName;
      } catch (e) { /* a user without iam:GetUser: S3 pages only */ }
      // Today's and tomorrow's signing keys (a session lasts until the end of tomorrow,
      // UTC): the secret itself is not stored anywhere.
      const keys = await scopedKeys(client.creds.secretKey, [utcDay(0), utcDay(1)],
                                    client.region, SERVICES);
      session.save({ accessKey: client.creds.accessKey, keys, region: client.region, isRoot,
                     userName });
      go("#/buckets");
    } catch (err) {
      notify(`Sign-in failed: ${err}`, "error");
    } finally {
      submit.disabled = false;
    }
  } },
  h("div", { class: "brand big" }, h("span", { class: "logo" }, "s3"), "ish"),
  h("h2", {}, "Sign in with an access key"),
  field("Access key", access),
  field("Secret key", secret, "Never sent and never stored: the page keeps signing keys " +
        "derived from it for today and tomorrow, in this tab only (sessionStorage)."),
  h("details", {}, h("summary", {}, "Region"), field("Region", region,
    "The server's --region (the console adopts the one the server names if it differs).")),
  submit);
  main.append(form);
  access.focus();
}
