"""Crash injection: kill children in the middle of durable runs, recover them here, check.

One round (:func:`kill_and_recover`): a child forked by the zygote runs a 20-step chain
and a plan with three parallel branches, durably; it is SIGKILLed after a random delay.
With ``kills=2`` or more, a second child resumes the runs and is killed in turn, and so
on. What the store recorded at each kill is read; then this process resumes the runs (as
soon as the last dead child's lease expires) and checks, from the execution log (one line
per execution of a step, in any process) and the store:

- a step recorded as completed at a kill never ran after it;
- a step ran again only if it was running at a kill, once per such kill, as the next
  attempt, in the next process (at most one chain step, and one step per plan branch,
  run at a time);
- a run never recorded ran no step;
- the final result is exactly the one an uninterrupted run gives.

Used by ``test_crash.py`` (a few dozen rounds per store) and ``benchmarks/soak_durable.py``
(as many as asked).
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jido
from durable import durable_actions as da
from durable import programs
from durable.durable_helpers import orphaned
from durable.zygote import Child, Zygote
from jido._store import TERMINAL, RunHistory

PAUSE = 0.03
"""Seconds each step works: the chain takes about 20 * PAUSE, the plan 6 * PAUSE."""

WIDTH = {"chain": 1, "plan": programs.BRANCHES}
"""How many steps of each kind of run can be running at once."""


@dataclass
class Tally:
    """What a series of rounds saw."""

    kills: int = 0
    unrecorded: int = 0
    """Runs whose first child was killed before it recorded them (no step ran)."""
    finished: int = 0
    """Runs that had finished before the last kill (answered from the store)."""
    resumed: int = 0
    reexecuted: int = 0
    """Step executions repeated after a kill (each was running when it came)."""
    steps_before: int = 0
    """Steps recorded as completed at a kill (none ran after it)."""
    failures: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("kills", "unrecorded", "finished", "resumed", "reexecuted", "steps_before"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures.extend(other.failures)

    def summary(self) -> str:
        return (
            f"{self.kills} kills; runs resumed {self.resumed}, finished before the last kill "
            f"{self.finished}, never recorded {self.unrecorded}; steps completed at a kill "
            f"{self.steps_before} (none ran again), step executions repeated {self.reexecuted}"
        )


@dataclass
class Kill:
    """What the store held for each run when a child was killed (it is dead then)."""

    at: float
    pid: int
    runs: dict[str, RunHistory | None]


def expected(kind: str, log: str) -> dict[str, Any]:
    if kind == "chain":
        return {"value": programs.CHAIN_STEPS, "log": log, "pause": PAUSE}
    out: dict[str, Any] = {"a": {"m_a": True, "seen": 0}}
    for b in range(1, programs.BRANCHES + 1):
        for s in range(1, programs.BRANCH_LENGTH + 1):
            out[f"b{b}_{s}"] = {f"m_b{b}_{s}": True, "seen": 1}
    out["z"] = {"m_z": True, "seen": programs.BRANCHES}
    return out


def kill_and_recover(
    zygote: Zygote,
    rt: jido.Runtime,
    url: str,
    lease: float,
    tmp: Path,
    rng: random.Random,
    kills: int = 1,
) -> Tally:
    """One round: start, kill at random moments, recover here, check (see the module doc)."""
    tag = uuid.uuid4().hex[:10]
    log = str(tmp / f"{tag}.log")
    ids = {"chain": f"chain-{tag}", "plan": f"plan-{tag}"}
    ready = f"{log}.ready"
    child = zygote.fork(
        "crash_target",
        url=url,
        lease=lease,
        chain_id=ids["chain"],
        plan_id=ids["plan"],
        log=log,
        pause=PAUSE,
        ready=ready,
    )
    history = [_kill(rt, child, ready, ids, rng)]
    for n in range(1, kills):
        live = [i for i, h in history[-1].runs.items() if h is not None and _active(h)]
        if not live:
            break
        ready = f"{log}.ready{n}"
        child = zygote.fork("resume_runs", url=url, lease=lease, ids=live, ready=ready)
        history.append(_kill(rt, child, ready, ids, rng))
    tally = Tally(kills=len(history))
    for kind, run_id in ids.items():
        try:
            _recover_one(rt, kind, run_id, history, log, tally)
        except AssertionError as exc:
            outputs = "\n".join(f"child {k.pid}" for k in history)
            tally.failures.append(f"{kind} {run_id}: {exc}\n{outputs}\n{child.output()}")
    return tally


def _kill(
    rt: jido.Runtime, child: Child, ready: str, ids: dict[str, str], rng: random.Random
) -> Kill:
    deadline = time.monotonic() + 60
    while not os.path.exists(ready) and child.alive():  # its store is open, its runs claimed
        assert time.monotonic() < deadline, child.output()
        time.sleep(0.002)
    time.sleep(rng.uniform(0.0, 25 * PAUSE))
    child.kill()
    at = time.time()
    store = rt._durable.store
    return Kill(at, child.pid, {run_id: store.get_history(run_id) for run_id in ids.values()})


def _active(history: RunHistory) -> bool:
    return history.run.status not in TERMINAL


def _recover_one(
    rt: jido.Runtime, kind: str, run_id: str, kills: list[Kill], log: str, tally: Tally
) -> None:
    # On Postgres a statement the child sent just before it died may still commit after
    # the kill (its start, a finish): what was read at a kill can be a little behind.
    if kills[0].runs[run_id] is None:
        mine = [e for e in da.executions(log) if e["key"].startswith(f"{run_id}/")]
        assert not mine, f"steps ran for a run that was not recorded: {mine}"
    if rt.runs.get(run_id) is None:
        tally.unrecorded += 1
        return
    orphaned(rt, run_id)
    now = rt.runs.get(run_id)
    assert now is not None
    if now.status in TERMINAL:
        tally.finished += 1
        value = rt.runs.wait(run_id, timeout=30)  # answered from the store
    else:
        tally.resumed += 1
        value = rt.runs.resume(run_id).result(timeout=120)
    assert dict(value) == expected(kind, log), f"wrong result {value!r}"
    info = rt.runs.get(run_id)
    assert info is not None
    assert info.status == "succeeded", info
    _check_attempts(rt, run_id)
    _check_executions(kind, run_id, kills, log, tally)


def _check_attempts(rt: jido.Runtime, run_id: str) -> None:
    """Each step's attempts are numbered 1, 2... (a resumed step takes the next number);
    the last one succeeded, the others were abandoned by a kill."""
    history = rt._durable.store.get_history(run_id)
    assert history is not None
    by_step: dict[str, list[Any]] = defaultdict(list)
    for a in history.attempts:
        by_step[a.step_key].append(a)
    for key, rows in by_step.items():
        rows.sort(key=lambda a: a.attempt)
        numbers = [a.attempt for a in rows]
        assert numbers == list(range(1, len(rows) + 1)), f"step {key} attempts {numbers}"
        statuses = [a.status for a in rows]
        assert statuses == ["abandoned"] * (len(rows) - 1) + ["succeeded"], (key, statuses)


def _check_executions(kind: str, run_id: str, kills: list[Kill], log: str, tally: Tally) -> None:
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in da.executions(log):
        if e["key"].startswith(f"{run_id}/"):
            runs[e["key"].removeprefix(f"{run_id}/")].append(e)
    steps = len(expected(kind, log)) if kind == "plan" else programs.CHAIN_STEPS
    assert len(runs) == steps, f"{len(runs)} of {steps} steps ran: {sorted(runs)}"
    may_repeat: dict[str, int] = defaultdict(int)
    for kill in kills:
        snapshot = kill.runs[run_id]
        if snapshot is None:
            continue
        running = {s.key for s in snapshot.steps if s.status == "running"}
        assert len(running) <= WIDTH[kind], f"{sorted(running)} ran at once"
        for key in running:
            may_repeat[key] += 1
        for key in snapshot.completed():
            after = [e for e in runs[key] if e["t"] > kill.at]
            assert not after, f"step {key}, completed at the kill of {kill.pid}, ran: {after}"
        tally.steps_before += len(snapshot.completed())
    victims = [k.pid for k in kills]
    for key, found in runs.items():
        repeats = len(found) - 1
        assert repeats <= may_repeat[key], f"step {key} ran {len(found)} times: {found}"
        attempts = [e["attempt"] for e in found]  # a child may die between start and work
        assert attempts == sorted(set(attempts)), found
        pids = [e["pid"] for e in found]
        assert len(set(pids)) == len(pids), f"step {key} ran twice in one process: {found}"
        assert all(p in victims or p == os.getpid() for p in pids), found
        tally.reexecuted += repeats
