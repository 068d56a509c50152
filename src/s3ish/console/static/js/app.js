// The console's shell: the session (sessionStorage only), the hash router and the layout.
import { Client } from "./api.js";
import { h, clear, notify } from "./ui.js";
import signin from "./pages/signin.js";
import buckets from "./pages/buckets.js";
import bucket from "./pages/bucket.js";
import objects from "./pages/objects.js";
import object from "./pages/object.js";
import users from "./pages/users.js";
import policies from "./pages/policies.js";
import system from "./pages/system.js";

const KEY = "s3ish.console.session";

// The session lives in this tab's sessionStorage (gone when the tab closes, never in a
// cookie): the access key and signing keys for today and tomorrow, never the secret key.
export const session = {
  load() {
    try { return JSON.parse(sessionStorage.getItem(KEY)); } catch (e) { return null; }
  },
  save(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); },
  clear() { sessionStorage.removeItem(KEY); },
};

const PAGES = { buckets, bucket, browse: objects, object, users, policies, system };
const NAV = [["buckets", "Buckets"], ["users", "Users & keys", true],
             ["policies", "Policies", true], ["system", "System", true]];

let timer = null;

export function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

// A page may ask to be refreshed periodically (the system page); leaving it stops that.
export function every(seconds, fn) {
  timer = setInterval(fn, seconds * 1000);
}

function layout(s, page) {
  const nav = NAV.filter(([, , rootOnly]) => s.isRoot || !rootOnly).map(([id, label]) =>
    h("a", { href: `#/${id}`, class: page === id || (id === "buckets" && ["bucket", "browse",
      "object"].includes(page)) ? "active" : "", id: `nav-${id}` }, label));
  return h("header", { class: "top" },
    h("a", { class: "brand", href: "#/buckets" }, h("span", { class: "logo" }, "s3"), "ish"),
    h("nav", {}, nav),
    h("div", { class: "who" },
      h("span", { id: "who", title: s.isRoot ? "root user" : "user" },
        s.userName || s.accessKey, s.isRoot ? " (root)" : ""),
      h("button", { type: "button", id: "signout", class: "ghost", onclick: () => {
        session.clear();
        clear(document.getElementById("notice"));
        go("#/signin");
      } }, "Sign out")));
}

async function route() {
  clearInterval(timer);
  const app = document.getElementById("app");
  const [page, ...args] = location.hash.replace(/^#\/?/, "").split("/")
    .map((p) => decodeURIComponent(p));
  const s = session.load();
  if (!s || page === "signin" || !PAGES[page]) {
    if (s && !PAGES[page] && page !== "signin") return go("#/buckets");
    const main = h("main", { class: "narrow" });
    clear(app, main);
    return signin(main, { session, go });
  }
  const main = h("main", { id: `page-${page}` });
  clear(app, layout(s, page), main);
  const ctx = { client: new Client(s), session: s, go, every };
  try {
    await PAGES[page](main, ctx, ...args);
  } catch (err) {
    if (err.code === "SessionExpired") {
      session.clear();
      go("#/signin");
    }
    notify(String(err), "error");
  }
}

function start() {
  if (!window.crypto || !crypto.subtle) {
    // Web Crypto exists only in a secure context: HTTPS, or http://localhost / 127.0.0.1.
    clear(document.getElementById("app"), h("main", { class: "narrow" }, h("section",
      { class: "card" }, h("h2", {}, "This page needs a secure connection"),
      h("p", {}, "The console signs requests in the browser with Web Crypto, which " +
        "browsers offer only over HTTPS or on localhost. Start the server with --tls-cert " +
        "and --tls-key, or reach it through an SSH tunnel to localhost."))));
    return;
  }
  window.addEventListener("hashchange", route);
  route();
}

start();
