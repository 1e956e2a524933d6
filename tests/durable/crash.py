"""Crash injection: kill a child in the middle of durable runs, recover them here, check.

One round (:func:`kill_and_recover`): a child forked by the zygote runs a 20-step chain
and a plan with three parallel branches, durably; it is SIGKILLed after a random delay.
What the store recorded at that moment is read, then this process resumes the runs (as
soon as the dead child's lease expires) and checks, from the execution log (one line per
execution of a step, in any process) and the store:

- a step recorded as completed before the kill never ran again;
- a step ran at most twice, and ran again only if it was running at the kill (at most one
  chain step, at most one step per plan branch), as the next attempt, with the same
  idempotency key;
- a run the child never recorded ran no step;
- the final result is exactly the one an uninterrupted run gives.

Used by ``test_crash.py`` (a few dozen rounds per store) and ``benchmarks/soak_durable.py``
(as many as asked).
"""

from __future__ import annotations

import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import durable_actions as da
import programs
from durable_helpers import orphaned
from zygote import Zygote

import jido
from jido._store import TERMINAL, RunHistory

PAUSE = 0.03
"""Seconds each step works: the chain takes about 20 * PAUSE, the plan 6 * PAUSE."""


@dataclass
class Tally:
    """What a series of rounds saw."""

    kills: int = 0
    unrecorded: int = 0
    """Runs the child had not recorded yet when it was killed (nothing ran)."""
    finished: int = 0
    """Runs that had finished before the kill (answered from the store)."""
    resumed: int = 0
    reexecuted: int = 0
    """Step executions repeated after a kill (each was running when it came)."""
    steps_before: int = 0
    """Steps recorded as completed before a kill (each ran exactly once)."""
    failures: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("kills", "unrecorded", "finished", "resumed", "reexecuted", "steps_before"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures.extend(other.failures)


def expected_chain(log: str) -> dict[str, Any]:
    return {"value": programs.CHAIN_STEPS, "log": log, "pause": PAUSE}


def expected_plan() -> dict[str, Any]:
    out: dict[str, Any] = {"a": {"m_a": True, "seen": 0}}
    for b in range(1, programs.BRANCHES + 1):
        for s in range(1, programs.BRANCH_LENGTH + 1):
            out[f"b{b}_{s}"] = {f"m_b{b}_{s}": True, "seen": 1}
    out["z"] = {"m_z": True, "seen": programs.BRANCHES}
    return out


def kill_and_recover(
    zygote: Zygote, rt: jido.Runtime, url: str, lease: float, tmp: Path, rng: random.Random
) -> Tally:
    """One round: start, kill at a random moment, recover here, check (see the module doc)."""
    tag = uuid.uuid4().hex[:10]
    log = str(tmp / f"{tag}.log")
    ids = {"chain": f"chain-{tag}", "plan": f"plan-{tag}"}
    child = zygote.fork(
        "crash_target",
        url=url,
        lease=lease,
        chain_id=ids["chain"],
        plan_id=ids["plan"],
        log=log,
        pause=PAUSE,
        ready=f"{log}.ready",
    )
    deadline = time.monotonic() + 60
    while not Path(f"{log}.ready").exists() and child.alive():  # its store is open
        assert time.monotonic() < deadline, child.output()
        time.sleep(0.002)
    time.sleep(rng.uniform(0.0, 25 * PAUSE))
    child.kill()
    store = rt._durable.store
    tally = Tally(kills=1)
    for kind, run_id in ids.items():
        before = store.get_history(run_id)
        try:
            _recover_one(rt, kind, run_id, before, log, child.pid, tally)
        except AssertionError as exc:
            tally.failures.append(f"{kind} {run_id} (child {child.pid}): {exc}\n{child.output()}")
    return tally


def _recover_one(
    rt: jido.Runtime,
    kind: str,
    run_id: str,
    before: RunHistory | None,
    log: str,
    victim: int,
    tally: Tally,
) -> None:
    mine = [e for e in da.executions(log) if e["key"].startswith(f"{run_id}/")]
    if before is None:
        tally.unrecorded += 1
        assert not mine, f"steps ran for a run that was never recorded: {mine}"
        assert rt.runs.get(run_id) is None
        return
    if before.run.status in TERMINAL:
        tally.finished += 1
        value = rt.runs.wait(run_id, timeout=30)  # answered from the store
    else:
        tally.resumed += 1
        orphaned(rt, run_id)
        value = rt.runs.resume(run_id).result(timeout=120)
    expected = expected_chain(log) if kind == "chain" else expected_plan()
    assert dict(value) == expected, f"wrong result {value!r}"
    info = rt.runs.get(run_id)
    assert info is not None
    assert info.status == "succeeded", info
    _check_executions(kind, run_id, before, log, victim, tally)


def _check_executions(
    kind: str, run_id: str, before: RunHistory, log: str, victim: int, tally: Tally
) -> None:
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in da.executions(log):
        if e["key"].startswith(f"{run_id}/"):
            runs[e["key"].removeprefix(f"{run_id}/")].append(e)
    completed = set(before.completed())
    running = {s.key for s in before.steps if s.status == "running"}
    steps = programs.CHAIN_STEPS if kind == "chain" else len(expected_plan())
    assert len(runs) == steps, f"{len(runs)} of {steps} steps ran: {sorted(runs)}"
    again = {key: found for key, found in runs.items() if len(found) > 1}
    for key in completed:
        assert len(runs[key]) == 1, f"completed step {key} ran again: {runs[key]}"
        assert runs[key][0]["pid"] == victim
    for key, found in again.items():
        assert len(found) == 2, f"step {key} ran {len(found)} times: {found}"
        assert key in running, f"step {key} ran again but was not running at the kill"
        first, second = found
        assert first["pid"] == victim, found
        assert second["pid"] != victim, found
        assert second["attempt"] == first["attempt"] + 1, found
    limit = 1 if kind == "chain" else programs.BRANCHES
    assert len(again) <= limit, f"{len(again)} steps ran again: {sorted(again)}"
    tally.reexecuted += len(again)
    tally.steps_before += len(completed)
