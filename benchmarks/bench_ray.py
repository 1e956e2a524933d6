"""jido on Ray vs bare Ray remote functions, for the same trivial function (issue 5).

Usage::

    .venv/bin/python benchmarks/bench_ray.py             # 1,000 calls, 5 rounds
    .venv/bin/python benchmarks/bench_ray.py --quick     # 200 calls, 2 rounds
    .venv/bin/python benchmarks/bench_ray.py --profile   # also cProfile jido's driver side
    .venv/bin/python benchmarks/bench_ray.py --threads   # also CPU per driver thread (Linux)

In one process, on one local Ray cluster (``num_cpus=2``), it measures:

- round trip: 1,000 sequential calls, one at a time; the median latency of one call
  (bare: ``ray.get(f.remote(x))``; jido: ``rt.run(action, {"x": x})``, default options);
- throughput: 1,000 calls submitted at once, then all results collected; calls per second
  (bare: ``ray.get([f.remote(x) ...])``, and for reference ``ray.get(ref)`` on each ref;
  jido: ``run_async`` x 1,000 then ``result()`` each, and ``arun`` x 1,000 under
  ``asyncio.gather``).

Bare and jido rounds alternate, so that drift on a shared machine hits both; each figure
is the median over rounds. The bare task has the options jido gives its own task
(``max_retries=0, retry_exceptions=False``). Target: jido adds <= 20% (ratio <= 1.20).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import functools
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import ray  # noqa: E402

import jido  # noqa: E402
import jido.engines  # noqa: E402

TARGET = 1.20


# -- the measured function, twice (importable as bench_ray by the workers) -------------------------
def work(x: int) -> dict[str, Any]:
    return {"x": x}


@jido.action
def trivial(x: int) -> dict[str, Any]:
    return {"x": x}


def bare_task() -> Any:
    return ray.remote(max_retries=0, retry_exceptions=False)(work)


# -- measurements ----------------------------------------------------------------------------------
def round_trip(call: Callable[[int], Any], n: int) -> list[float]:
    """Latency of each of ``n`` sequential calls, in microseconds."""
    out = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        out.append((time.perf_counter() - start) * 1e6)
    return out


def throughput(batch: Callable[[int], Any], n: int) -> float:
    """Calls per second for ``n`` calls submitted at once."""
    start = time.perf_counter()
    batch(n)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile jido's round trip")
    parser.add_argument("--threads", action="store_true", help="CPU per driver thread (Linux)")
    args = parser.parse_args()
    if args.quick:
        args.calls, args.rounds = 200, 2

    from bench_ray import trivial as action  # by module name, so that workers can import it

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(HERE)}},
    )
    bare = bare_task()
    rt = jido.Runtime(name="bench", engine=jido.engines.Ray())
    n = args.calls

    def bare_one(x: int) -> Any:
        return ray.get(bare.remote(x))

    def jido_one(x: int) -> Any:
        return rt.run(action, {"x": x})

    def jido_one_no_timeout(x: int) -> Any:
        return rt.run(action, {"x": x}, timeout=None)

    def bare_batch(k: int) -> Any:
        return ray.get([bare.remote(x) for x in range(k)])

    def bare_each(k: int) -> Any:
        refs = [bare.remote(x) for x in range(k)]
        return [ray.get(ref) for ref in refs]

    def jido_batch(k: int) -> Any:
        refs = [rt.run_async(action, {"x": x}) for x in range(k)]
        return [ref.result(60) for ref in refs]

    def jido_gather(k: int) -> Any:
        async def go() -> Any:
            return await asyncio.gather(*(rt.arun(action, {"x": x}) for x in range(k)))

        return asyncio.run(go())

    # warm-up: workers started, functions exported, caches filled
    for _ in range(3):
        bare_batch(100)
        jido_batch(100)
        round_trip(bare_one, 50)
        round_trip(jido_one, 50)
    assert jido_one(3) == {"x": 3} == bare_one(3)

    rt_results: dict[str, list[float]] = {"bare": [], "jido": [], "jido timeout=None": []}
    tp_results: dict[str, list[float]] = {
        "bare": [],
        "bare, ray.get each": [],
        "jido run_async": [],
        "jido arun+gather": [],
    }
    for _ in range(args.rounds):
        rt_results["bare"].append(statistics.median(round_trip(bare_one, n)))
        rt_results["jido"].append(statistics.median(round_trip(jido_one, n)))
        rt_results["jido timeout=None"].append(
            statistics.median(round_trip(jido_one_no_timeout, n))
        )
        tp_results["bare"].append(throughput(bare_batch, n))
        tp_results["bare, ray.get each"].append(throughput(bare_each, n))
        tp_results["jido run_async"].append(throughput(jido_batch, n))
        tp_results["jido arun+gather"].append(throughput(jido_gather, n))

    load = os.getloadavg()
    print(
        f"jido on Ray {ray.__version__}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, local cluster num_cpus=2; "
        f"{n} calls x {args.rounds} rounds; load average {load[0]:.2f} {load[1]:.2f}"
    )
    print()
    base = statistics.median(rt_results["bare"])
    print(f"round trip, {n} sequential calls (median latency of one call)")
    for name, values in rt_results.items():
        med = statistics.median(values)
        spread = f"[{min(values):,.0f} .. {max(values):,.0f}]"
        print(f"  {name:<20} {med:>9,.0f} us  {spread:<22} x{med / base:.3f}")
    print()
    base_tp = statistics.median(tp_results["bare"])
    print(f"throughput, {n} calls submitted at once (calls per second)")
    for name, values in tp_results.items():
        med = statistics.median(values)
        spread = f"[{min(values):,.0f} .. {max(values):,.0f}]"
        print(f"  {name:<20} {med:>9,.0f} /s  {spread:<22} x{base_tp / med:.3f} (time)")
    print()
    rt_ratio = statistics.median(rt_results["jido"]) / base
    tp_ratio = base_tp / statistics.median(tp_results["jido run_async"])
    for label, ratio in (("round trip", rt_ratio), ("throughput", tp_ratio)):
        verdict = "PASS" if ratio <= TARGET else "MISS"
        print(f"{verdict}: jido/bare {label} = {ratio:.3f} (target <= {TARGET:.2f})")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        round_trip(jido_one, n)
        jido_batch(n)
        profiler.disable()
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).sort_stats("tottime")
        stats.print_stats(25)
        print(text.getvalue())

    if args.threads:
        print(f"CPU of the driver's threads per {n} calls submitted at once (ms, median of 5)")
        for name, batch in (("bare", bare_batch), ("jido run_async", jido_batch)):
            per_thread = thread_cpu(functools.partial(batch, n), 5)
            shown = ", ".join(f"{k} {v:.0f}" for k, v in per_thread.most_common() if v >= 1)
            print(f"  {name:<16} total {sum(per_thread.values()):>5.0f}: {shown}")

    rt.shutdown()
    ray.shutdown()


def thread_cpu(work: Callable[[], Any], times: int) -> collections.Counter[str]:
    """Median CPU (ms) of this process's threads, by thread name, over ``times`` runs of work.

    Ray's C++ threads are named (``worker.io`` runs Ray's completion callbacks); Python's
    threads all show as ``python``.
    """
    runs: list[collections.Counter[str]] = []
    for _ in range(times):
        before = _thread_ticks()
        work()
        time.sleep(0.3)  # what the calls left to do (frees, late callbacks) counts too
        after = _thread_ticks()
        runs.append(
            collections.Counter(
                {
                    name: (ticks - before.get(name, 0)) * 1e3 / os.sysconf("SC_CLK_TCK")
                    for name, ticks in after.items()
                }
            )
        )
    names = {name for run in runs for name in run}
    return collections.Counter(
        {name: statistics.median(run[name] for run in runs) for name in names}
    )


def _thread_ticks() -> collections.Counter[str]:
    ticks: collections.Counter[str] = collections.Counter()
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended
            continue
        ticks[name] += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks


if __name__ == "__main__":
    main()
