// The server: drives, healing and scrubbing, the cold tier (from /_admin/), and request
// rates and errors (from /_metrics, refreshed every 5 s; a rate is the change of a counter
// between two refreshes). Root only, as the endpoints are.
import { h, card, table, button, fmtBytes, badge, clear } from "../ui.js";

const TOP = 15;            // operations shown, the busiest first
let previous = null;      // the last sample: {at, requests: {op: n}, errors: {op/code: n}}

function drivesCard(drives) {
  return card("Drives", table(["#", "Path", "State", "Used", "Errors", "Last error"],
    drives.map((d) => [String(d.index), h("span", { class: "mono" }, d.path),
      badge(d.state, d.state === "ok" ? "on" : "warn"),
      d.total ? h("span", { class: "usage" }, h("meter", { min: 0, max: d.total,
        value: d.used, high: d.total * 0.9 }), ` ${fmtBytes(d.used)} of ${fmtBytes(d.total)}`)
        : "–",
      String(d.errors), d.last_error || ""])));
}

function healCard(client, heal, reload) {
  if (heal.scrub_total === undefined) {
    // One folder (no erasure coding): no shards to scrub or heal (admin/api.py).
    return card("Healing and scrubbing", h("p", { class: "empty", id: "heal" },
      "Scrubbing and healing work on erasure-coded drives (several --data folders); this " +
      "server stores its objects in one folder."));
  }
  const pct = heal.scrub_total ? Math.round(100 * heal.scrub_position / heal.scrub_total) : 0;
  const rows = [["Heal queue (damaged units)", heal.heal_queue],
    ["Scrub cycle", h("span", { class: "usage" }, h("progress", { max: 100, value: pct }),
      ` ${heal.scrub_position ?? 0} of ${heal.scrub_total ?? 0} units (${pct}%)`)],
    ["Scrub cycles completed", heal.scrub_cycles], ["Last cycle took",
      `${(heal.last_cycle_seconds ?? 0).toFixed(1)} s`],
    ["Verified", `${fmtBytes(heal.bytes_verified)} in ${heal.units_verified ?? 0} units`],
    ["Corrupt shards found", heal.corrupt_shards_found], ["Shards repaired",
      heal.repaired_shards], ["Repairs failed", heal.failed]];
  return card("Healing and scrubbing", h("dl", { class: "props", id: "heal" },
    rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v instanceof Node ? v : String(v ?? 0))])),
  button("Scrub everything now", async () => {
    const r = await client.admin("POST", "/_admin/scrub");
    reload();
    return `Scrub done: ${JSON.stringify(r.scrub)}; queued for heal: ${r.queued_for_heal}.`;
  }, "", { id: "scrub-now", title: "Verifies every shard now; may take long" }));
}

function tierCard(tier) {
  if (!tier) {
    return card("Cold tier", h("p", { class: "empty" }, "No cold tier is configured " +
      "(--tier-endpoint, --tier-bucket)."));
  }
  const lagging = tier.lag_records > 0;
  return card("Cold tier", h("p", {}, "Lag: ", badge(lagging ? `${tier.lag_records} records, ` +
    `${fmtBytes(tier.lag_bytes)}, ${tier.lag_seconds} s` : "none", lagging ? "warn" : "on")),
  h("dl", { class: "props", id: "tier" }, Object.entries(tier).map(([k, v]) =>
    [h("dt", {}, k.replace(/_/g, " ")), h("dd", { class: "mono" }, String(v))])));
}

function sample(metrics) {
  const s = { at: performance.now(), requests: {}, byClass: {}, errors: {}, inFlight: 0 };
  for (const m of metrics) {
    if (m.name === "s3ish_requests_total") {
      const op = m.labels.operation;
      s.requests[op] = (s.requests[op] || 0) + m.value;
      s.byClass[`${op} ${m.labels.status_class}`] = m.value;
    } else if (m.name === "s3ish_request_errors_total") {
      s.errors[`${m.labels.operation} ${m.labels.code}`] = m.value;
    } else if (m.name === "s3ish_requests_in_flight") {
      s.inFlight += m.value;
    }
  }
  return s;
}

function rate(now, before, key, table_) {
  if (!before) return "–";
  const secs = (now.at - before.at) / 1000;
  if (secs <= 0) return "–";
  const r = ((now[table_][key] || 0) - (before[table_][key] || 0)) / secs;
  return r ? `${r.toFixed(2)}/s` : "0";
}

function requestsCard(s, before) {
  const ops = Object.keys(s.requests).sort((a, b) => s.requests[b] - s.requests[a]);
  const errs = (op, cls) => s.byClass[`${op} ${cls}`] || 0;
  const total = Object.values(s.requests).reduce((a, b) => a + b, 0);
  const totalBefore = before ? Object.values(before.requests).reduce((a, b) => a + b, 0) : 0;
  const secs = before ? (s.at - before.at) / 1000 : 0;
  return card("Requests",
    h("p", { id: "request-rate" }, `${total} requests served; `, before && secs > 0 ?
      `${((total - totalBefore) / secs).toFixed(2)} per second now; ` : "rate after the " +
      "next refresh (5 s); ", `${s.inFlight} in flight.`),
    table(["Operation", "Total", "Rate", "4xx", "5xx"], ops.slice(0, TOP).map((op) => [op,
      String(s.requests[op]), rate(s, before, op, "requests"), String(errs(op, "4xx")),
      String(errs(op, "5xx"))]), "No requests yet."),
    ops.length > TOP ? h("p", { class: "hint" }, `and ${ops.length - TOP} more operations ` +
      "(every one is in /_metrics).") : null,
    h("h3", {}, "Errors by code"),
    table(["Operation", "Code", "Count", "Rate"], Object.keys(s.errors)
      .sort((a, b) => s.errors[b] - s.errors[a]).slice(0, TOP).map((k) => [
      ...k.split(" "), String(s.errors[k]), rate(s, before, k, "errors")]), "No errors."));
}

export default async function systemPage(main, ctx) {
  const { client } = ctx;
  const reload = () => ctx.go("#/system");
  previous = null;        // a rate is over the last 5 s, never since an earlier visit
  const [drives, heal, tier] = await Promise.all([
    client.admin("GET", "/_admin/drives"), client.admin("GET", "/_admin/heal"),
    client.admin("GET", "/_admin/tier/status").catch((e) => {
      if (e.status === 404) return null;
      throw e;
    })]);
  const requests = h("div", { id: "requests", class: "wide" });
  const refresh = async () => {
    const s = sample(await client.metrics());
    clear(requests, requestsCard(s, previous));
    previous = s;
  };
  main.append(h("h1", {}, "System"), h("div", { class: "grid two" },
    drivesCard(drives.drives), healCard(client, heal, reload), tierCard(tier), requests));
  await refresh();
  ctx.every(5, () => refresh().catch(() => {}));
}
