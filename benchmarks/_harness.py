"""Timing helpers for the jido benchmarks, plus the actions that must be importable by module.

Method (the same as /work/shared/research/perf-floors.md): each figure is the median of
timeit-style repeats (about 0.1 s each, gc disabled while timing), net of the empty loop;
ratios divide by the bare call measured in the same process. Actions used with
``isolation="process"`` live here because a child process imports them by module path.
"""

from __future__ import annotations

import gc
import hashlib
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pydantic

import jido

# -- timing ---------------------------------------------------------------------------------------

FnOfN = Callable[[int], float]
"""Runs the measured operation ``n`` times and returns the elapsed seconds."""


def timeit_fn(stmt: str, namespace: dict[str, Any], setup: str = "pass") -> FnOfN:
    """A timeit loop over ``stmt`` (gc disabled by timeit itself)."""
    return timeit.Timer(stmt, setup=setup, globals=namespace).timeit


def _empty_loop_ns() -> float:
    timer = timeit.Timer("pass")
    n = 1_000_000
    return min(timer.repeat(5, n)) / n * 1e9


EMPTY_LOOP_NS = 0.0


def calibrate(fn: FnOfN, target: float) -> int:
    """The loop count that makes one repeat last about ``target`` seconds (also a warm-up)."""
    n = 1
    while True:
        elapsed = fn(n)
        if elapsed >= target / 5 or n >= 10_000_000:
            break
        n *= 2 if elapsed > target / 50 else 10
    return max(1, int(n * target / max(elapsed, 1e-9)))


def measure(
    fn: FnOfN, *, repeats: int, target: float, n: int | None = None, net: bool = True
) -> list[float]:
    """Per-call cost in microseconds, one value per repeat.

    ``n`` fixes the loop count (for batch operations that must not be calibrated);
    ``net`` subtracts timeit's empty-loop cost (for ``timeit_fn`` loops).
    """
    global EMPTY_LOOP_NS
    if net and not EMPTY_LOOP_NS:
        EMPTY_LOOP_NS = _empty_loop_ns()
    if n is None:
        n = calibrate(fn, target)
    else:
        fn(n)  # warm-up
    out = []
    for _ in range(repeats):
        gc.collect()
        enabled = gc.isenabled()
        gc.disable()
        try:
            elapsed = fn(n)
        finally:
            if enabled:
                gc.enable()
        per_call = elapsed / n * 1e6
        if net:
            per_call -= EMPTY_LOOP_NS / 1000
        out.append(per_call)
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100])."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rss_bytes() -> int:
    """Resident set size, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        resident = int(f.read().split()[1])
    return resident * os.sysconf("SC_PAGE_SIZE")


# -- environment ----------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except OSError:
        return ""


def environment() -> dict[str, Any]:
    versions = {}
    for pkg in ("jido", "pydantic", "pydantic_core", "tenacity", "stamina"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "-"
    try:
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kb = 0
    try:
        cpuidle = Path("/sys/devices/system/cpu/cpuidle/current_driver").read_text().strip()
    except OSError:
        cpuidle = "-"
    source = Path(jido.__file__).resolve().parent
    digest = hashlib.sha1()
    for path in sorted(source.rglob("*.py")):
        digest.update(path.relative_to(source).as_posix().encode())
        digest.update(path.read_bytes())
    in_repo = source.is_relative_to(Path(__file__).resolve().parent.parent)
    dirty = _git("status", "--porcelain", "--", str(source)) if in_repo else ""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "mem_gib": round(mem_kb / 1024 / 1024, 1),
        "cpuidle": cpuidle,
        "switch_interval_ms": sys.getswitchinterval() * 1000,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
        "repo_commit": _git("rev-parse", "--short", "HEAD"),
        "jido_source": str(source),
        "jido_source_sha1": digest.hexdigest()[:12],
        "src_dirty": bool(dirty),
    }


# -- shared schema and process-isolation actions ------------------------------------------------


class Params(pydantic.BaseModel):
    """The 3-field schema every benchmarked path validates (int, str, optional float)."""

    a: int
    b: str
    c: float | None = None


class ProcNoop(jido.Action):
    """Warms a child process up (so the timed runs find one idle)."""

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"pid": os.getpid()}


def _mark(path: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(time.perf_counter_ns()))
    os.replace(tmp, path)


class ProcSleep(jido.Action):
    """Sleeps in C (``time.sleep``); SIGTERM interrupts it. Writes when it stops.

    ``perf_counter`` is CLOCK_MONOTONIC on Linux, so the child's stamp compares with the
    parent's.
    """

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        _mark(params["started"])
        try:
            time.sleep(10)
        finally:
            _mark(params["stopped"])
        return {}


class ProcStubborn(jido.Action):
    """Ignores SIGTERM, so only SIGKILL stops it."""

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _mark(params["started"])
        time.sleep(10)
        return {}
