"""The web view with a million runs: server time, live latency in a browser, responsiveness.

Run: .venv/bin/python benchmarks/bench_web.py [--runs 1000000] [--db PATH] [--quick]

1. **Server time** of the runs list (first page, filters, the next page) and of a run's
   page, measured inside the server (an ASGI wrapper around the app, request to last
   byte), against the bare store call that serves it (the same query, no HTTP): targets
   <= 100 ms for the first page and for a filter.
2. **Live latency**: a status change written to the store (by this process, as a runtime
   would) until the open page in headless Chromium has painted it (a MutationObserver
   in the page stamps the time), p50/p95/max over 100 changes, against the same changes
   received by a plain SSE client (no browser): target p95 <= 250 ms.
3. **Responsiveness with 10,000 live runs**: another process starts 10,000 runs and then
   keeps changing their statuses as fast as it can while the page is open; the page's
   frame intervals, long tasks (> 50 ms) and key-press-to-paint latency are measured
   in the browser, and the list request's server time meanwhile.

The store is SQLite (the embedded default) in a file that is reused when it already
holds the runs (seeding a million runs takes about two minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from jido._store import NewRun, Store, open_store

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "web"))
from sse import Stream  # noqa: E402  (the test suite's SSE client)

from jido._web.app import create_app  # noqa: E402
from jido._web.server import make_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

ACTIONS = [f"app.action_{i}" for i in range(20)]
STATUSES = ["succeeded"] * 90 + ["failed"] * 6 + ["cancelled"] * 2 + ["running", "retrying"]
OWNER = "bench-writer"
TAG = uuid.uuid4().hex[:6]  # runs this benchmark adds are new each time


# --- the store ---------------------------------------------------------------------------------


def seed(path: Path, n: int) -> None:
    """A store of ``n`` runs created over the last ``n * 2.5`` seconds (one attempt each)."""
    if path.exists():
        with sqlite3.connect(path) as db:  # reuse it, without the runs earlier benchmarks added
            db.execute("DELETE FROM jido_attempts WHERE run_id NOT LIKE 'run-%'")
            db.execute("DELETE FROM jido_runs WHERE run_id NOT LIKE 'run-%'")
            if db.execute("SELECT COUNT(*) FROM jido_runs").fetchone()[0] == n:
                return
        path.unlink()
    open_store(f"sqlite:///{path}").close()
    rng = random.Random(1)
    now = time.time()
    started = time.monotonic()
    db = sqlite3.connect(path)
    db.execute("BEGIN")
    for first in range(0, n, 50_000):
        runs, attempts = [], []
        for i in range(first, min(n, first + 50_000)):
            created = now - (n - i) * 2.5
            status = rng.choice(STATUSES)
            done = created + 1.0 if status in ("succeeded", "failed", "cancelled") else None
            run_id = f"run-{i:07d}"
            runs.append((run_id, i + 1, rng.choice(ACTIONS), status, created, created + 1, done,
                         None if done else OWNER, None if done else now + 3600))  # fmt: skip
            attempts.append((run_id, "failed" if status == "failed" else "succeeded", created))
        db.executemany(
            "INSERT INTO jido_runs (run_id, seq, kind, action, status, definition, fingerprint, "
            "params, context, result, owner, lease_until, created_at, started_at, updated_at, "
            "finished_at) VALUES (?1, ?2, 'action', ?3, ?4, '{}', 'fp', '{\"n\":1}', '{}', "
            "'{\"ok\":true}', ?8, ?9, ?5, ?5, ?6, ?7)",
            runs,
        )
        db.executemany(
            "INSERT INTO jido_attempts (run_id, step_key, attempt, status, started_at, "
            "finished_at) VALUES (?1, '', 1, ?2, ?3, ?3 + 1)",
            attempts,
        )
    db.execute("COMMIT")
    db.close()
    print(f"seeded {n:,} runs in {time.monotonic() - started:.0f} s")


def start(store: Store, run_id: str, action: str = "bench.live") -> None:
    new = NewRun(run_id, "action", action, {}, "fp", {"n": 1}, {}, time.time())
    store.start_run(new, owner=OWNER, lease_until=time.time() + 3600)


class Server:
    """``app`` served by uvicorn on 127.0.0.1 in a thread of this process."""

    def __init__(self, app: Any, wrap: Callable[[Any], Any] | None = None) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = make_server(app, wrap=wrap)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()


# --- 1. server time ------------------------------------------------------------------------------


class Timed:
    """An ASGI wrapper that records each request's server time (to its last byte) by path."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.times: dict[str, list[float]] = defaultdict(list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].endswith("events"):
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        await self.app(scope, receive, send)
        key = scope["path"] + "?" + scope["query_string"].decode()
        self.times[key].append(time.perf_counter() - began)


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def server_times(store: Store, repeats: int) -> list[dict[str, Any]]:
    timed: list[Timed] = []
    server = Server(create_app(store), wrap=lambda app: timed.append(Timed(app)) or timed[-1])
    second = store.list_runs(limit=50).cursor
    one = store.list_runs(limit=1).items[0].run_id
    since = time.time() - 3600
    cases: list[tuple[str, str, Callable[[], object]]] = [
        ("first page", "limit=50", lambda: store.list_runs(limit=50)),
        ("next page", f"limit=50&cursor={second}",
         lambda: store.list_runs(limit=50, cursor=second)),
        ("status=failed", "status=failed&limit=50",
         lambda: store.list_runs(status="failed", limit=50)),
        ("status=retrying", "status=retrying&limit=50",
         lambda: store.list_runs(status="retrying", limit=50)),
        ("action=app.action_3", "action=app.action_3&limit=50",
         lambda: store.list_runs(action="app.action_3", limit=50)),
        ("since=1h", f"since={since}&limit=50", lambda: store.list_runs(since=since, limit=50)),
        ("status=retrying&action=app.action_3", "status=retrying&action=app.action_3&limit=50",
         lambda: store.list_runs(status="retrying", action="app.action_3", limit=50)),
    ]  # fmt: skip
    rows = []
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for name, query, bare in cases:
                for _ in range(3):  # warm-up
                    client.get(f"/api/runs?{query}").raise_for_status()
                    bare()
                bare_times = []
                for _ in range(repeats):
                    began = time.perf_counter()
                    bare()
                    bare_times.append(time.perf_counter() - began)
                    client.get(f"/api/runs?{query}").raise_for_status()
                served = timed[0].times[f"/api/runs?{query}"][3:]
                rows.append(_row(name, served, bare_times))
            for _ in range(repeats + 3):
                client.get(f"/api/run/{one}").raise_for_status()
            bare_times = []
            for _ in range(repeats):
                began = time.perf_counter()
                store.get_history(one)
                bare_times.append(time.perf_counter() - began)
            rows.append(_row("a run's page", timed[0].times[f"/api/run/{one}?"][3:], bare_times))
    finally:
        server.stop()
    return rows


def _row(name: str, served: list[float], bare: list[float]) -> dict[str, Any]:
    median = statistics.median(served) * 1000
    bare_median = statistics.median(bare) * 1000
    return {"case": name, "p50_ms": median, "p95_ms": _ms(served, 0.95),
            "max_ms": max(served) * 1000, "bare_ms": bare_median,
            "ratio": median / bare_median if bare_median else float("nan")}  # fmt: skip


# --- 2 and 3: in the browser ---------------------------------------------------------------

OBSERVE = """() => {
  window.__seen = {};
  const stamp = () => performance.timeOrigin + performance.now();
  new MutationObserver((changes) => {
    for (const c of changes) {
      const tr = c.target.closest ? c.target.closest("tr[data-id]") : null;
      for (const node of [tr, ...c.addedNodes]) {
        if (node && node.dataset && node.dataset.id && node.className) {
          const key = node.dataset.id + " " + node.className.split(" ")[1];
          if (!(key in window.__seen)) window.__seen[key] = stamp();
        }
      }
    }
  }).observe(document.querySelector("#runs tbody"), {childList: true, subtree: true,
    attributes: true, attributeFilter: ["class"]});
}"""

FRAMES = """() => {
  window.__frames = []; window.__long = []; window.__keys = [];
  let last = performance.now();
  const tick = (t) => { window.__frames.push(t - last); last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  const longTasks = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__long.push(e.duration);
  });
  longTasks.observe({type: "longtask", buffered: true});
  document.addEventListener("keydown", (e) => {
    const t0 = performance.now();
    requestAnimationFrame(() => setTimeout(() => window.__keys.push(performance.now() - t0), 0));
  });
}"""


def live_latency(store: Store, server: Server, tab: Any, changes: int) -> dict[str, Any]:
    tab.goto(server.url + "/?limit=500")  # room for every new run on the first page
    tab.wait_for_selector("#live.on")
    tab.evaluate(OBSERVE)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        feed = client.get("/api/runs?limit=1").json()["feed"]
        stream = Stream(client, f"/api/events?after={feed}")
        received: dict[str, float] = {}

        def listen() -> None:
            while len(received) < changes:
                try:
                    event = stream.next_event(30)
                except Exception:
                    return
                for run in event.data if event.event == "runs" else []:
                    received.setdefault(f"{run['id']} s-{run['status']}", time.time())

        reader = threading.Thread(target=listen, daemon=True)
        reader.start()
        written: dict[str, float] = {}
        for i in range(changes):
            run_id = f"lat-{TAG}-{i // 2}"
            began = time.time()
            if i % 2 == 0:
                start(store, run_id)  # a new run appears
                written[f"{run_id} s-running"] = began
            else:
                store.attempt_started(run_id, "", 1, at=began, owner=OWNER)
                store.attempt_failed(run_id, "", 1, at=began, owner=OWNER, retry_at=began + 60,
                                     error={"type": "x", "message": "m"})  # fmt: skip
                written[f"{run_id} s-retrying"] = time.time()
            time.sleep(random.uniform(0.05, 0.15))
        time.sleep(1.0)
        stream.close()
    seen = tab.evaluate("window.__seen")
    for key in written:  # a state replaced before it was drawn counts when its successor was
        run_id, status = key.split(" ")
        if key not in seen and status == "s-running" and f"{run_id} s-retrying" in seen:
            seen[key] = seen[f"{run_id} s-retrying"]
    browser = [seen[k] / 1000 - t for k, t in written.items() if k in seen]
    plain = [received[k] - t for k, t in written.items() if k in received]
    return {"changes": len(written), "painted": len(browser), "received": len(plain),
            "browser_p50_ms": _ms(browser, 0.5), "browser_p95_ms": _ms(browser, 0.95),
            "browser_max_ms": max(browser) * 1000, "sse_p50_ms": _ms(plain, 0.5),
            "sse_p95_ms": _ms(plain, 0.95)}  # fmt: skip


def churn(url: str, runs: int, seconds: float) -> None:
    """(In a child process) start ``runs`` runs, then change their statuses for ``seconds``."""
    store = open_store(url)
    ids = [f"live-{uuid.uuid4().hex[:8]}-{i}" for i in range(runs)]
    for run_id in ids:
        start(store, run_id, action=random.choice(ACTIONS))
    print("started", flush=True)
    attempt = dict.fromkeys(ids, 0)
    deadline, writes = time.time() + seconds, 0
    while time.time() < deadline:
        run_id = random.choice(ids)
        now = time.time()
        if attempt[run_id] % 2 == 0:
            store.attempt_started(run_id, "", attempt[run_id] + 1, at=now, owner=OWNER)
        else:
            store.attempt_failed(run_id, "", attempt[run_id], at=now, owner=OWNER,
                                 retry_at=now + 5, error={"type": "x", "message": "m"})  # fmt: skip
        attempt[run_id] += 1
        writes += 1
    print(f"writes {writes}", flush=True)
    store.close()


def _measure(server: Server, tab: Any, seconds: float, timed: Timed) -> dict[str, Any]:
    """Frames, long tasks and key-to-paint in the page, and the list's latency, meanwhile."""
    tab.evaluate("window.__frames = []; window.__long = []; window.__keys = []")
    served = timed.times["/api/runs?limit=50"]
    before = len(served)
    deadline = time.time() + seconds
    list_times = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        while time.time() < deadline:
            tab.focus("#f-action")
            tab.keyboard.press("a")
            began = time.perf_counter()
            client.get("/api/runs?limit=50").raise_for_status()
            list_times.append(time.perf_counter() - began)
            time.sleep(0.25)
    frames, long_tasks, keys = tab.evaluate("[window.__frames, window.__long, window.__keys]")
    return {"frames_per_s": len(frames) / seconds, "frame_p50_ms": _ms(frames, 0.5) / 1000,
            "frame_p95_ms": _ms(frames, 0.95) / 1000, "frame_max_ms": max(frames),
            "long_tasks_per_s": len(long_tasks) / seconds,
            "long_task_max_ms": max(long_tasks, default=0.0),
            "key_to_paint_p50_ms": _ms(keys, 0.5) / 1000,
            "key_to_paint_p95_ms": _ms(keys, 0.95) / 1000,
            "list_client_p95_ms": _ms(list_times, 0.95),
            "list_server_p95_ms": _ms(served[before:], 0.95)}  # fmt: skip


def responsiveness(
    url: str, server: Server, timed: Timed, tab: Any, runs: int, seconds: float
) -> dict[str, Any]:
    tab.goto(server.url + "/")
    tab.wait_for_selector("#live.on")
    tab.evaluate(FRAMES)
    idle = _measure(server, tab, seconds / 2, timed)  # the same page and input, the store quiet
    child = subprocess.Popen(
        [sys.executable, __file__, "--churn", url, str(runs), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    first = child.stdout.readline()
    assert first.startswith("started"), first
    busy = _measure(server, tab, seconds, timed)
    writes = int(child.stdout.readline().split()[1])
    child.wait(60)
    rows = tab.evaluate("document.querySelectorAll('#runs tbody tr').length")
    return {"live_runs": runs, "changes_per_s": writes / seconds, "rows_on_page": rows,
            "idle": idle, "busy": busy}  # fmt: skip


# --- main ---------------------------------------------------------------------------------------


def _table(rows: list[dict[str, Any]]) -> None:
    print(f"{'request':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'bare ms':>8} {'x bare':>7}")
    for r in rows:
        print(f"{r['case']:40} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {r['max_ms']:8.2f} "
              f"{r['bare_ms']:8.2f} {r['ratio']:6.2f}x")  # fmt: skip


def _compare(live: dict[str, Any]) -> None:
    print(f"{live['live_runs']:,} live runs, {live['changes_per_s']:.0f} changes/s, "
          f"{live['rows_on_page']} rows on the page")  # fmt: skip
    print(f"{'in the page':28} {'quiet store':>12} {'live runs':>12} {'ratio':>7}")
    for key, value in live["idle"].items():
        busy = live["busy"][key]
        ratio = busy / value if value else float("nan")
        print(f"{key:28} {value:12.1f} {busy:12.1f} {ratio:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/jido-bench-web/runs.db"))
    parser.add_argument("--quick", action="store_true", help="fewer repeats and changes")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--churn", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.churn:
        churn(args.churn[0], int(args.churn[1]), float(args.churn[2]))
        return
    from playwright.sync_api import sync_playwright

    args.db.parent.mkdir(parents=True, exist_ok=True)
    seed(args.db, args.runs)
    url = f"sqlite:///{args.db}"
    store, side = open_store(url), open_store(url)
    results: dict[str, Any] = {"runs_in_store": args.runs, "load_before": os.getloadavg()}
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    try:
        print(f"\n1. server time, {args.runs:,} runs in the store (SQLite)")
        results["server"] = server_times(store, 10 if args.quick else 50)
        _table(results["server"])
        timed: list[Timed] = []
        app = create_app(store, counter=side.counts)
        server = Server(app, wrap=lambda inner: timed.append(Timed(inner)) or timed[-1])
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            print("\n2. a status change until the open page painted it")
            latency = live_latency(store, server, tab, 40 if args.quick else 200)
            results["latency"] = latency
            print(f"{latency['painted']} of {latency['changes']} changes painted; "
                  f"browser p50 {latency['browser_p50_ms']:.0f} ms, "
                  f"p95 {latency['browser_p95_ms']:.0f} ms, max {latency['browser_max_ms']:.0f} ms "
                  f"(target p95 <= 250 ms); plain SSE client p50 {latency['sse_p50_ms']:.0f} ms, "
                  f"p95 {latency['sse_p95_ms']:.0f} ms")  # fmt: skip
            print("\n3. the page while 10,000 live runs change")
            live = responsiveness(url, server, timed[0], tab, 2000 if args.quick else 10_000,
                                  10.0 if args.quick else 30.0)  # fmt: skip
            results["responsiveness"] = live
            _compare(live)
            browser.close()
        server.stop()
    finally:
        store.close()
        side.close()
    results["load_after"] = os.getloadavg()
    print(f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
