"""Durable chains and plans: recorded, journaled step by step, resumed where they stopped.

A composite on a runtime with a store is recorded under its ``run_id`` with its definition
(each step's action by reference, params, storable context, options). Each step's
attempts are journaled under the step's key (a chain step's index, a plan step's name);
a completed step is never run again: a resumed composite takes its recorded result. The
composite's own outcome is recorded when its job ends (a shutdown records nothing: the
run stays resumable).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from jido._action.action import spec_of
from jido._core.cancel import CancelReason
from jido._core.context import current_or_none
from jido._core.errors import CancelledError, JidoError, ValidationError
from jido._durable.definition import action_entry, encode_options, stored_context
from jido._durable.journal import DurableRun, StepJournal, unstorable
from jido._durable.relay import Relay
from jido._run.call import Call
from jido._run.ref import AsyncRef
from jido._store.codec import encode
from jido._workflow.instruction import Instruction

if TYPE_CHECKING:
    from jido._runtime.runtime import Runtime

__all__ = ["DurableJob", "Recorded", "StepHook", "launch", "shape_of", "start", "step_entry"]


class DurableJob(Protocol):
    """What a composite's job gives a durable run."""

    @property
    def params(self) -> dict[str, Any]:
        """The composite's initial params."""

    def definition(self) -> tuple[dict[str, Any], Any]:
        """``(definition, shape)``: what to record, and what its fingerprint covers."""

    def first_step(self) -> str | None:
        """The key of the step that starts as soon as the run does (None: several may)."""

    def with_run(self, run: DurableRun) -> DurableJob:
        """The same job, journaling into ``run`` and reusing its completed steps."""

    def encode_outcome(self, outcome: Any) -> Any:
        """The composite's outcome as JSON."""

    async def execute(self) -> Any:
        """Run the composite."""


def step_entry(instr: Instruction, where: str) -> dict[str, Any]:
    """How a definition records one step (a ValidationError if it cannot be stored)."""
    params = dict(instr.params)
    encode(params, f"{where} params", "durable runs store their params as JSON")
    return {
        **action_entry(spec_of(instr.action)),
        "params": params,
        "context": stored_context(instr.context),
        "opts": encode_options(instr.opts, f"{where} options"),
    }


def shape_of(entry: Mapping[str, Any]) -> list[Any]:
    """What a step's part of a fingerprint covers: its action, version and params schema."""
    return [entry["action"], entry["version"], entry["schema"]]


def start(rt: Runtime, runner: Any, job: DurableJob, run_id: str | None, once: Any) -> AsyncRef:
    """Record the composite (or join the one recorded under ``run_id``) and start it."""
    durable: Any = rt._durable
    definition, shape = job.definition()
    new = durable.new_run(runner.name, runner.name, run_id, definition, shape, job.params)
    run, ref, relay = durable.begin(new, job.first_step())
    if run is not None and relay is not None:
        launch(rt, runner, job.with_run(run), run, relay, once)
    return ref  # type: ignore[no-any-return]


def launch(
    rt: Runtime, runner: Any, job: DurableJob, run: DurableRun, relay: Relay, once: Any
) -> None:
    """Start the composite's internal action for ``run``; its outcome goes to ``relay``."""
    params = {"job": Recorded(job, run)}
    if not run.recovered:
        relay.attach(rt._start(runner, params, None, run.run_id, once), unwrap="outcome")
        return
    try:  # as rt._start, with run.start saying that the run was recovered
        spec, opts = rt._resolve(runner, once)
        mode = rt._mode(spec, opts)
        call = rt._prepare(spec, opts, params, None, mode, run.run_id, recovered=True)
    except JidoError as exc:
        relay.fail(exc)
        return
    relay.attach(rt._start_call(call, mode), unwrap="outcome")


@dataclass(frozen=True, slots=True, repr=False)
class Recorded:
    """A composite's job whose outcome is recorded when it ends."""

    job: DurableJob
    run: DurableRun

    def __repr__(self) -> str:
        return repr(self.job)

    async def execute(self) -> Any:
        run = self.run
        try:
            outcome = await self.job.execute()
        except JidoError as exc:
            run.finish_error(exc)
            raise
        except asyncio.CancelledError:
            ctx = current_or_none()
            reason = ctx.cancel_reason if ctx is not None else None
            if reason is not CancelReason.SHUTDOWN:
                why = (reason or CancelReason.CALLER).value
                error = CancelledError(
                    f"run {run.run_id} was cancelled ({why})", details={"reason": why}
                )
                run.finish("cancelled", error=error)
            raise
        try:
            run.finish("succeeded", result=self.job.encode_outcome(outcome))
        except ValidationError as exc:  # an outcome that is not JSON fails the run
            failure = unstorable(exc)
            run.finish("failed", error=failure)
            raise failure from None
        return outcome


class StepHook:
    """Makes a nested run a composite's step: its idempotency key, and its journal if durable."""

    __slots__ = ("journal", "key", "run")

    def __init__(self, key: str, run: DurableRun | None) -> None:
        self.key = key
        self.run = run
        self.journal: StepJournal | None = None

    def __call__(self, call: Call) -> None:
        parent = call.parent
        call.key = f"{parent.run_id}/{self.key}" if parent is not None else self.key
        run = self.run
        if run is not None:
            self.journal = call.journal = run.step(self.key, call.tracker)
            call.first_attempt, call.resume_delay = run.resume_point(self.key)

    def check(self, result: Mapping[str, Any]) -> Mapping[str, Any]:
        """``result``, or the error it fails the step with when it cannot be recorded."""
        journal = self.journal
        if journal is not None and journal.bad_result is not None:
            raise journal.bad_result
        return result
