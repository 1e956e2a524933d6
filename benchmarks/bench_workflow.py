"""Cost of chains and plans against the same steps run one by one with the core API.

Usage::

    .venv/bin/python benchmarks/bench_workflow.py            # 3 fresh-process runs
    .venv/bin/python benchmarks/bench_workflow.py --quick    # 1 run, fewer rounds
    .venv/bin/python benchmarks/bench_workflow.py --json out.json

What is compared (issue 13, "Performance"), each against a baseline measured in the same
process:

- ``chain0``: ``jido.chain`` of 20 trivial sync steps with ``timeout=0`` against 20
  sequential ``jido.run(step, p, timeout=0)`` (each result merged into the params of the
  next, as a chain does). Target: <= 1.2x.
- ``chain5``: the same with ``timeout=5.0`` (each step on a worker thread, with a timer)
  against 20 sequential ``jido.run(step, p, timeout=5.0)``. Target: <= 1.2x.
- ``plan``: a :class:`jido.Plan` of 20 independent trivial sync steps (default options:
  ``timeout=5.0``, worker threads) against the same 20 steps started with
  ``jido.run_async`` and then awaited. Target: <= 1.2x. The plan runs once with its
  default ``max_concurrency`` (16) and once with no limit (as the baseline starts all 20).

Method (as ``bench_telemetry.py``): each section runs in a fresh worker process; within
it the variants are interleaved, every round timing each variant once (a timeit loop of
about ``--target`` seconds, gc disabled). A variant's figure is the median over the
rounds, in microseconds per step; "ratio" is the median over rounds of (variant /
baseline) in the same round, which cancels most of the drift of a shared machine. With
``--runs`` > 1 every figure is the median over the fresh-process runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import timeit
from pathlib import Path
from typing import Any

import _harness as h
import jido

HERE = Path(__file__).resolve()
STEPS = 20
TARGET_RATIO = 1.2


@jido.action(name="step", description="The trivial sync step: adds one")
def step(a: int = 0) -> dict[str, Any]:
    return {"a": a + 1}


CHAIN = [step] * STEPS
PLAN = jido.Plan.from_mapping({f"s{i}": step for i in range(STEPS)})


def sequential(timeout: float) -> dict[str, Any]:
    params: dict[str, Any] = {"a": 0}
    for _ in range(STEPS):
        params = {**params, **jido.run(step, params, timeout=timeout)}
    return params


def started_and_awaited() -> dict[str, Any]:
    refs = [jido.run_async(step, {"a": 0}) for _ in range(STEPS)]
    return {str(i): jido.await_(ref) for i, ref in enumerate(refs)}


# section -> variant -> (label, statement); the first variant is the baseline
SECTIONS: dict[str, dict[str, tuple[str, str]]] = {
    "chain0": {
        "base": ("20 x jido.run(step, p, timeout=0), results merged", "sequential(0)"),
        "chain": ("jido.chain([step] * 20, p, timeout=0)", "chain(CHAIN, {'a': 0}, timeout=0)"),
    },
    "chain5": {
        "base": ("20 x jido.run(step, p, timeout=5.0), results merged", "sequential(5.0)"),
        "chain": (
            "jido.chain([step] * 20, p, timeout=5.0)",
            "chain(CHAIN, {'a': 0}, timeout=5.0)",
        ),
    },
    "plan": {
        "base": ("20 x jido.run_async(step), then 20 x jido.await_", "started_and_awaited()"),
        "plan": ("Plan of 20 independent steps: plan.run() (max_concurrency=16)", "PLAN.run()"),
        "plan_all": (
            "the same plan, plan.run(max_concurrency=None)",
            "PLAN.run(max_concurrency=None)",
        ),
    },
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def worker(section: str, cfg: dict[str, Any]) -> dict[str, Any]:
    variants = SECTIONS[section]
    ns: dict[str, Any] = {
        "sequential": sequential,
        "started_and_awaited": started_and_awaited,
        "chain": jido.chain,
        "CHAIN": CHAIN,
        "PLAN": PLAN,
    }
    assert jido.chain(CHAIN, {"a": 0}, timeout=0) == sequential(0) == {"a": STEPS}
    fns = {key: timeit.Timer(stmt, globals=ns).timeit for key, (_, stmt) in variants.items()}
    loops = {key: h.calibrate(fn, cfg["target"]) for key, fn in fns.items()}  # also warms up
    samples: dict[str, list[float]] = {key: [] for key in variants}
    for _ in range(cfg["rounds"]):
        for key, fn in fns.items():
            gc.collect()
            gc.disable()
            try:
                elapsed = fn(loops[key])
            finally:
                gc.enable()
            samples[key].append(elapsed / loops[key] / STEPS * 1e6)
    jido.shutdown()
    return {"samples": samples}


# -- driver ---------------------------------------------------------------------------------------
def run_worker(section: str, cfg: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(HERE), "--worker", section, "--cfg", json.dumps(cfg)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {section} failed:\n{proc.stderr}")
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


STATS = ("median_us", "ratio", "min_us", "ratio_min")


def summarize(samples: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    base = samples["base"]
    return {
        key: {
            "median_us": statistics.median(values),
            "ratio": statistics.median(v / b for v, b in zip(values, base, strict=True)),
            "min_us": min(values),
            "ratio_min": min(values) / min(base),
        }
        for key, values in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 run, fewer rounds")
    parser.add_argument("--runs", type=int, help="fresh-process runs per section (default 3)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per run (default 31)")
    parser.add_argument("--target", type=float, default=0.05, help="seconds per timing loop")
    parser.add_argument("--section", action="append", help="only these sections")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--cfg", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(worker(args.worker, json.loads(args.cfg))))
        return

    runs = args.runs or (1 if args.quick else 3)
    cfg = {"rounds": args.rounds or (7 if args.quick else 31), "target": args.target}
    sections = args.section or list(SECTIONS)
    env = h.environment()
    log(
        f"python {env['python']} on {env['cpu']} ({env['cpus']} cpus), load {env['loadavg']}, "
        f"jido source {env['jido_source_sha1']}{' (dirty)' if env['src_dirty'] else ''}; "
        f"{runs} run(s) x {cfg['rounds']} rounds x ~{cfg['target']}s"
    )

    results: dict[str, dict[str, dict[str, float]]] = {}
    for section in sections:
        per_run = []
        for i in range(runs):
            log(f"  section {section}, run {i + 1}/{runs} ...")
            per_run.append(summarize(run_worker(section, cfg)["samples"]))
        results[section] = {
            key: {stat: statistics.median(r[key][stat] for r in per_run) for stat in STATS}
            for key in SECTIONS[section]
        }

    print(
        f"| {'variant':<66} | {'us/step':>7} | {'ratio':>6} | {'min us':>7} | {'ratio (min)':>11} |"
    )
    print(f"|{'-' * 68}|{'-' * 8}:|{'-' * 7}:|{'-' * 8}:|{'-' * 12}:|")
    for section, rows in results.items():
        for key, row in rows.items():
            label = SECTIONS[section][key][0]
            print(
                f"| {label:<66} | {row['median_us']:7.2f} | {row['ratio']:6.2f} "
                f"| {row['min_us']:7.2f} | {row['ratio_min']:11.2f} |"
            )
    print(f"\nTarget: each variant <= {TARGET_RATIO}x its baseline (ratio column).")
    for section, rows in results.items():
        for key, row in rows.items():
            if key != "base":
                verdict = "meets" if row["ratio"] <= TARGET_RATIO else "MISSES"
                print(f"  {section}/{key}: {row['ratio']:.2f}x: {verdict} the target")
    print(f"Load average at the end: {h.environment()['loadavg']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"environment": env, "results": results}, indent=2))


if __name__ == "__main__":
    main()
