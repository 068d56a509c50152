// DOM helpers. Everything the server returns is put into the page as text (textContent),
// never as markup, so an object key or a tag value cannot become script.

export function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, kids);
  return el;
}

function append(el, kids) {
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
}

export function clear(el, ...kids) {
  el.replaceChildren();
  append(el, kids);
  return el;
}

export function table(headers, rows, empty = "Nothing here yet.") {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("table", {},
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", {}, t)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
}

export function card(title, ...body) {
  return h("section", { class: "card" }, h("h2", {}, title), ...body);
}

export function button(label, onclick, cls = "", attrs = {}) {
  return h("button", { type: "button", class: cls, onclick: guarded(onclick), ...attrs }, label);
}

// Run an action, showing its error (or a success message it returns) instead of throwing.
export function guarded(fn) {
  return async (ev) => {
    const btn = ev && ev.currentTarget;
    if (btn) btn.disabled = true;
    try {
      const msg = await fn(ev);
      if (typeof msg === "string") notify(msg, "ok");
    } catch (err) {
      if (err.code === "SessionExpired") {
        sessionStorage.clear();        // the session is all this origin keeps there
        location.hash = "#/signin";
      }
      notify(String(err), "error");
    } finally {
      if (btn) {
        btn.disabled = false;
        btn.dispatchEvent(new Event("settled"));   // a button whose state depends on more
      }
    }
  };
}

export function notify(message, kind = "ok") {
  const box = document.getElementById("notice");
  clear(box, h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" },
    message, button("×", () => clear(box), "close", { "aria-label": "dismiss" })));
  if (kind === "ok") setTimeout(() => box.firstChild && box.firstChild.textContent.startsWith(
    message) && clear(box), 6000);
}

export function field(label, input, hint = "") {
  return h("label", { class: "field" }, h("span", {}, label), input,
    hint ? h("small", {}, hint) : null);
}

export function fmtBytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i ? v.toFixed(1) : v} ${units[i]}`;
}

export function fmtDate(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace("T", " ").slice(0, 19);
}

export function link(href, label, attrs = {}) {
  return h("a", { href, ...attrs }, label);
}

export function badge(label, kind = "") {
  return h("span", { class: `badge ${kind}` }, label);
}
