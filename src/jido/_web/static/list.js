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

  function cells(run) {
    const buttons = [];
    if (CANCELLABLE.has(run.status)) {
      buttons.push(el("button", { type: "button", class: "small danger", "data-act": "cancel" }, "cancel"));
    }
    if (RESUMABLE.has(run.status)) {
      buttons.push(el("button", { type: "button", class: "small", "data-act": "resume" }, "resume"));
    }
    const badge = statusBadge(run.status);
    if (run.cancel_requested && ACTIVE.has(run.status)) badge.append(" · cancelling");
    const started = run.started ?? run.created;
    return [
      el("td", {}, badge),
      el("td", { class: "id" }, el("a", { href: runLink(run.id) }, run.id)),
      el("td", {}, run.action),
      el("td", { title: fmtFull(started) }, fmtTime(started)),
      el("td", { class: "dur" }, fmtDur(runDuration(run))),
      el("td", { class: "num" }, run.attempts),
      el("td", { class: "owner", title: run.owner || "" }, run.owner || ""),
      el("td", { class: "row-actions" }, ...buttons),
    ];
  }

  function paint(entry) {
    const { run, tr } = entry;
    tr.replaceChildren(...cells(run));
    tr.className = `row s-${run.status}${matches(run) ? "" : " left"}`;
    tr.title = matches(run) ? "" : "no longer matches the filter";
  }

  function add(run, before) {
    const tr = el("tr", { "data-id": run.id });
    const entry = { run, tr };
    rows.set(run.id, entry);
    paint(entry);
    tbody.insertBefore(tr, before || null);
    if (!actions.has(run.action)) {
      actions.add(run.action);
      $("actions").append(el("option", { value: run.action }));
    }
  }

  const newer = (a, b) => a.created > b.created || (a.created === b.created && a.id > b.id);

  function place(run) {
    const entry = rows.get(run.id);
    if (entry) {
      if (run.seq < entry.run.seq) return; // an older state than the one shown
      entry.run = run;
      paint(entry);
      return;
    }
    if (cursor || !matches(run)) return; // live rows join the first page only
    let before = null;
    for (const tr of tbody.rows) {
      if (newer(run, rows.get(tr.dataset.id).run)) { before = tr; break; }
    }
    if (before === null && rows.size >= limit) return; // it belongs to an older page
    if (rows.size >= cap) { hidden.add(run.id); note(); return; }
    add(run, before);
    note();
  }

  const schedule = coalescer((batch) => {
    const latest = new Map();
    for (const runs of batch) for (const run of runs) latest.set(run.id, run);
    for (const run of latest.values()) place(run);
  });

  function note() {
    $("list-note").textContent = hidden.size ? `${hidden.size} newer runs not shown: see Newest` : "";
    $("empty").hidden = rows.size > 0;
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
    for (const { run, tr } of rows.values()) {
      if (ACTIVE.has(run.status) && tr.cells[4]) {
        tr.cells[4].textContent = fmtDur(runDuration(run));
      }
    }
  }, 1000);

  load();
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
