"""Resuming recorded chains and plans: rebuild the job from its definition, check, relaunch.

Registered with :mod:`jido._durable.kinds` when jido is imported. A definition whose
actions cannot be imported, or whose fingerprint (actions, versions, params schemas,
dependencies) no longer matches the code loaded now, is not guessed at: the resume fails
with the reason and the run goes to ``needs_attention``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jido._durable.definition import decode_options, fingerprint, load_action
from jido._durable.journal import DurableRun
from jido._durable.kinds import register
from jido._durable.relay import Relay
from jido._store import RunRow
from jido._workflow.chain import _ChainJob
from jido._workflow.composite import _ONCE, ChainRunner, Driver, PlanRunner
from jido._workflow.durable import launch
from jido._workflow.instruction import Instruction
from jido._workflow.plan import PlanStep
from jido._workflow.plan_run import PlanJob, decode_outcome

__all__ = ["resume_chain", "resume_plan"]


def _instruction(entry: Mapping[str, Any]) -> Instruction:
    target, _ = load_action(entry)
    return Instruction(
        target, entry.get("params"), entry.get("context"), decode_options(entry.get("opts") or {})
    )


def _check(job: Any, row: RunRow) -> None:
    _, shape = job.definition()
    if fingerprint(shape) != row.fingerprint:
        raise LookupError(
            f"the {row.kind}'s definition changed since the run started (its steps, their "
            "actions, versions or dependencies differ from the ones recorded)"
        )


def resume_chain(rt: Any, row: RunRow, run: DurableRun, relay: Relay) -> None:
    """Relaunch a recorded chain; its completed steps keep their recorded results."""
    d = row.definition
    steps = tuple(_instruction(entry) for entry in d["steps"])
    opts = decode_options(d.get("opts") or {})
    job = _ChainJob(
        steps, dict(row.params or {}), opts, None, bool(d.get("compensate")), Driver(rt)
    )
    _check(job, row)
    launch(rt, ChainRunner, job.with_run(run), run, relay, _ONCE)


def resume_plan(rt: Any, row: RunRow, run: DurableRun, relay: Relay) -> None:
    """Relaunch a recorded plan; its completed steps keep their recorded results."""
    d = row.definition
    steps = {
        name: PlanStep(name, _instruction(entry), tuple(entry.get("depends_on") or ()))
        for name, entry in d["steps"].items()
    }
    job = PlanJob(
        steps,
        dict(row.params or {}),
        decode_options(d.get("opts") or {}),
        d.get("limit"),
        bool(d.get("fail_fast", True)),
        bool(d.get("compensate")),
        Driver(rt),
    )
    _check(job, row)
    launch(rt, PlanRunner, job.with_run(run), run, relay, _ONCE)


register("chain", resume_chain, lambda result: result)
register("plan", resume_plan, decode_outcome)
