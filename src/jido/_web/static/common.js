// Shared helpers. Every value from the server reaches the page as text (textContent,
// createTextNode, setAttribute): never as HTML.

export const $ = (id) => document.getElementById(id);

export const ACTIVE = new Set(["queued", "running", "retrying"]);
export const CANCELLABLE = new Set(["queued", "running", "retrying", "needs_attention"]);
export const RESUMABLE = new Set(["failed", "needs_attention"]);

// el("td", {class: "x", title: "y"}, "text", child) -> an element; strings become text nodes.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined && v !== false) node.setAttribute(k, String(v));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG = "http://www.w3.org/2000/svg";
export function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return "";
}

// GET returns the parsed JSON; POST sends JSON with the CSRF token and returns {status, body}.
export async function getJSON(path) {
  const r = await fetch(path, { credentials: "same-origin" });
  const body = await r.json().catch(() => ({ ok: false, message: `HTTP ${r.status}` }));
  if (!r.ok) throw new Error(body.message || `HTTP ${r.status}`);
  return body;
}

export async function postJSON(path, payload) {
  const r = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": cookie("jido_csrf") },
    body: JSON.stringify(payload || {}),
  });
  const body = await r.json().catch(() => ({ ok: false, message: `HTTP ${r.status}` }));
  return { status: r.status, body };
}

// The server's clock, from the "now" it sends, so that live durations do not drift.
let skew = 0;
export function syncClock(serverNow) {
  if (typeof serverNow === "number" && serverNow > 0) skew = serverNow - Date.now() / 1000;
}
export const now = () => Date.now() / 1000 + skew;

const pad = (n) => String(n).padStart(2, "0");
export function fmtTime(t) {
  if (t === null || t === undefined) return "";
  const d = new Date(t * 1000);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (new Date().toDateString() === d.toDateString()) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}
export function fmtFull(t) {
  return t === null || t === undefined ? "" : new Date(t * 1000).toISOString();
}
export function fmtDur(s) {
  if (s === null || s === undefined || !isFinite(s)) return "";
  if (s < 0) s = 0;
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(Math.floor(s % 60))}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d ${pad(Math.floor((s % 86400) / 3600))}h`;
}
// A run's (or attempt's) duration: to its end, or to now while it goes on.
export function duration(start, end) {
  if (start === null || start === undefined) return null;
  return (end ?? now()) - start;
}

// A run's duration: to its end, to now while it is active, else to its last change.
export function runDuration(run) {
  const end = run.finished ?? (ACTIVE.has(run.status) ? null : run.updated);
  return duration(run.started, end);
}

export function statusBadge(status) {
  return el("span", { class: `status s-${status}` }, String(status).replace("_", " "));
}

export function runLink(id) {
  return `/runs/${encodeURIComponent(id)}`;
}

// Coalesce bursts of updates: one render per animation frame at most, and after a render
// that took d ms, none for the next 2d ms (up to 250): however fast updates come, drawing
// them keeps at most a third of the page's main thread; a lone update is drawn at once.
export function coalescer(render) {
  let pending = null;
  let ready = 0;
  const flush = () => requestAnimationFrame(() => {
    const began = performance.now();
    const batch = pending;
    pending = null;
    render(batch);
    const took = performance.now() - began;
    ready = performance.now() + Math.min(250, 2 * took);
  });
  return (item) => {
    if (pending === null) {
      pending = [];
      setTimeout(flush, Math.max(0, ready - performance.now()));
    }
    pending.push(item);
  };
}

export function toast(message, ok) {
  const box = $("toast");
  box.textContent = message;
  box.className = `toast ${ok ? "ok" : "bad"}`;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 8000);
}

// A modal yes/no question; resolves true on "yes".
export function confirmDialog(text, yesLabel) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  $("confirm-yes").textContent = yesLabel;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

// Ask, post, show the outcome; returns the response body (or null when not confirmed).
export async function act(question, yesLabel, path, payload) {
  if (!(await confirmDialog(question, yesLabel))) return null;
  try {
    const { body } = await postJSON(path, payload);
    toast(body.message || (body.ok ? "done" : "failed"), body.ok);
    return body;
  } catch (err) {
    toast(`request failed: ${err.message}`, false);
    return null;
  }
}

export function setLive(state) {
  const live = $("live");
  live.textContent = state;
  live.className = `live ${state === "live" ? "on" : "off"}`;
}
