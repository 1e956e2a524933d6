"""Running a plan: the driver coroutine and what it returns.

The driver starts every step whose dependencies have succeeded, at most
``max_concurrency`` at a time; the scheduling decisions come from the pure
:class:`~jido._workflow.dag.Scheduler`. A step is a nested run started from the
driver's task, not a task of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jido._core.errors import JidoError, derive
from jido._durable.definition import encode_options
from jido._durable.journal import DurableRun, stored_error
from jido._run.ref import AsyncRef
from jido._store.codec import error_from_json
from jido._workflow.composite import Driver, composite_cancelled, step_result, stop_all
from jido._workflow.dag import Scheduler
from jido._workflow.durable import StepHook, shape_of, step_entry
from jido._workflow.instruction import Instruction
from jido._workflow.saga import Completed, compensate

if TYPE_CHECKING:
    from jido._workflow.plan import PlanStep

__all__ = ["PlanJob", "PlanResult", "decode_outcome"]


class PlanResult(dict[str, dict[str, Any]]):
    """Every succeeded step's result, by step name, in plan order.

    Attributes:
        errors: the error of every failed step (only with ``fail_fast=False``; with
            fail-fast the first failure is raised instead).
        skipped: steps that did not run because a dependency failed.

    Example:
        >>> import jido
        >>> @jido.action
        ... def ok() -> dict:
        ...     return {"ok": True}
        >>> @jido.action
        ... def broken() -> dict:
        ...     raise jido.ExecutionError("down", retryable=False)
        >>> plan = jido.Plan().add("a", ok).add("b", broken).add("c", ok, depends_on="b")
        >>> result = plan.run(fail_fast=False)
        >>> dict(result), list(result.errors), result.skipped, result.ok
        ({'a': {'ok': True}}, ['b'], ('c',), False)
    """

    __slots__ = ("errors", "skipped")

    def __init__(
        self,
        results: Mapping[str, dict[str, Any]],
        *,
        errors: Mapping[str, JidoError] | None = None,
        skipped: Iterable[str] = (),
    ) -> None:
        super().__init__(results)
        self.errors: dict[str, JidoError] = dict(errors or {})
        self.skipped: tuple[str, ...] = tuple(skipped)

    @property
    def ok(self) -> bool:
        """True when every step succeeded."""
        return not self.errors and not self.skipped

    def __repr__(self) -> str:
        extra = (
            f", errors={sorted(self.errors)}, skipped={list(self.skipped)}" if not self.ok else ""
        )
        return f"PlanResult({dict.__repr__(self)}{extra})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_result, (dict(self), self.errors, self.skipped))


def _rebuild_result(
    results: dict[str, dict[str, Any]], errors: dict[str, JidoError], skipped: tuple[str, ...]
) -> PlanResult:
    return PlanResult(results, errors=errors, skipped=skipped)


Outcome = tuple[bool, Any, Completed | None]


@dataclass(slots=True)
class Started:
    """A step started: its run's handle, and what its outcome is read with."""

    name: str
    instruction: Instruction
    params: dict[str, Any]
    opts: dict[str, Any]
    ref: AsyncRef
    hook: StepHook | None = None  # None: the result was recorded (a resumed run)

    def outcome(self) -> Outcome:
        try:
            if self.hook is None:
                result: dict[str, Any] = self.ref.result(timeout=0)
            else:
                result = step_result(self.ref, self.hook)
        except JidoError as exc:
            return (False, exc, None)
        return (
            True,
            result,
            Completed(self.name, self.instruction, self.params, self.opts, result),
        )


@dataclass(frozen=True, slots=True, repr=False)
class PlanJob:
    steps: dict[str, PlanStep]
    params: dict[str, Any]
    opts: dict[str, Any]
    limit: int | None
    fail_fast: bool
    compensate: bool
    driver: Driver
    durable: DurableRun | None = None

    def __repr__(self) -> str:  # never params or context (telemetry may show it)
        return f"<plan of {len(self.steps)} steps>"

    async def execute(self) -> PlanResult:
        return await _Execution(self).run()

    # -- durable runs ------------------------------------------------------------------------------
    def definition(self) -> tuple[dict[str, Any], Any]:
        """What a durable plan records (every step, by reference) and its fingerprint's shape."""
        steps = {
            name: {**step_entry(s.instruction, f"step {name!r}"), "depends_on": list(s.depends_on)}
            for name, s in self.steps.items()
        }
        definition = {
            "steps": steps,
            "opts": encode_options(self.opts, "plan options"),
            "limit": self.limit,
            "fail_fast": self.fail_fast,
            "compensate": self.compensate,
        }
        shape = {
            "kind": "plan",
            "steps": {n: [*shape_of(s), s["depends_on"]] for n, s in steps.items()},
        }
        return definition, shape

    def first_step(self) -> str | None:
        return None  # several steps may start at once

    def with_run(self, run: DurableRun) -> PlanJob:
        return dataclasses.replace(self, durable=run)

    def encode_outcome(self, outcome: PlanResult) -> Any:
        return {
            "results": dict(outcome),
            "errors": {n: stored_error(e) for n, e in outcome.errors.items()},
            "skipped": list(outcome.skipped),
        }


def decode_outcome(data: Any) -> PlanResult:
    """The :class:`PlanResult` a durable plan recorded."""
    return PlanResult(
        data.get("results") or {},
        errors={n: error_from_json(e) for n, e in (data.get("errors") or {}).items()},
        skipped=data.get("skipped") or (),
    )


class _Execution:
    """The mutable state of one plan run.

    Steps are started as nested runs straight from the driver's task; each one's end is
    queued by its handle's callback (in the thread that ended it), and the task is woken
    once for all the ends queued meanwhile.
    """

    def __init__(self, job: PlanJob) -> None:
        self.job = job
        self.order = {name: i for i, name in enumerate(job.steps)}
        self.scheduler = Scheduler({n: s.depends_on for n, s in job.steps.items()})
        self.queue = deque(self.scheduler.start())
        self.running: dict[str, Started] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, JidoError] = {}
        self.completed: list[Completed] = []
        self.skipped: list[str] = []
        self.loop = asyncio.get_running_loop()
        self.ended: deque[str] = deque()  # appended from any thread
        self.signalled = False  # a wake-up is on its way to the loop
        self.waiter: asyncio.Future[None] | None = None

    async def run(self) -> PlanResult:
        try:
            while self.queue or self.running:
                self._launch()
                for name, outcome in sorted(await self._next_ended(), key=self._settle_order):
                    await self._settle(name, outcome)
        finally:
            await self._cancel_running()
        return PlanResult(
            {n: self.results[n] for n in self.order if n in self.results},
            errors={n: self.errors[n] for n in self.order if n in self.errors},
            skipped=sorted(self.skipped, key=self.order.__getitem__),
        )

    def _launch(self) -> None:
        limit = self.job.limit
        while self.queue and (limit is None or len(self.running) < limit):
            name = self.queue.popleft()
            self.running[name] = started = self._start(name)
            started.ref.add_done_callback(self._on_end(name))

    def _start(self, name: str) -> Started:
        step = self.job.steps[name]
        instr = step.instruction
        params = {**self.job.params}
        for dep in step.depends_on:
            params.update(self.results[dep])
        own, own_opts = instr.params, instr.opts  # read-only mappings: merged slowly
        if own:
            params.update(own)
        opts = {**self.job.opts, **own_opts} if own_opts else self.job.opts
        run = self.job.durable
        if run is not None and name in run.completed:  # resumed: its recorded result
            ref = AsyncRef(instr.name, run.run_id, 0.0)
            ref._set_result(run.completed[name])
            return Started(name, instr, params, opts, ref)
        context = dict(instr.context) if instr.context else {}  # checked when it was made
        ref, hook = self.job.driver.start(instr.action, params, context, opts, name, run)
        return Started(name, instr, params, opts, ref, hook)

    def _on_end(self, name: str) -> Callable[[AsyncRef], None]:
        def ended(_: AsyncRef) -> None:
            self.ended.append(name)
            if not self.signalled:
                self.signalled = True
                with contextlib.suppress(RuntimeError):  # a closed loop waits for nothing
                    self.loop.call_soon_threadsafe(self._wake)

        return ended

    def _wake(self) -> None:
        self.signalled = False
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _next_ended(self) -> list[tuple[str, Outcome]]:
        """The steps that have ended since the last call (waiting for one if none has)."""
        while not self.ended:
            self.waiter = self.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        ended = []
        while self.ended:
            name = self.ended.popleft()
            ended.append((name, self.running[name].outcome()))
        return ended

    def _settle_order(self, ended: tuple[str, Outcome]) -> tuple[bool, int]:
        return (not ended[1][0], self.order[ended[0]])

    async def _settle(self, name: str, outcome: Outcome) -> None:
        del self.running[name]
        ok, value, completed = outcome
        if ok:
            assert completed is not None
            self.results[name] = value
            self.completed.append(completed)
            self.queue.extend(self.scheduler.succeeded(name))
            return
        value = _annotate(value, name, self.job.steps[name].instruction.name)
        self.errors[name] = value
        self.skipped.extend(self.scheduler.failed(name))
        if self.job.fail_fast:
            await self._abort(name, value)
            raise value

    async def _abort(self, name: str, error: JidoError) -> None:
        """Fail fast: cancel what runs, say what happened, run the saga when asked."""
        cancelled = sorted(self.running, key=self.order.__getitem__)
        await self._cancel_running()
        skipped = [*self.queue, *self.skipped, *self.scheduler.pending()]
        error.details.update(
            completed=[c.step for c in self.completed],
            cancelled=cancelled,
            skipped=sorted(set(skipped), key=self.order.__getitem__),
            results=dict(self.results),
        )
        if self.job.compensate and self.completed and not composite_cancelled():
            error.details["saga"] = await compensate(self.job.driver, self.completed, error)

    async def _cancel_running(self) -> None:
        """Stop the running steps (reason ``caller``) and wait until they have stopped."""
        refs = [started.ref for started in self.running.values()]
        self.running.clear()
        self.ended.clear()
        await stop_all(refs, self.job.driver.runtime._grace())


def _annotate(error: JidoError, name: str, action: str) -> JidoError:
    """The plan's error for a failed step: the step's, saying which step (its cause)."""
    return derive(
        error,
        f"Plan step {name!r} ({action}) failed: {error.message}",
        {**error.details, "step": name, "step_action": action},
    )
