"""Running a plan: the driver coroutine and what it returns.

The driver starts every step whose dependencies have succeeded, at most
``max_concurrency`` at a time; the scheduling decisions come from the pure
:class:`~jido._workflow.dag.Scheduler`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jido._core.errors import JidoError, derive
from jido._durable.definition import encode_options
from jido._durable.journal import DurableRun, stored_error
from jido._store.codec import error_from_json
from jido._workflow.composite import Driver, composite_cancelled
from jido._workflow.dag import Scheduler
from jido._workflow.durable import shape_of, step_entry
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
    """The mutable state of one plan run."""

    def __init__(self, job: PlanJob) -> None:
        self.job = job
        self.order = {name: i for i, name in enumerate(job.steps)}
        self.scheduler = Scheduler({n: s.depends_on for n, s in job.steps.items()})
        self.queue = deque(self.scheduler.start())
        self.running: dict[asyncio.Task[Outcome], str] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, JidoError] = {}
        self.completed: list[Completed] = []
        self.skipped: list[str] = []

    async def run(self) -> PlanResult:
        try:
            while self.queue or self.running:
                self._launch()
                done, _ = await asyncio.wait(self.running, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=self._settle_order):
                    await self._settle(task)
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
            self.running[asyncio.create_task(self._step(name))] = name

    async def _step(self, name: str) -> Outcome:
        step = self.job.steps[name]
        instr = step.instruction
        params = {**self.job.params}
        for dep in step.depends_on:
            params.update(self.results[dep])
        params.update(instr.params)
        opts = {**self.job.opts, **instr.opts}
        run = self.job.durable
        try:
            if run is not None and name in run.completed:
                result = run.completed[name]
            else:
                result = await self.job.driver.step(
                    instr.action, params, instr.context, opts, name, run
                )
        except JidoError as exc:
            return (False, exc, None)
        return (True, result, Completed(name, instr, params, opts, result))

    def _settle_order(self, task: asyncio.Task[Outcome]) -> tuple[bool, int]:
        return (not task.result()[0], self.order[self.running[task]])

    async def _settle(self, task: asyncio.Task[Outcome]) -> None:
        name = self.running.pop(task)
        ok, value, completed = task.result()
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
        cancelled = sorted(self.running.values(), key=self.order.__getitem__)
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
        tasks = list(self.running)
        self.running.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def _annotate(error: JidoError, name: str, action: str) -> JidoError:
    """The plan's error for a failed step: the step's, saying which step (its cause)."""
    return derive(
        error,
        f"Plan step {name!r} ({action}) failed: {error.message}",
        {**error.details, "step": name, "step_action": action},
    )
