// The run page's two drawings, as SVG built node by node (labels are text nodes):
// the step graph of a chain or plan, and the timeline of every attempt.
import { el, fmtDur, now, svg } from "./common.js";

const MAX_GRAPH = 300;
const MAX_ROWS = 200;
const MAX_BARS = 2000;

function clip(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

// Columns by longest path from a step with no dependencies (Kahn's order).
function layers(nodes, edges) {
  const index = new Map(nodes.map((n, i) => [n.key, i]));
  const incoming = nodes.map(() => 0);
  const out = nodes.map(() => []);
  for (const [a, b] of edges) {
    out[index.get(a)].push(index.get(b));
    incoming[index.get(b)] += 1;
  }
  const layer = nodes.map(() => 0);
  const queue = nodes.map((_, i) => i).filter((i) => incoming[i] === 0);
  while (queue.length) {
    const i = queue.shift();
    for (const j of out[i]) {
      layer[j] = Math.max(layer[j], layer[i] + 1);
      if (--incoming[j] === 0) queue.push(j);
    }
  }
  return layer;
}

export function drawGraph(box, graph) {
  const nodes = graph ? graph.nodes : [];
  if (graph && graph.truncated) {
    box.replaceChildren(el("p", { class: "empty" }, `${graph.truncated} steps: too many to draw.`));
    return;
  }
  if (nodes.length > MAX_GRAPH) {
    box.replaceChildren(el("p", { class: "empty" }, `${nodes.length} steps: too many to draw.`));
    return;
  }
  const W = 168, H = 42, GX = 46, GY = 14, PAD = 8;
  const layer = layers(nodes, graph.edges);
  const rowsUsed = [];
  const pos = new Map();
  nodes.forEach((n, i) => {
    const row = rowsUsed[layer[i]] = (rowsUsed[layer[i]] ?? -1) + 1;
    pos.set(n.key, { x: PAD + layer[i] * (W + GX), y: PAD + row * (H + GY) });
  });
  const width = PAD * 2 + (Math.max(0, ...layer) + 1) * (W + GX) - GX;
  const height = PAD * 2 + Math.max(1, ...rowsUsed.map((r) => r + 1)) * (H + GY) - GY;
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "steps and their dependencies" });
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5,
    markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" }));
  defs.append(marker);
  root.append(defs);
  for (const [a, b] of graph.edges) {
    const p = pos.get(a), q = pos.get(b);
    const x1 = p.x + W, y1 = p.y + H / 2, x2 = q.x, y2 = q.y + H / 2, mx = (x1 + x2) / 2;
    root.append(svg("path", { d: `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2 - 2} ${y2}`,
      class: "edge", "marker-end": "url(#arrow)" }));
  }
  for (const n of nodes) {
    const { x, y } = pos.get(n.key);
    const g = svg("g", { class: `node s-${n.status}`, "data-key": n.key,
      transform: `translate(${x} ${y})` });
    g.append(svg("title", {}, `${n.label}: ${n.status}, ${n.attempts} attempt(s)`));
    g.append(svg("rect", { width: W, height: H, rx: 6 }));
    g.append(svg("text", { x: 8, y: 17, class: "label" }, clip(n.label, 24)));
    const tries = n.attempts > 1 ? ` · ${n.attempts} attempts` : "";
    g.append(svg("text", { x: 8, y: 33, class: "sub" }, `${n.status.replace("_", " ")}${tries}`));
    root.append(g);
  }
  box.replaceChildren(root);
}

function ticks(t0, span, x, top, bottom) {
  const out = [];
  for (let i = 0; i <= 5; i++) {
    const t = t0 + (span * i) / 5;
    out.push(svg("line", { x1: x(t), x2: x(t), y1: top, y2: bottom, class: "tick" }));
    out.push(svg("text", { x: x(t), y: bottom + 14, class: "axis", "text-anchor": "middle" },
      `+${fmtDur((span * i) / 5)}`));
  }
  return out;
}

function describe(a, end) {
  const parts = [`attempt ${a.attempt}: ${a.status}`, `took ${fmtDur(end - a.started)}`];
  if (a.error) parts.push(`${a.error.type}: ${a.error.message}`);
  if (a.stopped !== null) parts.push(a.stopped ? `stopped (${a.stop})` : `not stopped (${a.stop})`);
  if (a.retry_at) parts.push(`next attempt due after ${fmtDur(a.retry_at - (a.finished ?? end))}`);
  return parts.join(" · ");
}

// Every attempt as a bar on its step's row; the backoff before the next one as a dashed gap.
export function drawTimeline(box, data) {
  const attempts = data.attempts.slice(0, MAX_BARS);
  const run = data.run;
  if (!attempts.length) {
    box.replaceChildren(el("p", { class: "empty" }, "No attempt has started yet."));
    return;
  }
  const keys = [...new Set(attempts.map((a) => a.step))].slice(0, MAX_ROWS);
  const row = new Map(keys.map((k, i) => [k, i]));
  const t = now();
  const t0 = Math.min(...attempts.map((a) => a.started), run.started ?? Infinity);
  let t1 = Math.max(...attempts.map((a) => Math.max(a.finished ?? t, a.retry_at ?? 0)));
  if (run.finished) t1 = Math.max(t1, run.finished);
  const span = Math.max(t1 - t0, 0.001);
  const LABEL = 120, RH = 26, TOP = 6;
  const width = Math.max(box.clientWidth || 900, 480);
  const plot = width - LABEL - 40;
  const x = (v) => LABEL + ((v - t0) / span) * plot;
  const bottom = TOP + keys.length * RH;
  const root = svg("svg", { width, height: bottom + 22, viewBox: `0 0 ${width} ${bottom + 22}`,
    role: "img", "aria-label": "timeline of every attempt" });
  root.append(...ticks(t0, span, x, TOP, bottom));
  keys.forEach((k, i) => {
    const y = TOP + i * RH;
    root.append(svg("text", { x: LABEL - 8, y: y + 17, class: "rowlabel", "text-anchor": "end" },
      clip(k === "" ? "run" : `step ${k}`, 16)));
  });
  for (const a of attempts) {
    if (!row.has(a.step)) continue;
    const y = TOP + row.get(a.step) * RH + 4;
    const end = a.finished ?? t;
    const timeout = a.error && a.error.type === "timeout";
    const g = svg("g", { class: `attempt a-${a.status}${timeout ? " timeout" : ""}`,
      "data-step": a.step, "data-attempt": a.attempt });
    g.append(svg("title", {}, describe(a, end)));
    const x1 = x(a.started), w = Math.max(x(end) - x1, 3);
    g.append(svg("rect", { x: x1, y, width: w, height: RH - 8, rx: 3 }));
    if (w > 22) g.append(svg("text", { x: x1 + 4, y: y + 13, class: "barlabel" }, `#${a.attempt}`));
    if (a.retry_at && a.finished) {
      const gy = y + (RH - 8) / 2;
      const bx1 = x(a.finished), bx2 = x(a.retry_at);
      g.append(svg("line", { x1: bx1, x2: bx2, y1: gy, y2: gy, class: "backoff" }));
      g.append(svg("line", { x1: bx2, x2: bx2, y1: gy - 5, y2: gy + 5, class: "backoff-end" }));
      if (bx2 - bx1 > 90) {
        g.append(svg("text", { x: (bx1 + bx2) / 2, y: gy - 3, class: "gaplabel",
          "text-anchor": "middle" }, `backoff ${fmtDur(a.retry_at - a.finished)}`));
      }
    }
    root.append(g);
  }
  if (!run.finished && t <= t1) {
    root.append(svg("line", { x1: x(t), x2: x(t), y1: TOP, y2: bottom, class: "now" }));
  }
  box.replaceChildren(root);
}
