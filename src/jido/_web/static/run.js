// A run's page: its facts, values, step graph and every attempt, live over SSE.
import {
  $, ACTIVE, CANCELLABLE, RESUMABLE, act, coalescer, duration, el, fmtDur, fmtFull, fmtTime,
  getJSON, now, runDuration, setLive, statusBadge, syncClock,
} from "./common.js";
import { drawGraph, drawTimeline } from "./draw.js";

const json = (v) => JSON.stringify(v, null, 2);

export function startRun(id) {
  const path = encodeURIComponent(id);
  let current = null;
  $("run-view").hidden = false;
  $("run-title").textContent = id;
  document.title = `${id} · jido`;

  const render = coalescer((batch) => show(batch[batch.length - 1]));

  function show(data) {
    if (data === null) { missing(id); return; }
    current = data;
    syncClock(data.now);
    const run = data.run;
    $("run-status").replaceChildren(statusBadge(run.status));
    facts(run);
    $("run-cancel").disabled = !CANCELLABLE.has(run.status);
    $("run-resume").disabled = !RESUMABLE.has(run.status);
    $("graph-box").hidden = !data.graph;
    if (data.graph) drawGraph($("graph"), data.graph);
    drawTimeline($("timeline"), data);
    attemptsTable(data.attempts);
    $("params").textContent = json(run.params);
    const failed = run.error !== null && run.error !== undefined;
    $("outcome-title").textContent = failed ? "Error" : "Result";
    $("outcome").textContent = failed ? json(run.error)
      : run.status === "succeeded" ? json(run.result) : "(not finished)";
    $("outcome").className = failed ? "error" : "";
  }

  $("run-cancel").addEventListener("click", () => act(
    `Cancel run ${id}? Its running step is stopped.`, "Cancel run", `/api/cancel/${path}`, {}));
  $("run-resume").addEventListener("click", () => act(
    `Resume run ${id}? It runs again from its last completed step.`, "Resume run",
    `/api/resume/${path}`, {}));

  getJSON(`/api/run/${path}`).then(render, (err) => missing(id, err.message));
  const source = new EventSource(`/api/run-events/${path}`);
  source.addEventListener("run", (e) => render(JSON.parse(e.data)));
  source.onopen = () => setLive("live");
  source.onerror = () => setLive("reconnecting");

  setInterval(() => {
    if (current && ACTIVE.has(current.run.status)) {
      facts(current.run);
      drawTimeline($("timeline"), current);
    }
  }, 1000);
}

function missing(id, why) {
  $("run-view").hidden = true;
  const box = $("missing");
  box.hidden = false;
  box.textContent = why || `No run ${id} in the store.`;
}

function facts(run) {
  const rows = [
    ["Action", run.action],
    ["Kind", run.kind],
    ["Owner", run.owner || "none"],
    ["Created", fmtTime(run.created), fmtFull(run.created)],
    ["Started", fmtTime(run.started), fmtFull(run.started)],
    ["Finished", fmtTime(run.finished), fmtFull(run.finished)],
    ["Duration", fmtDur(runDuration(run))],
    ["Attempts", run.attempts],
    ["Recoveries", run.recoveries],
  ];
  if (run.retry_at && run.status === "retrying") {
    const left = run.retry_at - now();
    rows.push(["Next attempt", `${fmtTime(run.retry_at)} (${left > 0 ? `in ${fmtDur(left)}` : "due"})`]);
  }
  if (run.cancel_requested) rows.push(["Cancel asked", fmtTime(run.cancel_requested)]);
  if (run.reason) rows.push(["Needs attention", run.reason]);
  $("run-facts").replaceChildren(...rows.flatMap(([k, v, title]) => [
    el("dt", {}, k), el("dd", { title: title || null, "data-fact": k.toLowerCase() }, v ?? ""),
  ]));
}

function stopText(a) {
  if (a.stopped === null || a.stopped === undefined) return "";
  return a.stopped ? `stopped (${a.stop})` : `NOT stopped (${a.stop})`;
}

function attemptsTable(attempts) {
  const body = $("attempts").tBodies[0];
  const rows = attempts.slice(0, 2000).map((a) => {
    const outcome = a.error && a.error.type === "timeout" ? `${a.status} · timeout` : a.status;
    const backoff = a.retry_at && a.finished
      ? `${fmtDur(a.retry_at - a.finished)} (due ${fmtTime(a.retry_at)})` : "";
    return el("tr", { class: `a-${a.status}`, "data-step": a.step, "data-attempt": a.attempt },
      el("td", {}, a.step === "" ? "run" : a.step),
      el("td", { class: "num" }, a.attempt),
      el("td", { title: fmtFull(a.started) }, fmtTime(a.started)),
      el("td", { title: fmtFull(a.finished) }, fmtTime(a.finished)),
      el("td", {}, fmtDur(duration(a.started, a.finished))),
      el("td", {}, outcome),
      el("td", { class: "err" }, a.error ? `${a.error.type}: ${a.error.message}` : ""),
      el("td", {}, stopText(a)),
      el("td", {}, backoff));
  });
  body.replaceChildren(...rows);
}
