"""Reliability soak: many runs, faults on purpose, and nothing lost, leaked or hung.

Four phases, each on its own runtime, each checking every run's outcome:

1. ``mixed``: 10,000 async runs started with ``run_async``: 70 % succeed, 10 % time out,
   10 % fail once and succeed on their retry, 10 % are cancelled at a random moment.
2. ``threads``: 2,000 ``run_async`` calls from 8 threads at once.
3. ``leaks``: 1,000 timed-out runs (CPU-bound, blocked in C, async) and 200 process runs
   (quick, timed out, killed); then the runtime is shut down and the threads, file
   descriptors, child processes and RSS of this process are compared with a baseline
   taken after a warm-up of the same work.
4. ``cancels``: 2,000 cancels at a random moment (thread, CPU, async and process
   actions with a side effect at their end); a side effect that appears after ``cancel``
   has returned is a violation.

A run is *lost* when its outcome is not one its kind allows (a result where a timeout
was due, an error of the wrong type or with an undocumented ``details["stop"]``), *hung*
when it has not finished within a generous bound. The exit code is 1 if anything was
lost, hung, leaked or violated.

Usage: ``python benchmarks/soak.py`` (about two minutes) or ``--quick`` (a few seconds,
run by the test suite).
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _soak_actions as act
import jido

STOPS = {
    "async": {"cancelled", "cooperative", "abandoned", "not_started"},
    "thread": {"interrupted", "cooperative", "abandoned", "not_started"},
    "process": {"interrupted", "killed", "not_started"},
}
"""The documented ``details["stop"]`` values per mode (README, Guarantees)."""
HANG = 60.0
"""Seconds after which a run that has not finished counts as hung."""
RSS_SLACK = 16 * 2**20
"""RSS growth (bytes) tolerated after the workload: allocator arenas, not leaks."""


class Tally:
    """Outcome counts of a phase, and what went wrong."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.counts: collections.Counter[str] = collections.Counter()
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.started = time.monotonic()
        self.took = 0.0

    def ok(self, what: str) -> None:
        self.counts[what] += 1

    def bad(self, what: str, detail: str) -> None:
        self.counts[what] += 1
        if len(self.problems) < 10:
            self.problems.append(detail)

    def failed(self) -> bool:
        return any(k.startswith(("lost", "hung", "leak", "violation")) for k in self.counts)

    def report(self) -> None:
        took = self.took
        total = sum(v for k, v in self.counts.items() if not k.startswith("leak"))
        parts = ", ".join(f"{k} {v:,}" for k, v in sorted(self.counts.items()))
        status = "FAIL" if self.failed() else "ok"
        print(f"{self.name:8} {status:4} {total:>6,} runs in {took:5.1f} s: {parts}")
        for note in self.notes:
            print(f"         {note}")
        for problem in self.problems:
            print(f"         - {problem}")


def settle(refs: Iterable[jido.AsyncRef], bound: float = HANG) -> set[jido.AsyncRef]:
    """Wait until every ref is done or ``bound`` passes; the refs still pending."""
    pending = set(refs)
    lock = threading.Lock()
    all_done = threading.Event()

    def done(ref: jido.AsyncRef) -> None:
        with lock:
            pending.discard(ref)
            if not pending:
                all_done.set()

    for ref in list(pending):
        ref.add_done_callback(done)
    with lock:
        if not pending:
            all_done.set()
    all_done.wait(bound)
    with lock:
        return set(pending)


def check_stop(tally: Tally, exc: BaseException, kind: type, mode: str, label: str) -> None:
    if not isinstance(exc, kind):
        tally.bad("lost: wrong error", f"{label}: {type(exc).__name__}: {exc}")
        return
    stop = exc.details.get("stop") if isinstance(exc, jido.JidoError) else None
    if stop not in STOPS[mode]:
        tally.bad("lost: undocumented stop", f"{label}: stop={stop!r} ({mode})")
        return
    tally.ok(f"{label} ({stop})")


# -- 1. mixed async runs ---------------------------------------------------------------------------
def mixed(n: int, rng: random.Random) -> Tally:
    tally = Tally("mixed")
    with jido.Runtime(name="soak-mixed") as rt:
        for start in range(0, n, 1000):
            _mixed_batch(rt, tally, range(start, min(n, start + 1000)), rng)
    return tally


def _mixed_batch(rt: jido.Runtime, tally: Tally, ids: range, rng: random.Random) -> None:
    kinds = {i: rng.choices("ortc", weights=(70, 10, 10, 10))[0] for i in ids}
    refs: dict[jido.AsyncRef, tuple[int, str]] = {}
    for i, kind in kinds.items():
        if kind == "o":
            ref = rt.run_async(act.a_ok, {"i": i, "pause": rng.uniform(0, 0.005)}, timeout=10)
        elif kind == "t":
            ref = rt.run_async(act.a_sleep, {"seconds": 30}, timeout=0.05, max_retries=0)
        elif kind == "r":
            ref = rt.run_async(act.a_flaky, {"i": i}, timeout=10, max_retries=1, backoff=0.01)
        else:
            ref = rt.run_async(act.a_sleep, {"seconds": 30}, timeout=60)
        refs[ref] = (i, kind)
    for ref, (_, kind) in refs.items():
        if kind == "c":
            time.sleep(rng.uniform(0, 0.002))
            ref.cancel()
    for ref in settle(refs):
        tally.bad("hung", f"{refs[ref]} did not finish within {HANG:g} s")
    for ref, (i, kind) in refs.items():
        if ref.done():
            _check_mixed(tally, ref, i, kind)


def _check_mixed(tally: Tally, ref: jido.AsyncRef, i: int, kind: str) -> None:
    exc = ref.exception()
    if kind == "o" or kind == "r":
        want = {"i": i} if kind == "o" else {"i": i, "attempt": 2}
        label = "succeeded" if kind == "o" else "retried, then succeeded"
        if exc is None and ref.result(0) == want:
            tally.ok(label)
        else:
            tally.bad(f"lost: {label}", f"run {i}: {exc!r}")
    elif kind == "t":
        check_stop(tally, exc or ValueError("no error"), jido.TimeoutError, "async", "timed out")
    elif exc is None:
        tally.ok("cancelled after it finished")
    else:
        check_stop(tally, exc, jido.CancelledError, "async", "cancelled")


# -- 2. run_async from 8 threads -------------------------------------------------------------------
def threads(n: int) -> Tally:
    tally = Tally("threads")
    per_thread = n // 8
    results: list[list[tuple[int, Any]]] = [[] for _ in range(8)]
    with jido.Runtime(name="soak-threads") as rt:

        def submit(t: int) -> None:
            base = t * per_thread
            refs = [
                (base + k, rt.run_async(act.s_square, {"x": base + k})) for k in range(per_thread)
            ]
            for x, ref in refs:
                pending = settle([ref])
                results[t].append((x, "hung" if pending else ref))

        workers = [threading.Thread(target=submit, args=(t,)) for t in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(HANG * 2)
    for x, ref in (item for chunk in results for item in chunk):
        if ref == "hung":
            tally.bad("hung", f"x={x}")
        elif ref.exception() is None and ref.result(0) == {"x": x * x}:
            tally.ok("succeeded")
        else:
            tally.bad("lost: succeeded", f"x={x}: {ref.exception()!r}")
    missing = per_thread * 8 - sum(len(chunk) for chunk in results)
    if missing:
        tally.bad("lost: never started", f"{missing} runs never returned a ref")
    return tally


# -- 3. timed-out runs, process runs, and what is left afterwards --------------------------------
def leaks(n_timeouts: int, n_process: int, rng: random.Random) -> Tally:
    _timeouts_and_processes(max(6, n_timeouts // 20), max(8, n_process // 10), rng, Tally("warm"))
    before = Resources.now()
    tally = Tally("leaks")
    _timeouts_and_processes(n_timeouts, n_process, rng, tally)
    after = Resources.settled(before)
    tally.notes = before.compare(after, tally)
    return tally


def _timeouts_and_processes(
    n_timeouts: int, n_process: int, rng: random.Random, tally: Tally
) -> None:
    with jido.Runtime(name="soak-leaks", max_processes=2, stop_timeout=0.1) as rt:
        kinds = [("cpu", "thread"), ("blocked", "thread"), ("async", "async")]
        for start in range(0, n_timeouts, 30):
            wave = []
            for i in range(start, min(n_timeouts, start + 30)):
                label, mode = kinds[i % 3]
                action: Any = {"cpu": act.s_spin, "blocked": act.s_blocked, "async": act.a_sleep}[
                    label
                ]
                params = {"seconds": 0.3 if label == "blocked" else 30}
                ref = rt.run_async(action, params, timeout=0.05, max_retries=0)
                wave.append((ref, label, mode))
            _check_timeouts(tally, wave)
        for start in range(0, n_process, 4):
            wave = []
            for _ in range(start, min(n_process, start + 4)):
                pick = rng.random()
                if pick < 0.5:
                    ref = rt.run_async(act.p_pid, isolation="process", timeout=30)
                    wave.append((ref, "process ok", "process"))
                else:
                    slow = act.s_spin if pick < 0.75 else act.p_ignore_sigterm
                    ref = rt.run_async(slow, isolation="process", timeout=0.1, max_retries=0)
                    wave.append((ref, "process", "process"))
            _check_timeouts(tally, wave)


def _check_timeouts(tally: Tally, wave: list[tuple[jido.AsyncRef, str, str]]) -> None:
    pending = settle([ref for ref, _, _ in wave])
    for ref, label, mode in wave:
        if ref in pending:
            tally.bad("hung", f"{label} did not finish within {HANG:g} s")
        elif label == "process ok":
            if ref.exception() is None:
                tally.ok(label)
            else:
                tally.bad("lost: process ok", repr(ref.exception()))
        else:
            error = ref.exception() or ValueError("no error")
            check_stop(tally, error, jido.TimeoutError, mode, f"{label} timed out")


class Resources:
    """What this process holds: threads, file descriptors, descendants, RSS."""

    def __init__(self, threads: int, tasks: int, fds: int, kids: set[int], rss: int) -> None:
        self.threads, self.tasks, self.fds, self.kids, self.rss = threads, tasks, fds, kids, rss

    @classmethod
    def now(cls) -> Resources:
        statm = Path("/proc/self/statm").read_text().split()
        return cls(
            threading.active_count(),
            len(os.listdir("/proc/self/task")),
            len(os.listdir("/proc/self/fd")),
            _descendants(os.getpid()),
            int(statm[1]) * os.sysconf("SC_PAGE_SIZE"),
        )

    @classmethod
    def settled(cls, baseline: Resources, wait: float = 5.0) -> Resources:
        """Measure again until back at the baseline (abandoned threads exit late) or ``wait``."""
        end = time.monotonic() + wait
        while True:
            now = cls.now()
            back = now.threads <= baseline.threads and now.fds <= baseline.fds
            if (back and not now.kids - baseline.kids) or time.monotonic() > end:
                return now
            time.sleep(0.05)

    def compare(self, after: Resources, tally: Tally) -> list[str]:
        deltas = {
            "threads": after.threads - self.threads,
            "OS threads": after.tasks - self.tasks,
            "fds": after.fds - self.fds,
            "child processes": len(after.kids - self.kids),
        }
        lines = [f"{k} delta {v:+d}" for k, v in deltas.items()]
        rss = after.rss - self.rss
        lines.append(f"RSS delta {rss / 2**20:+.1f} MiB (tolerated: {RSS_SLACK / 2**20:.0f} MiB)")
        for k, v in deltas.items():
            if v > 0:
                tally.bad(f"leak: {k}", f"{k}: {v:+d}")
        if rss > RSS_SLACK:
            tally.bad("leak: RSS", f"RSS grew by {rss / 2**20:.1f} MiB")
        return lines


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in _listdir(f"/proc/{parent}/task"):
            try:
                text = Path(f"/proc/{parent}/task/{task}/children").read_text()
            except OSError:
                continue
            kids = {int(p) for p in text.split()} - found
            found |= kids
            todo.extend(kids)
    return found


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


# -- 4. random-moment cancels ----------------------------------------------------------------------
def cancels(n: int, rng: random.Random) -> Tally:
    tally = Tally("cancels")
    effects: set[str] = set()
    cancelled: dict[str, tuple[str, bool]] = {}
    folder = tempfile.mkdtemp(prefix="jido-soak-")
    n_process = max(4, n // 10)
    with jido.Runtime(name="soak-cancels", max_processes=2, stop_timeout=0.1) as rt:
        rt.run(act.p_pid, isolation="process")  # a warm child
        plan = [
            ("process" if i < n_process else rng.choice(("coop", "cpu", "async"))) for i in range(n)
        ]
        for start in range(0, n, 50):
            wave = plan[start : start + 50]
            cancelled.update(_cancel_wave(rt, tally, wave, start, effects, folder, rng))
        time.sleep(0.6)  # longer than any action: a late side effect would have happened
    for key, (label, at_cancel) in cancelled.items():
        now = key in effects or os.path.exists(os.path.join(folder, key))
        if now != at_cancel:
            tally.bad("violation: side effect after cancel", f"{label} {key}")
    return tally


def _cancel_wave(
    rt: jido.Runtime,
    tally: Tally,
    plan: list[str],
    offset: int,
    effects: set[str],
    folder: str,
    rng: random.Random,
) -> dict[str, tuple[str, bool]]:
    """Start a wave; cancel each run at a random moment of its life (or just after it).

    Returns, per run, whether its side effect was there when ``cancel`` returned.
    """
    actions: dict[str, Callable[..., Any]] = {
        "coop": act.e_coop,
        "cpu": act.e_cpu,
        "async": act.e_async,
        "process": act.e_blocked,
    }
    at_cancel: dict[str, tuple[str, bool]] = {}
    cancellers = []
    for k, label in enumerate(plan):
        key = f"run{offset + k}"
        seconds = rng.uniform(0.0, 0.1 if label != "process" else 0.2)
        context: dict[str, Any] = {"key": key}
        options: dict[str, Any] = {"timeout": 30}
        if label == "process":
            context["dir"], options["isolation"] = folder, "process"
        else:
            context["effects"] = effects
        ref = rt.run_async(actions[label], {"seconds": seconds}, context, **options)
        when = time.monotonic() + rng.uniform(0, 1.2 * seconds + 0.01)
        canceller = threading.Thread(
            target=_cancel_at, args=(when, key, label, ref, tally, at_cancel, effects, folder)
        )
        canceller.start()
        cancellers.append(canceller)
    for canceller in cancellers:
        canceller.join()
    return at_cancel


def _cancel_at(
    when: float,
    key: str,
    label: str,
    ref: jido.AsyncRef,
    tally: Tally,
    at_cancel: dict[str, tuple[str, bool]],
    effects: set[str],
    folder: str,
) -> None:
    time.sleep(max(0.0, when - time.monotonic()))
    ref.cancel()
    present = key in effects or os.path.exists(os.path.join(folder, key))
    if not ref.done():
        tally.bad("hung", f"{label} {key}: not done when cancel returned")
        return
    at_cancel[key] = (label, present)
    mode = {"process": "process", "async": "async"}.get(label, "thread")
    error = ref.exception()
    if error is None:
        tally.ok("finished before its cancel")
    else:
        check_stop(tally, error, jido.CancelledError, mode, f"{label} cancelled")


# -- main ------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds: 1/50 of the runs")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    scale = 50 if args.quick else 1
    rng = random.Random(args.seed)
    print(
        f"jido {jido.__version__} soak, Python {sys.version.split()[0]}, seed {args.seed}"
        f"{', quick (1/50)' if args.quick else ''}"
    )
    phases: list[tuple[Callable[..., Tally], tuple[Any, ...]]] = [
        (mixed, (10_000 // scale, rng)),
        (threads, (2_000 // scale,)),
        (leaks, (1_000 // scale, max(8, 200 // scale), rng)),
        (cancels, (2_000 // scale, rng)),
    ]
    tallies = []
    for phase, args_ in phases:
        start = time.monotonic()
        tally = phase(*args_)
        tally.took = time.monotonic() - start
        tallies.append(tally)
    for tally in tallies:
        tally.report()
    failed = [t.name for t in tallies if t.failed()]
    print("FAILED: " + ", ".join(failed) if failed else "nothing lost, hung or leaked")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
