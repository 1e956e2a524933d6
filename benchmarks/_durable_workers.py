"""What ``bench_durable.py`` runs in other processes, and the actions it journals.

The actions live at module level here so that a durable run records them by reference
(``_durable_workers:noop``) and a recovering process imports them again.

    python benchmarks/_durable_workers.py dbos URL N REPS      # DBOS: N no-op steps
    python benchmarks/_durable_workers.py orphans URL COUNT    # start COUNT runs, then die
    python benchmarks/_durable_workers.py probe                # store=None hot paths
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from typing import Any

import jido
import jido.workflow

BLOCK = {"on": False}
"""Set in the process that must die with its runs in flight: they block until it does."""


@jido.action
def noop() -> dict:
    """A trivial step."""
    return {}


@jido.action
async def held(index: int) -> dict:
    """Blocks (asynchronously) in the process that dies; returns at once when recovered."""
    while BLOCK["on"]:
        await asyncio.sleep(0.05)
    return {"index": index}


# -- DBOS ----------------------------------------------------------------------------------------
def dbos_worker(url: str, n: int, reps: int) -> dict[str, Any]:
    """A DBOS workflow of ``n`` no-op steps (and of 1 and 0), timed ``reps`` times each."""
    started = time.perf_counter()
    from dbos import DBOS

    imported = time.perf_counter() - started
    DBOS(config={"name": "jido_bench", "system_database_url": url, "log_level": "ERROR"})

    @DBOS.step()
    def noop_step() -> None:
        return None

    @DBOS.workflow()
    def workflow(steps: int) -> None:
        for _ in range(steps):
            noop_step()

    started = time.perf_counter()
    DBOS.launch()
    launched = time.perf_counter() - started

    def timed(steps: int) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        workflow(steps)
        return time.perf_counter() - wall, time.process_time() - cpu

    for _ in range(3):  # warm-up
        timed(n), timed(1), timed(0)
    samples: dict[str, list[tuple[float, float]]] = {"n": [], "one": [], "zero": []}
    for _ in range(reps):
        samples["n"].append(timed(n))
        samples["one"].append(timed(1))
        samples["zero"].append(timed(0))
    DBOS.destroy()
    out: dict[str, Any] = {"import_s": imported, "launch_s": launched, "n": n}
    for key, values in samples.items():
        out[f"{key}_wall"] = statistics.median(v[0] for v in values)
        out[f"{key}_cpu"] = statistics.median(v[1] for v in values)
    return out


# -- orphans -------------------------------------------------------------------------------------
def orphans(url: str, count: int) -> None:
    """Start ``count`` durable runs, wait until every one is running, then die (SIGKILL-like)."""
    from jido._store import open_store

    BLOCK["on"] = True
    rt = jido.Runtime(store=url, lease=1.0)
    for i in range(count):
        rt.run_async(held, {"index": i}, run_id=f"orphan-{i}", timeout=300, max_retries=0)
    store = open_store(url)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if store.counts()["running"] >= count and _all_attempting(store, count):
            break
        time.sleep(0.1)
    else:
        print("not all runs started", file=sys.stderr)
        os._exit(1)
    print(json.dumps({"started": count}), flush=True)
    os._exit(9)


def _all_attempting(store: Any, count: int) -> bool:
    """Whether each run has its attempt recorded (so it is really in flight when we die)."""
    page = store.list_runs(status="running", limit=min(count, 10_000))
    return sum(1 for row in page.items if row.attempts >= 1) >= count


# -- store=None probe ---------------------------------------------------------------------------
def probe(repeats: int = 15) -> dict[str, float]:
    """The hot paths without a store: best time of ``repeats`` (us), and Python calls per op.

    The best time is the figure least disturbed by other load; the call count (cProfile,
    everything in this thread) does not depend on load at all. Public API only, so that
    it runs against any jido tree (``PYTHONPATH=tree/src``).
    """
    import cProfile
    import pstats
    import timeit

    @jido.action
    def add(value: int) -> dict:
        return {"value": value + 1}

    rt = jido.Runtime(name="probe")
    loop = asyncio.new_event_loop()

    def achain() -> object:
        coro = jido.workflow.achain([add] * 10, {"value": 0}, runtime=rt, timeout=0)
        return loop.run_until_complete(coro)

    cases = {
        "run_t0": (lambda: rt.run(add, {"value": 1}, timeout=0), 5000),
        "run_thread": (lambda: rt.run(add, {"value": 1}), 1000),
        "run_async": (lambda: rt.run_async(add, {"value": 1}).result(), 1000),
        "achain_10": (achain, 100),
    }
    out = {}
    for name, (fn, n) in cases.items():
        fn()
        out[name] = min(timeit.repeat(fn, number=n, repeat=repeats)) / n * 1e6
        if name in ("run_t0", "achain_10"):
            profile = cProfile.Profile()
            profile.runcall(timeit.Timer(fn).timeit, number=100)
            out[f"{name}_calls"] = pstats.Stats(profile).total_calls / 100  # type: ignore[attr-defined]
    loop.close()
    rt.shutdown()
    return out


def main(argv: list[str]) -> None:
    """Run one worker command (see the module docstring)."""
    command = argv[1]
    if command == "dbos":
        print(json.dumps(dbos_worker(argv[2], int(argv[3]), int(argv[4]))))
    elif command == "orphans":
        orphans(argv[2], int(argv[3]))
    elif command == "probe":
        print(json.dumps(probe()))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    # Through the module's own name, so that the runs record ``_durable_workers:held``
    # (not ``__main__:held``, which another entry point could not resume).
    from _durable_workers import main as worker_main

    worker_main(sys.argv)
