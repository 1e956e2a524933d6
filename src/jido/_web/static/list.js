// The runs list: filters in the query string, one keyset page, live rows over SSE.
import {
  $, ACTIVE, CANCELLABLE, RESUMABLE, act, coalescer, el, fmtDur, fmtFull, fmtTime,
  getJSON, postJSON, runDuration, runLink, setLive, statusBadge, syncClock, toast,
} from "./common.js";

const STATUSES = ["queued", "running", "retrying", "succeeded", "failed", "cancelled",
  "needs_attention"];
const FILTERS = ["status", "action", "since"];

export function startList() {
  const query = new URLSearchParams(location.search);
  const filter = Object.fromEntries(FILTERS.map((k) => [k, (query.get(k) || "").trim()]));
  const cursor = query.get("cursor") || "";
  const limit = Math.min(Math.max(Number(query.get("limit")) || 50, 1), 500);
  const cap = limit * 2; // live rows added to the first page before it asks for a reload
  const statuses = filter.status ? filter.status.split(",") : null;
  const rows = new Map(); // run id -> {run, tr}
  const actions = new Set();
  const tbody = $("runs").tBodies[0];
  const hidden = new Set(); // new runs past the cap
  let source = null;

  $("list-view").hidden = false;
  fillForm(filter);

  const matches = (run) =>
    (!statuses || statuses.includes(run.status)) && (!filter.action || run.action === filter.action);

  // One entry per column: the value it shows, and how to show it. A cell is rewritten
  // only when its value changes, so a busy store repaints little.
  const COLUMNS = [
    ["", (r) => `${r.status}${r.cancel_requested && ACTIVE.has(r.status) ? " · cancelling" : ""}`,
      (td, r, v) => td.replaceChildren(statusBadge(r.status), v.slice(r.status.length))],
    ["id", (r) => r.id, (td, r) => td.replaceChildren(el("a", { href: runLink(r.id) }, r.id))],
    ["", (r) => r.action, (td, r, v) => { td.textContent = v; }],
    ["", (r) => r.started ?? r.created, (td, r, v) => {
      td.textContent = fmtTime(v);
      td.title = fmtFull(v);
    }],
    ["dur", (r) => fmtDur(runDuration(r)), (td, r, v) => { td.textContent = v; }],
    ["num", (r) => String(r.attempts), (td, r, v) => { td.textContent = v; }],
    ["owner", (r) => r.owner || "", (td, r, v) => { td.textContent = v; td.title = v; }],
    ["row-actions", (r) => `${CANCELLABLE.has(r.status)} ${RESUMABLE.has(r.status)}`,
      (td, r) => td.replaceChildren(...buttons(r))],
  ];

  function paint(entry, only) {
    const { run, tr } = entry;
    const columns = only === undefined ? COLUMNS.keys() : [only];
    for (const i of columns) {
      const value = COLUMNS[i][1](run);
      if (entry.shown[i] !== value) {
        entry.shown[i] = value;
        COLUMNS[i][2](tr.cells[i], run, value);
      }
    }
    const left = !matches(run);
    const className = `row s-${run.status}${left ? " left" : ""}`;
    if (tr.className !== className) {
      tr.className = className;
      tr.title = left ? "no longer matches the filter" : "";
    }
  }

  function add(run, before) {
    const tr = el("tr", { "data-id": run.id }, ...COLUMNS.map(([cls]) => el("td", { class: cls || null })));
    const entry = { run, tr, shown: [] };
    rows.set(run.id, entry);
    paint(entry);
    tbody.insertBefore(tr, before || null);
    if (!actions.has(run.action)) {
      actions.add(run.action);
      $("actions").append(el("option", { value: run.action }));
    }
  }

  const newer = (a, b) => a.created > b.created || (a.created === b.created && a.id > b.id);

  // Where a changed run goes: its row if shown; a new row on the first page if it
  // matches and is recent enough; else nowhere (it belongs to another page).
  function place(run) {
    const entry = rows.get(run.id);
    if (entry) {
      if (run.seq < entry.run.seq) return; // an older state than the one shown
      entry.run = run;
      paint(entry);
      return;
    }
    if (cursor || !matches(run)) return; // live rows join the first page only
    const first = tbody.rows[0], last = tbody.rows[tbody.rows.length - 1];
    if (rows.size >= limit && last && !newer(run, rows.get(last.dataset.id).run)) return;
    if (rows.size >= cap) { // counted, not kept: the page holds at most `cap` rows
      if (hidden.size < 10000 && first && newer(run, rows.get(first.dataset.id).run)) {
        hidden.add(run.id);
      }
      return;
    }
    let before = null;
    for (const tr of tbody.rows) {
      if (newer(run, rows.get(tr.dataset.id).run)) { before = tr; break; }
    }
    add(run, before);
  }

  const schedule = coalescer((batch) => {
    const latest = new Map();
    for (const runs of batch) for (const run of runs) latest.set(run.id, run);
    for (const run of latest.values()) place(run);
    note();
  });

  function note() {
    const n = hidden.size >= 10000 ? "10,000+" : hidden.size.toLocaleString();
    const text = hidden.size ? `${n} newer runs not shown: see Newest` : "";
    if ($("list-note").textContent !== text) $("list-note").textContent = text;
    $("empty").hidden = rows.size > 0;
    if (hidden.size) $("newest").hidden = false;
  }

  function connect(feed) {
    if (source) source.close();
    source = new EventSource(`/api/events?after=${encodeURIComponent(feed)}`);
    source.addEventListener("runs", (e) => schedule(JSON.parse(e.data)));
    source.addEventListener("counts", (e) => renderCounts(JSON.parse(e.data), filter));
    source.onopen = () => setLive("live");
    source.onerror = () => setLive("reconnecting");
  }

  async function load() {
    const qs = new URLSearchParams();
    for (const k of FILTERS) if (filter[k]) qs.set(k, filter[k]);
    if (cursor) qs.set("cursor", cursor);
    qs.set("limit", String(limit));
    let data;
    try {
      data = await getJSON(`/api/runs?${qs}`);
    } catch (err) {
      $("list-note").textContent = err.message;
      return;
    }
    syncClock(data.now);
    for (const run of data.items) add(run, null);
    pager(qs, data.cursor);
    if (data.counts) renderCounts(data.counts, filter);
    note();
    connect(data.feed);
  }

  tbody.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-act]");
    if (!button) return;
    const id = button.closest("tr").dataset.id;
    const what = button.dataset.act;
    const question = what === "cancel"
      ? `Cancel run ${id}? Its running step is stopped.`
      : `Resume run ${id}? It runs again from its last completed step.`;
    await act(question, what === "cancel" ? "Cancel run" : "Resume run",
      `/api/${what}/${encodeURIComponent(id)}`, {});
  });

  $("bulk-cancel").addEventListener("click", () => bulkCancel(filter));

  setInterval(() => {
    for (const entry of rows.values()) if (ACTIVE.has(entry.run.status)) paint(entry, 4);
  }, 1000);

  load();
}

function buttons(run) {
  const out = [];
  if (CANCELLABLE.has(run.status)) {
    out.push(el("button", { type: "button", class: "small danger", "data-act": "cancel" }, "cancel"));
  }
  if (RESUMABLE.has(run.status)) {
    out.push(el("button", { type: "button", class: "small", "data-act": "resume" }, "resume"));
  }
  return out;
}

function fillForm(filter) {
  const form = $("filters");
  const since = $("f-since");
  if (filter.since && ![...since.options].some((o) => o.value === filter.since)) {
    since.append(el("option", { value: filter.since }, `since ${filter.since}`));
  }
  const status = $("f-status");
  if (filter.status && ![...status.options].some((o) => o.value === filter.status)) {
    status.append(el("option", { value: filter.status }, filter.status));
  }
  status.value = filter.status;
  since.value = filter.since;
  $("f-action").value = filter.action;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const qs = new URLSearchParams();
    for (const k of FILTERS) {
      const v = form.elements[k].value.trim();
      if (v) qs.set(k, v);
    }
    location.assign(qs.toString() ? `/?${qs}` : "/");
  });
}

function pager(qs, next) {
  const base = new URLSearchParams(qs);
  base.delete("cursor");
  if (base.get("limit") === "50") base.delete("limit");
  const newest = $("newest");
  newest.hidden = !qs.get("cursor");
  newest.href = base.toString() ? `/?${base}` : "/";
  const older = $("older");
  older.hidden = !next;
  if (next) {
    base.set("cursor", next);
    older.href = `/?${base}`;
  }
}

function renderCounts(counts, filter) {
  const box = $("counts");
  const chips = STATUSES.map((s) => {
    const qs = new URLSearchParams();
    qs.set("status", s);
    if (filter.action) qs.set("action", filter.action);
    const n = counts[s] || 0;
    const warn = (s === "retrying" || s === "needs_attention") && n > 0;
    const current = filter.status === s ? " current" : "";
    return el("a", { href: `/?${qs}`, class: `chip s-${s}${warn ? " warn" : ""}${current}` },
      `${s.replace("_", " ")} `, el("b", {}, n.toLocaleString()));
  });
  box.replaceChildren(...chips);
}

async function bulkCancel(filter) {
  const wanted = Object.fromEntries(FILTERS.filter((k) => filter[k]).map((k) => [k, filter[k]]));
  const { body } = await postJSON("/api/bulk-cancel", { filter: wanted, confirm: false });
  if (!body.ok) { toast(body.message || "failed", false); return; }
  if (body.count === 0) {
    toast(`no run that can still be cancelled matches (${body.filter})`, false);
    return;
  }
  const n = `${body.count}${body.more ? "+" : ""}`;
  await act(`Cancel ${n} runs (${body.filter})? Each running step is stopped.`,
    `Cancel ${n} runs`, "/api/bulk-cancel", { filter: wanted, confirm: true });
}
