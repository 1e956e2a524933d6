"""Benchmark of jido's core paths against a bare call, a validated bare call and peers.

Usage::

    .venv/bin/python benchmarks/bench_core.py            # full run (3 fresh-process runs)
    .venv/bin/python benchmarks/bench_core.py --quick    # smoke run (1 run, fewer repeats)
    .venv/bin/python benchmarks/bench_core.py --pin      # the same under `taskset -c 0`
    .venv/bin/python benchmarks/bench_core.py --json u.json          # also save raw results
    .venv/bin/python benchmarks/bench_core.py --combine unpinned=u.json pinned=p.json

jido is imported from wherever Python finds it (the editable install: ``src/``); put a
source snapshot first on ``PYTHONPATH`` to benchmark another tree. A full run takes about
3 minutes; keep the machine otherwise idle (the header reports the load average).

Every measurement runs in fresh worker processes (``--worker SECTION``), ``--runs`` times;
the table shows, per row, the median over runs of the per-run median. Ratios divide by
the bare call (and by the pydantic-validated bare call) measured in the same process.
See benchmarks/RESULTS.md for recorded results and analysis.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import _harness as h
import jido

HERE = Path(__file__).resolve()
PINNED_ENV = "JIDO_BENCH_PINNED"

# -- the measured callables -----------------------------------------------------------------------

P: dict[str, Any] = {"a": 1, "b": "x", "c": 2.5}
C: dict[str, Any] = {}
Params = h.Params


def bare(p: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
    return {"a": p["a"], "b": p["b"]}


def validated(p: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
    return bare(Params.model_validate(p).__dict__, c)


async def avalidated(p: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
    return bare(Params.model_validate(p).__dict__, c)


class SyncAction(jido.Action):
    """The trivial sync action, class form."""

    schema = Params

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"a": params["a"], "b": params["b"]}


@jido.action(name="sync_fn", description="The trivial sync action, decorator form")
def sync_fn(a: int, b: str, c: float | None = None) -> dict[str, Any]:
    return {"a": a, "b": b}


class AsyncAction(jido.Action):
    """The trivial async action (does not suspend)."""

    schema = Params

    async def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"a": params["a"], "b": params["b"]}


# -- rows -----------------------------------------------------------------------------------------

# key: (section, label). Rows marked "ref:" are floors measured in the same process.
ROWS: dict[str, tuple[str, str]] = {
    "bare_start": ("0", "bare `f(p, c)` (start of run)"),
    "bare_end": ("0", "bare `f(p, c)` (end of run)"),
    "validated": ("0", "validated bare: `f(Params.model_validate(p).__dict__, c)`"),
    "run_class_t0": ("1", "`jido.run(SyncAction, p, timeout=0)` (class)"),
    "run_fn_t0": ("1", "`jido.run(sync_fn, p, timeout=0)` (decorator)"),
    "tenacity_validated": ("2", "tenacity `@retry(stop_after_attempt(3), wait_exponential())`"),
    "stamina_validated": ("2", "stamina `@retry(on=Exception, attempts=3)`"),
    "tenacity_bare": ("2", "tenacity-wrapped *bare* call (no validation)"),
    "stamina_bare": ("2", "stamina-wrapped *bare* call (no validation)"),
    "pool_floor": ("3", "ref: `ThreadPoolExecutor(1).submit(validated).result(5)`"),
    "run_class_thread": ("3", "`jido.run(SyncAction, p)` (timeout=5 s, worker thread)"),
    "run_fn_thread": ("3", "`jido.run(sync_fn, p)` (timeout=5 s, worker thread)"),
    "run_thread_sustained": (
        "3",
        "`jido.run(SyncAction, p)` sustained > 5 s, gc on (timer expiry included)",
    ),
    "await_floor": ("4", "ref: `async with asyncio.timeout(5): await avalidated(p, c)`"),
    "arun": ("4", "`await jido.arun(AsyncAction, p, timeout=5)`"),
    "rct_floor": ("5", "ref: `run_coroutine_threadsafe(avalidated(p, c), bg).result(5)`"),
    "ra_sync": ("5", "`jido.await_(jido.run_async(SyncAction, p))`"),
    "ra_async": ("5", "`jido.await_(jido.run_async(AsyncAction, p))`"),
    "gather_floor": ("6", "ref: `gather(*10k coros with asyncio.timeout)`, per call"),
    "gather_arun": ("6", "`gather(*10k jido.arun(AsyncAction, p, timeout=5))`, per call"),
    "tasks_floor": ("6", "ref: 10k `create_task(timeout+avalidated)`, await each, per call"),
    "refs_await": ("6", "10k `jido.run_async(AsyncAction, p, timeout=5)`, await each"),
}

CANCEL_ROWS: dict[str, str] = {
    "a_floor_seen": "ref: bare task in `sleep(10)`: `task.cancel()` -> task sees CancelledError",
    "a_floor_await": "ref: ... -> `await task` raises",
    "a_seen": "(a) async action, same loop: `ref.cancel()` -> action sees CancelledError",
    "a_await": "(a) ... -> `await ref` raises jido.CancelledError",
    "b_sleep_seen": "(b) sync, worker thread, in `jido.current().sleep(10)`: cancel -> observed",
    "b_sleep_confirmed": "(b) ... -> `ref.cancel()` returns (stop confirmed)",
    "b_poll_seen": "(b) sync, spinning on `jido.current().cancelled`: cancel -> stopped",
    "b_poll_gil": "(b) ... measured from the intended cancel time (incl. canceller's GIL wait)",
    "b_coop_seen": "(b) same, `interruptible = False` (token only): cancel -> observed",
    "c_cpu_seen": "(c) CPU-bound sync action ignoring its token: cancel -> stopped",
    "c_cpu_gil": "(c) ... measured from the intended cancel time (incl. canceller's GIL wait)",
    "c_cpu_confirmed": "(c) ... -> `ref.cancel()` returns",
    "d_term_seen": "(d) process, `time.sleep(10)`: cancel -> child's `finally` runs (SIGTERM)",
    "d_term_confirmed": "(d) ... -> `ref.cancel()` returns (stop confirmed)",
    "d_kill_confirmed": "(d) process ignoring SIGTERM: cancel -> killed and reaped (`cancel()`)",
    "d_kill_net": "(d) ... minus the runtime's `stop_timeout` (0.1 s) grace before SIGKILL",
    "d_kill_fast": "(d) same on `jido.Runtime(stop_timeout=0.02)`: cancel -> killed and reaped",
    "d_kill_fast_net": "(d) ... minus its 0.02 s grace",
}

FAST_STOP = 0.02


# -- section workers ------------------------------------------------------------------------------


def micro(cfg: dict[str, Any]) -> dict[str, Any]:
    """Sections 1-6, one group per fresh process; each measures its own bare baselines.

    Groups keep the thread-based rows away from the others: a sync run with a timeout
    leaves a timer in the runtime's heap until the timeout would have expired (5 s), and
    their expiry burns CPU in whatever is being measured 5 s later.
    """
    import stamina
    from tenacity import retry, stop_after_attempt, wait_exponential

    group, repeats, target = cfg["group"], cfg["repeats"], cfg["target"]
    out: dict[str, list[float]] = {}

    def tenacity_wrap(fn: Any) -> Any:
        return retry(stop=stop_after_attempt(3), wait=wait_exponential())(fn)

    def stamina_wrap(fn: Any) -> Any:
        return stamina.retry(on=Exception, attempts=3)(fn)

    pool = concurrent.futures.ThreadPoolExecutor(1)
    bg = asyncio.new_event_loop()
    bg_thread = threading.Thread(target=bg.run_forever, daemon=True)
    bg_thread.start()
    ns: dict[str, Any] = {
        "bare": bare,
        "validated": validated,
        "avalidated": avalidated,
        "tenacity_validated": tenacity_wrap(validated),
        "stamina_validated": stamina_wrap(validated),
        "tenacity_bare": tenacity_wrap(bare),
        "stamina_bare": stamina_wrap(bare),
        "run": jido.run,
        "run_async": jido.run_async,
        "await_": jido.await_,
        "SyncAction": SyncAction,
        "sync_fn": sync_fn,
        "AsyncAction": AsyncAction,
        "pool": pool,
        "rct": asyncio.run_coroutine_threadsafe,
        "bg": bg,
        "p": P,
        "c": C,
    }

    def sync(key: str, stmt: str, *, fresh_runtime: bool = False) -> None:
        out[key] = h.measure(h.timeit_fn(stmt, ns), repeats=repeats, target=target)
        log(f"  {key:<22} {h.median(out[key]):9.3f} us")
        if fresh_runtime:  # drop the runtime and its timer heap before the next row
            jido.shutdown()

    loop = asyncio.new_event_loop()

    def in_loop(key: str, body: Any, n: int | None = None) -> None:
        fn = lambda count: loop.run_until_complete(body(count))  # noqa: E731
        out[key] = h.measure(fn, repeats=repeats, target=target, n=n, net=False)
        log(f"  {key:<22} {h.median(out[key]):9.3f} us")

    sync("bare_start", "bare(p, c)")
    sync("validated", "validated(p, c)")
    if group == "inline":  # sections 1, 2
        sync("run_class_t0", "run(SyncAction, p, timeout=0)")
        sync("run_fn_t0", "run(sync_fn, p, timeout=0)")
        sync("tenacity_validated", "tenacity_validated(p, c)")
        sync("stamina_validated", "stamina_validated(p, c)")
        sync("tenacity_bare", "tenacity_bare(p, c)")
        sync("stamina_bare", "stamina_bare(p, c)")
    elif group == "threads":  # sections 3, 5
        sync("pool_floor", "pool.submit(validated, p, c).result(5)")
        sync("run_class_thread", "run(SyncAction, p)", fresh_runtime=True)
        sync("run_fn_thread", "run(sync_fn, p)", fresh_runtime=True)
        sync("rct_floor", "rct(avalidated(p, c), bg).result(5)")
        sync("ra_sync", "await_(run_async(SyncAction, p))", fresh_runtime=True)
        sync("ra_async", "await_(run_async(AsyncAction, p))", fresh_runtime=True)
        if cfg["sustained"]:
            out["run_thread_sustained"] = sustained(cfg["sustained"])
            log(f"  run_thread_sustained   {h.median(out['run_thread_sustained']):9.3f} us")
    else:  # "async": sections 4, 6

        async def await_floor(n: int) -> float:
            t0 = time.perf_counter()
            for _ in range(n):
                async with asyncio.timeout(5):
                    await avalidated(P, C)
            return time.perf_counter() - t0

        async def arun_loop(n: int) -> float:
            arun = jido.arun
            t0 = time.perf_counter()
            for _ in range(n):
                await arun(AsyncAction, P, timeout=5.0)
            return time.perf_counter() - t0

        async def one_floor() -> dict[str, Any]:
            async with asyncio.timeout(5):
                return await avalidated(P, C)

        async def gather_floor(n: int) -> float:
            t0 = time.perf_counter()
            await asyncio.gather(*[one_floor() for _ in range(n)])
            return time.perf_counter() - t0

        async def gather_arun(n: int) -> float:
            arun = jido.arun
            t0 = time.perf_counter()
            await asyncio.gather(*[arun(AsyncAction, P, timeout=5.0) for _ in range(n)])
            return time.perf_counter() - t0

        async def tasks_floor(n: int) -> float:
            t0 = time.perf_counter()
            tasks = [asyncio.create_task(one_floor()) for _ in range(n)]
            for task in tasks:
                await task
            return time.perf_counter() - t0

        async def refs_await(n: int) -> float:
            run_async = jido.run_async
            t0 = time.perf_counter()
            refs = [run_async(AsyncAction, P, timeout=5.0) for _ in range(n)]
            for ref in refs:
                await ref
            return time.perf_counter() - t0

        in_loop("await_floor", await_floor)
        in_loop("arun", arun_loop)
        batch = cfg["batch"]
        in_loop("gather_floor", gather_floor, batch)
        in_loop("gather_arun", gather_arun, batch)
        in_loop("tasks_floor", tasks_floor, batch)
        in_loop("refs_await", refs_await, batch)
    sync("bare_end", "bare(p, c)")
    loop.close()
    bg.call_soon_threadsafe(bg.stop)
    bg_thread.join()
    bg.close()
    pool.shutdown()
    return {"rows": out}


def sustained(seconds: float) -> list[float]:
    """``jido.run(SyncAction, p)`` back to back for ``seconds`` with gc on; per-call cost of
    each 0.25 s window after the first 5 s (once the first timeouts' timers come due)."""
    run = jido.run
    run(SyncAction, P)
    windows = []
    t_start = time.perf_counter()
    while (now := time.perf_counter()) - t_start < seconds:
        n = 0
        while time.perf_counter() - now < 0.25:
            for _ in range(50):
                run(SyncAction, P)
            n += 50
        if now - t_start >= 5.0:
            windows.append((time.perf_counter() - now) / n * 1e6)
    jido.shutdown()
    return windows


# 7: in-flight memory, each variant in a fresh interpreter


class SleepAction(jido.Action):
    """Sleeps ``c`` seconds (1 s in the measurement, 0 for the warm-up)."""

    schema = Params
    started = 0

    async def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        SleepAction.started += 1
        await asyncio.sleep(params["c"])
        return {"a": params["a"]}


def inflight(cfg: dict[str, Any]) -> dict[str, Any]:
    n, variant = cfg["inflight"], cfg["variant"]
    counter = [0]

    async def floor_task(sleep: float) -> dict[str, Any]:
        counter[0] += 1
        async with asyncio.timeout(5):
            await asyncio.sleep(sleep)
        return {"a": 1}

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        if variant == "jido":
            warm = [jido.run_async(SleepAction, {**P, "c": 0.0}, timeout=5.0) for _ in range(100)]
            for ref in warm:
                await ref
            SleepAction.started = 0

            def started() -> int:
                return SleepAction.started
        else:
            for t in [loop.create_task(floor_task(0.0)) for _ in range(100)]:
                await t
            counter[0] = 0

            def started() -> int:
                return counter[0]

        params = {**P, "c": 1.0}
        gc.collect()
        rss0 = h.rss_bytes()
        t0 = time.perf_counter()
        if variant == "jido":
            run_async = jido.run_async
            handles: list[Any] = [run_async(SleepAction, params, timeout=5.0) for _ in range(n)]
        else:
            handles = [loop.create_task(floor_task(1.0)) for _ in range(n)]
        t_create = time.perf_counter() - t0
        while started() < n:
            await asyncio.sleep(0)
        t_started = time.perf_counter() - t0
        rss1 = h.rss_bytes()
        for handle in handles:
            await handle
        t_total = time.perf_counter() - t0
        return {
            "create_s": t_create,
            "started_s": t_started,
            "total_s": t_total,
            "rss_growth_mb": (rss1 - rss0) / 1e6,
            "bytes_per_run": (rss1 - rss0) / n,
        }

    return asyncio.run(main())


# 8: cancellation latency


class AsyncSleeper(jido.Action):
    schema = Params
    started = False
    seen = 0

    async def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        AsyncSleeper.started = True
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            AsyncSleeper.seen = time.perf_counter_ns()
            raise
        return {}


_STARTED = threading.Event()
_SEEN = [0]


class TokenSleeper(jido.Action):
    schema = Params

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        run = jido.current()
        _STARTED.set()
        try:
            run.sleep(10)
        finally:
            _SEEN[0] = time.perf_counter_ns()
        return {}


class TokenPoller(jido.Action):
    schema = Params

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        run = jido.current()
        _STARTED.set()
        try:
            while not run.cancelled:
                pass
        finally:
            _SEEN[0] = time.perf_counter_ns()
        run.check()
        return {}


class CoopPoller(TokenPoller):
    interruptible = False


class CpuBound(jido.Action):
    schema = Params

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        _STARTED.set()
        x = 0
        try:
            while True:
                x += 1
        finally:
            _SEEN[0] = time.perf_counter_ns()


def _us(ns: int) -> float:
    return ns / 1000


def cancellation(cfg: dict[str, Any]) -> dict[str, Any]:
    samples: dict[str, list[float]] = collections.defaultdict(list)
    mechanisms: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    k = cfg["cancel_samples"]

    # (a) async action, same loop, and the bare-task floor
    async def same_loop() -> None:
        seen = [0]

        async def bare_task() -> None:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                seen[0] = time.perf_counter_ns()
                raise

        for _ in range(k):
            task = asyncio.create_task(bare_task())
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            t0 = time.perf_counter_ns()
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                t2 = time.perf_counter_ns()
            samples["a_floor_seen"].append(_us(seen[0] - t0))
            samples["a_floor_await"].append(_us(t2 - t0))
        for _ in range(k):
            AsyncSleeper.started = False
            ref = jido.run_async(AsyncSleeper, P, timeout=60.0)
            while not AsyncSleeper.started:
                await asyncio.sleep(0)
            await asyncio.sleep(0)
            t0 = time.perf_counter_ns()
            ref.cancel()
            try:
                await ref
            except jido.CancelledError as exc:
                t2 = time.perf_counter_ns()
                mechanisms["a_seen"][exc.details.get("stop", "?")] += 1
            samples["a_seen"].append(_us(AsyncSleeper.seen - t0))
            samples["a_await"].append(_us(t2 - t0))

    asyncio.run(same_loop())

    # (b), (c): sync actions on worker threads, cancelled from this (sync) thread
    def thread_case(action: Any, seen_key: str, extra: dict[str, str], count: int) -> None:
        for _ in range(count):
            _STARTED.clear()
            ref = jido.run_async(action, P, timeout=60.0)
            if not _STARTED.wait(5):
                raise RuntimeError(f"{action.__name__} did not start")
            intended = time.perf_counter_ns() + 1_000_000
            time.sleep(0.001)
            t0 = time.perf_counter_ns()
            ref.cancel()
            t2 = time.perf_counter_ns()
            error = ref.exception()
            mechanisms[seen_key][error.details.get("stop", "?") if error else "finished?"] += 1
            samples[seen_key].append(_us(_SEEN[0] - t0))
            if "gil" in extra:
                samples[extra["gil"]].append(_us(_SEEN[0] - intended))
            if "confirmed" in extra:
                samples[extra["confirmed"]].append(_us(t2 - t0))

    thread_case(TokenSleeper, "b_sleep_seen", {"confirmed": "b_sleep_confirmed"}, k)
    thread_case(TokenPoller, "b_poll_seen", {"gil": "b_poll_gil"}, k // 2)
    thread_case(CoopPoller, "b_coop_seen", {}, k // 2)
    thread_case(
        CpuBound, "c_cpu_seen", {"gil": "c_cpu_gil", "confirmed": "c_cpu_confirmed"}, k // 2
    )

    # (d) isolation="process"; the kill comes after the runtime's stop_timeout grace
    fast = jido.Runtime(name="bench-fast-stop", stop_timeout=FAST_STOP)
    with tempfile.TemporaryDirectory() as tmp:
        started, stopped = os.path.join(tmp, "started"), os.path.join(tmp, "stopped")
        proc_params = {"started": started, "stopped": stopped}

        def launch(runtime: jido.Runtime, action: Any) -> jido.AsyncRef:
            runtime.run(h.ProcNoop, isolation="process", timeout=30.0)  # a warm, idle child
            for path in (started, stopped):
                if os.path.exists(path):
                    os.remove(path)
            ref = runtime.run_async(action, proc_params, isolation="process", timeout=60.0)
            deadline = time.monotonic() + 30
            while not os.path.exists(started):
                if time.monotonic() > deadline:
                    raise RuntimeError("the child process did not start the action")
                time.sleep(0.0002)
            time.sleep(0.002)
            return ref

        def cancel_timed(ref: jido.AsyncRef, key: str) -> int:
            t0 = time.perf_counter_ns()
            ref.cancel()
            t2 = time.perf_counter_ns()
            error = ref.exception()
            mechanisms[key][error.details.get("stop", "?") if error else "?"] += 1
            samples[key].append(_us(t2 - t0))
            return t0

        runtime = jido.default_runtime()
        for _ in range(cfg["proc_samples"]):
            t0 = cancel_timed(launch(runtime, h.ProcSleep), "d_term_confirmed")
            if os.path.exists(stopped):
                samples["d_term_seen"].append(_us(int(Path(stopped).read_text()) - t0))
        for key, net_key, rt in (
            ("d_kill_confirmed", "d_kill_net", runtime),
            ("d_kill_fast", "d_kill_fast_net", fast),
        ):
            for _ in range(cfg["kill_samples"]):
                cancel_timed(launch(rt, h.ProcStubborn), key)
                samples[net_key].append(samples[key][-1] - rt.stop_timeout * 1e6)
    fast.shutdown()
    jido.shutdown()
    return {
        "samples": dict(samples),
        "mechanisms": {key: dict(c) for key, c in mechanisms.items()},
    }


GROUPS = ("inline", "threads", "async")
ROW_GROUP = {
    key: "inline" if section in "012" else "threads" if section in "35" else "async"
    for key, (section, _) in ROWS.items()
}
WORKERS = {"micro": micro, "inflight": inflight, "cancel": cancellation}


# -- orchestration --------------------------------------------------------------------------------


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_worker(section: str, cfg: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(HERE), "--worker", section, "--config", json.dumps(cfg)],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker {section} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def config(args: argparse.Namespace) -> dict[str, Any]:
    if args.quick:
        cfg = {
            "runs": 1,
            "repeats": 3,
            "target": 0.03,
            "batch": 10_000,
            "inflight": 20_000,
            "cancel_samples": 40,
            "sustained": 0.0,
            "proc_samples": 5,
            "kill_samples": 3,
        }
    else:
        cfg = {
            "runs": 3,
            "repeats": 9,
            "target": 0.1,
            "batch": 10_000,
            "inflight": 100_000,
            "cancel_samples": 150,
            "sustained": 7.0,
            "proc_samples": 25,
            "kill_samples": 10,
        }
    if args.runs:
        cfg["runs"] = args.runs
    return cfg


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per row: median over runs of (per-run median, x bare, x validated)."""
    rows: dict[str, dict[str, Any]] = {}
    for key in ROWS:
        per_run = []
        for run in runs:
            r = run["micro"][ROW_GROUP[key]]["rows"]
            if key not in r:
                continue
            bare_us = h.median(r["bare_start"] + r["bare_end"])
            value = h.median(r[key])
            val_us = h.median(r["validated"])
            per_run.append((value, value / bare_us, value / val_us, bare_us, value - val_us))
        if not per_run:
            continue
        rows[key] = {
            "us": h.median([x[0] for x in per_run]),
            "x_bare": h.median([x[1] for x in per_run]),
            "x_validated": h.median([x[2] for x in per_run]),
            "min": min(x[0] for x in per_run),
            "max": max(x[0] for x in per_run),
            "bare_us": h.median([x[3] for x in per_run]),
            "over_validated": h.median([x[4] for x in per_run]),
        }
    cancel: dict[str, dict[str, Any]] = {}
    for key in CANCEL_ROWS:
        per_run = [run["cancel"]["samples"].get(key, []) for run in runs]
        per_run = [s for s in per_run if s]
        if not per_run:
            continue
        mech: collections.Counter[str] = collections.Counter()
        for run in runs:
            mech.update(run["cancel"]["mechanisms"].get(key, {}))
        cancel[key] = {
            "p50": h.median([h.median(s) for s in per_run]),
            "p90": h.median([h.percentile(s, 90) for s in per_run]),
            "p99": h.median([h.percentile(s, 99) for s in per_run]),
            "max": max(max(s) for s in per_run),
            "n": sum(len(s) for s in per_run),
            "mechanisms": dict(mech),
        }
    inflight = {}
    for variant in ("jido", "floor"):
        values = [run["inflight"][variant] for run in runs]
        inflight[variant] = {k: h.median([v[k] for v in values]) for k in values[0]}
    return {"rows": rows, "cancel": cancel, "inflight": inflight}


def _fmt(x: float) -> str:
    if x >= 1000:
        return f"{x:,.0f}"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


SECTIONS = {
    "0": "baselines",
    "1": "1. jido.run, timeout=0 (inline)",
    "2": "2. peers: same validated call wrapped by a retry library",
    "3": "3. jido.run with a timeout (worker thread)",
    "4": "4. await jido.arun with a timeout, one event loop",
    "5": "5. run_async + await_ from sync code",
    "6": "6. inside asyncio: 10,000 concurrent runs",
}


def table(agg: dict[str, Any], cfg: dict[str, Any]) -> str:
    lines = []
    rows = agg["rows"]
    lines.append(
        "| path | us/call (median) | x bare | x validated | over validated (us) | runs min-max |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|")
    current = None
    for key, (section, label) in ROWS.items():
        if section != current:
            current = section
            lines.append(f"| **{SECTIONS[section]}** | | | | | |")
        r = rows.get(key)
        if r is None:
            continue
        lines.append(
            f"| {label} | {_fmt(r['us'])} | {_fmt(r['x_bare'])}x | {_fmt(r['x_validated'])}x "
            f"| {r['over_validated']:+.2f} | {_fmt(r['min'])}-{_fmt(r['max'])} |"
        )
    lines.append("")
    lines.append(
        f"**7. {cfg['inflight']:,} concurrent in-flight async runs (sleep 1 s, timeout 5)**"
    )
    lines.append("")
    lines.append(
        "| variant | create loop (s) | until all started (s) | total incl. 1 s sleep (s) "
        "| RSS growth (MB) | bytes per run |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|")
    labels = {
        "jido": "`jido.run_async(SleepAction, p, timeout=5)` x N",
        "floor": "ref: `create_task` (asyncio.timeout(5) + sleep(1)) x N",
    }
    for variant, label in labels.items():
        v = agg["inflight"][variant]
        lines.append(
            f"| {label} | {v['create_s']:.2f} | {v['started_s']:.2f} | {v['total_s']:.2f} "
            f"| {v['rss_growth_mb']:.0f} | {v['bytes_per_run']:,.0f} |"
        )
    lines.append("")
    lines.append("**8. cancellation latency (us; median over runs of each run's percentile)**")
    lines.append("")
    lines.append("| path | median | p90 | p99 | max | n | how it stopped |")
    lines.append("|---|---:|---:|---:|---:|---:|---|")
    for key, label in CANCEL_ROWS.items():
        c = agg["cancel"].get(key)
        if c is None:
            continue
        mech = ", ".join(f"{m} {n}" for m, n in sorted(c["mechanisms"].items()))
        lines.append(
            f"| {label} | {_fmt(c['p50'])} | {_fmt(c['p90'])} | {_fmt(c['p99'])} "
            f"| {_fmt(c['max'])} | {c['n']} | {mech} |"
        )
    return "\n".join(lines)


def targets(agg: dict[str, Any], cfg: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """The issue's targets, each with PASS/MISS and the measured number."""
    rows, cancel, fl = agg["rows"], agg["cancel"], agg["inflight"]["jido"]
    val = rows["validated"]["us"]
    out: list[tuple[str, bool, str]] = []
    for key, form in (("run_class_t0", "class"), ("run_fn_t0", "decorator")):
        over = rows[key]["over_validated"]
        out.append(
            (
                f"run timeout=0 ({form}): <= 3 us over the validated bare call",
                over <= 3.0,
                f"{over:+.2f} us over ({_fmt(rows[key]['us'])} us vs {_fmt(val)} us)",
            )
        )
        ten = rows["tenacity_bare"]["us"]
        out.append(
            (
                f"run timeout=0 ({form}): faster than a bare tenacity-wrapped call",
                rows[key]["us"] < ten,
                f"{_fmt(rows[key]['us'])} us vs tenacity {_fmt(ten)} us",
            )
        )
    for key, form in (("run_class_thread", "class"), ("run_fn_thread", "decorator")):
        us = rows[key]["us"]
        out.append(
            (f"run with timeout, worker thread ({form}): <= 100 us", us <= 100, f"{_fmt(us)} us")
        )
    if "run_thread_sustained" in rows:
        us = rows["run_thread_sustained"]["us"]
        out.append(
            (
                "run with timeout, sustained > 5 s (timer expiry, gc on): <= 100 us",
                us <= 100,
                f"{_fmt(us)} us",
            )
        )
    us = rows["arun"]["us"]
    out.append(("await arun with a timeout: <= 10 us", us <= 10, f"{_fmt(us)} us"))
    for key, form in (("ra_sync", "sync action"), ("ra_async", "async action")):
        us = rows[key]["us"]
        out.append(
            (f"run_async + await_ from sync ({form}): <= 150 us", us <= 150, f"{_fmt(us)} us")
        )
    us = rows["gather_arun"]["us"]
    out.append(("10,000 concurrent arun in asyncio: <= 15 us each", us <= 15, f"{_fmt(us)} us"))
    n = cfg["inflight"]
    scale = 100_000 / n
    out.append(
        (
            "100,000 in-flight async runs created in <= 2 s",
            fl["create_s"] * scale <= 2.0,
            f"{fl['create_s'] * scale:.2f} s create loop"
            + ("" if n == 100_000 else f" (scaled from {n:,})")
            + f"; all started after {fl['started_s'] * scale:.2f} s",
        )
    )
    out.append(
        (
            "100,000 in-flight async runs: <= 4 KB each",
            fl["bytes_per_run"] <= 4096,
            f"{fl['bytes_per_run']:,.0f} B per run",
        )
    )
    for key, what, limit in (
        ("a_seen", "cancel observed by an async action (p90) <= 1 ms", 1000),
        ("b_sleep_seen", "cancel observed by a sync action in token.sleep (p90) <= 1 ms", 1000),
        ("b_poll_seen", "cancel observed by a sync action polling its token (p90) <= 1 ms", 1000),
        ("b_coop_seen", "same, token only (interruptible=False) (p90) <= 1 ms", 1000),
        ("d_term_seen", "process isolation: child stopped by SIGTERM (p90) <= 50 ms", 50_000),
        (
            "d_kill_confirmed",
            "process isolation: SIGTERM-ignoring child killed (p90) <= 50 ms",
            50_000,
        ),
        ("d_kill_fast", "same, on a Runtime(stop_timeout=0.02) (p90) <= 50 ms", 50_000),
    ):
        c = cancel.get(key)
        if c is not None:
            out.append(
                (what, c["p90"] <= limit, f"median {_fmt(c['p50'])} us, p90 {_fmt(c['p90'])} us")
            )
    return out


def combined(results: dict[str, dict[str, Any]]) -> str:
    """Side-by-side tables of several recorded runs (``--combine A.json B.json``)."""
    names = list(results)
    aggs = {name: results[name]["aggregate"] for name in names}
    out = []
    head = "| path |" + "".join(f" {n} us | x bare | x validated |" for n in names)
    out += [head, "|---|" + "---:|---:|---:|" * len(names)]
    current = None
    for key, (section, label) in ROWS.items():
        if section != current:
            current = section
            out.append(f"| **{SECTIONS[section]}** |" + " | | |" * len(names))
        cells = []
        for name in names:
            r = aggs[name]["rows"].get(key)
            cells.append(
                " - | - | - |"
                if r is None
                else f" {_fmt(r['us'])} | {_fmt(r['x_bare'])}x | {_fmt(r['x_validated'])}x |"
            )
        out.append(f"| {label} |" + "".join(cells))
    n = results[names[0]]["config"]["inflight"]
    out += ["", f"**7. {n:,} concurrent in-flight async runs (sleep 1 s, timeout 5)**", ""]
    out += [
        "| variant | run | create loop (s) | until all started (s) | total (s) "
        "| RSS growth (MB) | bytes per run |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for variant, label in (("jido", "`jido.run_async(...)` x N"), ("floor", "ref: `create_task`")):
        for name in names:
            v = aggs[name]["inflight"][variant]
            out.append(
                f"| {label} | {name} | {v['create_s']:.2f} | {v['started_s']:.2f} "
                f"| {v['total_s']:.2f} | {v['rss_growth_mb']:.0f} | {v['bytes_per_run']:,.0f} |"
            )
    out += ["", "**8. cancellation latency (us)**", ""]
    out.append(
        "| path |" + "".join(f" {n} median | {n} p90 |" for n in names) + " how it stopped |"
    )
    out.append("|---|" + "---:|---:|" * len(names) + "---|")
    for key, label in CANCEL_ROWS.items():
        cells, mech = [], ""
        for name in names:
            c = aggs[name]["cancel"].get(key)
            cells.append(" - | - |" if c is None else f" {_fmt(c['p50'])} | {_fmt(c['p90'])} |")
            if c and c["mechanisms"]:
                mech = ", ".join(f"{m} {k}" for m, k in sorted(c["mechanisms"].items()))
        out.append(f"| {label} |" + "".join(cells) + f" {mech} |")
    out += ["", "**Targets (issue 2)**", ""]
    out.append("| target |" + "".join(f" {n} |" for n in names))
    out.append("|---|" + "---|" * len(names))
    checks = {n: targets(aggs[n], results[n]["config"]) for n in names}
    for i, (what, _, _) in enumerate(checks[names[0]]):
        cells = []
        for name in names:
            _, ok, measured = checks[name][i]
            cells.append(f" {'PASS' if ok else '**MISS**'}: {measured} |")
        out.append(f"| {what} |" + "".join(cells))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 run, fewer repeats")
    parser.add_argument("--pin", action="store_true", help="re-exec under `taskset -c 0`")
    parser.add_argument("--runs", type=int, default=0, help="fresh-process runs (default 3)")
    parser.add_argument("--json", metavar="PATH", help="also write raw and aggregated results")
    parser.add_argument(
        "--combine",
        nargs="+",
        metavar="NAME=PATH",
        help="print side-by-side tables of runs saved with --json, e.g. unpinned=u.json",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        result = WORKERS[args.worker](json.loads(args.config))
        print(json.dumps(result))
        return

    if args.combine:
        pairs = [item.split("=", 1) for item in args.combine]
        print(combined({name: json.loads(Path(path).read_text()) for name, path in pairs}))
        return

    if args.pin and not os.environ.get(PINNED_ENV):
        taskset = shutil.which("taskset")
        if taskset is None:
            log("taskset not found: running unpinned")
        else:
            env = {**os.environ, PINNED_ENV: "1"}
            argv = [taskset, "-c", "0", sys.executable, str(HERE), *sys.argv[1:]]
            os.execve(taskset, argv, env)

    cfg = config(args)
    env = h.environment()
    if env["loadavg"][0] > 0.5:
        log(f"warning: load average {env['loadavg']}: something else is using the CPUs")
    started = time.perf_counter()
    log(f"jido benchmark: {cfg['runs']} run(s), affinity {env['affinity']}, python {env['python']}")
    runs = []
    for i in range(cfg["runs"]):
        run: dict[str, Any] = {"micro": {}}
        for group in GROUPS:
            log(f"run {i + 1}/{cfg['runs']}: micro ({group})")
            run["micro"][group] = run_worker("micro", {**cfg, "group": group})
        log(f"run {i + 1}/{cfg['runs']}: in-flight")
        run["inflight"] = {
            v: run_worker("inflight", {**cfg, "variant": v}) for v in ("jido", "floor")
        }
        log(f"run {i + 1}/{cfg['runs']}: cancellation")
        run["cancel"] = run_worker("cancel", cfg)
        runs.append(run)
    agg = aggregate(runs)
    elapsed = time.perf_counter() - started

    pinned = "pinned to CPU 0 (taskset -c 0)" if os.environ.get(PINNED_ENV) else "unpinned"
    print(f"# jido core benchmark ({'quick' if args.quick else 'full'}, {pinned})")
    print()
    v = env["versions"]
    print(
        f"{env['date']} | Python {env['python']} | {env['cpu']} x{env['cpus']} "
        f"(affinity {env['affinity']}) | jido {v['jido']} from {env['jido_source']} "
        f"(sources sha1 {env['jido_source_sha1']}; repo HEAD {env['repo_commit']}"
        f"{', src modified' if env['src_dirty'] else ''}), pydantic {v['pydantic']}, "
        f"tenacity {v['tenacity']}, stamina {v['stamina']} | load average at start "
        f"{env['loadavg'][0]}, at end {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{cfg['runs']} fresh-process run(s) x {cfg['repeats']} repeats of ~{cfg['target']} s; "
        f"bare call {_fmt(agg['rows']['bare_start']['bare_us'])} us; wall time {elapsed:.0f} s"
    )
    print()
    print(table(agg, cfg))
    print()
    print("**Targets (issue 2)**")
    print()
    print("| target | result | measured |")
    print("|---|---|---|")
    for what, ok, measured in targets(agg, cfg):
        print(f"| {what} | {'PASS' if ok else 'MISS'} | {measured} |")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"env": env, "config": cfg, "pinned": pinned, "runs": runs, "aggregate": agg},
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
