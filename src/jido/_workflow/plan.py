"""Plans: a DAG of named steps; independent steps run concurrently.

A :class:`Plan` is an immutable value built fluently (``Plan().add(...).add(...)``) or
from a mapping. Running it validates the graph, then runs the driver (``plan_run.py``)
as an internal action (see ``composite.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Unpack

from jido._core.errors import ConfigError, JidoError, ValidationError
from jido._core.normalize import normalize_params
from jido._core.safe import describe, type_name
from jido._run.ref import AsyncRef
from jido._runtime.config import RunKwargs
from jido._runtime.runtime import Runtime
from jido._workflow import here
from jido._workflow.composite import Driver, How, PlanRunner, enter
from jido._workflow.dag import check_graph, phases
from jido._workflow.instruction import Instruction, check_options, new_id
from jido._workflow.plan_run import PlanJob, PlanResult
from jido._workflow.plan_steps import dependencies as read_dependencies
from jido._workflow.plan_steps import (
    limit,
    plan_context,
    read_mapping,
    step_error,
    step_instruction,
)

__all__ = ["DEFAULT_MAX_CONCURRENCY", "Plan", "PlanResult", "PlanStep"]

DEFAULT_MAX_CONCURRENCY: Final = 16
_SPEC_KEYS: Final = frozenset({"action", "params", "context", "opts", "depends_on"})


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One named step of a plan: its instruction and the steps it depends on."""

    name: str
    instruction: Instruction
    depends_on: tuple[str, ...] = ()


class Plan:
    """A DAG of named steps; immutable (``add`` and ``depends_on`` return a new plan).

    Args:
        context: a context shared by every step, merged over each step's own context
            (the plan's values win).
        id: a string id (default: a new UUIDv7).

    Example:
        >>> import jido
        >>> @jido.action
        ... def fetch(source: str) -> dict:
        ...     return {source: [1, 2, 3]}
        >>> @jido.action
        ... def total(users: list[int], orders: list[int]) -> dict:
        ...     return {"total": sum(users) + sum(orders)}
        >>> plan = (
        ...     jido.Plan()
        ...     .add("users", fetch, {"source": "users"})
        ...     .add("orders", fetch, {"source": "orders"})
        ...     .add("total", total, depends_on=["users", "orders"])
        ... )
        >>> plan.phases()
        [['users', 'orders'], ['total']]
        >>> plan.run()["total"]
        {'total': 12}
    """

    __slots__ = ("_steps", "_valid", "context", "id")

    context: Mapping[Any, Any]
    id: str

    def __init__(self, *, context: object = None, id: str | None = None) -> None:
        self._steps: dict[str, PlanStep] = {}
        self.context = MappingProxyType(plan_context(context))
        if id is not None and not (isinstance(id, str) and id):
            raise ValidationError(f"Plan id must be a non-empty string, got {describe(id)}")
        self.id = id or new_id()

    # -- building ---------------------------------------------------------------------------------
    @classmethod
    def from_mapping(cls, steps: Mapping[str, object], *, context: object = None) -> Plan:
        """Build a plan from ``{name: step}``.

        A step is an instruction form (an action, ``(action, params)``, ...,
        an :class:`~jido.Instruction`) or a dict with ``action`` and optionally
        ``params``, ``context``, ``opts`` and ``depends_on``.

        Example:
            >>> import jido
            >>> @jido.action
            ... def step(n: int = 0) -> dict:
            ...     return {}
            >>> plan = jido.Plan.from_mapping({
            ...     "a": step,
            ...     "b": {"action": step, "params": {"n": 1}, "depends_on": ["a"]},
            ... })
            >>> plan.phases()
            [['a'], ['b']]
        """
        if not isinstance(steps, Mapping):
            raise ValidationError(
                f"A plan must be a mapping of step names to steps, got {type_name(steps)}",
                details={"type": type_name(steps)},
            )
        plan = cls(context=context)
        for name, step in read_mapping(steps, "A plan").items():
            plan = plan._with(plan._spec_step(name, step))
        return plan

    def add(
        self,
        name: str,
        step: object,
        params: object = None,
        *,
        depends_on: str | Iterable[str] = (),
        context: object = None,
        **opts: Unpack[RunKwargs],
    ) -> Plan:
        """A new plan with step ``name`` added (a step with the same name is replaced).

        Args:
            name: the step's name (a non-empty string).
            step: an action or any instruction form (``(action, params)``, ...).
            params: params merged over the instruction's own.
            depends_on: a step name or names; undefined names fail at ``validate``/``run``.
            context: context merged over the instruction's own (the plan's wins).
            **opts: run options for this step (``timeout``, ``max_retries``, ...).

        Raises:
            jido.ValidationError: a malformed step (``details["step"]`` is its name).
            jido.ConfigError: an invalid run option.

        Example:
            >>> import jido
            >>> @jido.action
            ... def step(n: int = 0) -> dict:
            ...     return {"n": n}
            >>> plan = jido.Plan().add("a", step, {"n": 1}, timeout=2.0)
            >>> plan = plan.add("b", step, depends_on="a")
            >>> list(plan), plan.steps["b"].depends_on
            (['a', 'b'], ('a',))
        """
        return self._with(self._make_step(name, step, params, depends_on, context, opts))

    def depends_on(self, name: str, dependencies: str | Iterable[str]) -> Plan:
        """A new plan where step ``name`` also depends on ``dependencies`` (no duplicates).

        Raises:
            jido.ValidationError: ``"Step not found: 'x'"`` when ``name`` is not a step.

        Example:
            >>> import jido
            >>> @jido.action
            ... def step() -> dict:
            ...     return {}
            >>> plan = jido.Plan().add("a", step).add("b", step).depends_on("b", "a")
            >>> plan.phases()
            [['a'], ['b']]
        """
        current = self._steps.get(str.__str__(name)) if isinstance(name, str) else None
        if current is None:
            raise ValidationError(
                f"Step not found: {describe(name)}",
                details={
                    "step": name if type(name) is str else describe(name, 60),
                    "available_steps": sorted(self._steps),
                },
            )
        added = read_dependencies(dependencies, name)
        merged = tuple(dict.fromkeys((*current.depends_on, *added)))
        return self._with(PlanStep(name, current.instruction, merged))

    # -- inspecting -------------------------------------------------------------------------------
    @property
    def steps(self) -> Mapping[str, PlanStep]:
        """The steps by name, in the order they were added (read-only)."""
        return MappingProxyType(self._steps)

    def validate(self) -> None:
        """Check the graph.

        Raises:
            jido.ValidationError: ``"Plan contains dependencies on undefined steps: ..."``
                with ``details["missing_dependencies_by_step"]`` and
                ``details["available_steps"]`` (checked first), or ``"Plan contains
                circular dependencies: a -> b -> a"`` with ``details["cycle"]``.

        Example:
            >>> import jido
            >>> @jido.action
            ... def step() -> dict:
            ...     return {}
            >>> plan = jido.Plan().add("a", step, depends_on="b").add("b", step, depends_on="a")
            >>> try:
            ...     plan.validate()
            ... except jido.ValidationError as e:
            ...     print(e.message)
            Plan contains circular dependencies: a -> b -> a
        """
        if getattr(self, "_valid", False):  # a plan never changes: checked once
            return
        check_graph(self._graph())
        self._valid = True

    def phases(self) -> list[list[str]]:
        """Steps grouped by phase (0: no dependencies; else 1 + latest dependency's phase).

        Within a phase, steps are in the order they were added. Raises as :meth:`validate`.
        """
        graph = self._graph()
        check_graph(graph)
        return phases(graph)

    def to_mapping(self) -> dict[str, dict[str, Any]]:
        """The plan as ``{name: {"action": ..., "params": ..., ...}}`` (empty parts left out)."""
        return {name: _spec_of_step(step) for name, step in self._steps.items()}

    def __len__(self) -> int:
        return len(self._steps)

    def __iter__(self) -> Iterator[str]:
        return iter(self._steps)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and str.__str__(name) in self._steps

    def __repr__(self) -> str:
        return f"<Plan {self.id} steps={list(self._steps)}>"

    # -- running ----------------------------------------------------------------------------------
    def run(
        self,
        /,
        params: object = None,
        *,
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        fail_fast: bool = True,
        compensate: bool = False,
        runtime: Runtime | None = None,
        run_id: str | None = None,
        **opts: Unpack[RunKwargs],
    ) -> PlanResult:
        """Run the plan and return every step's result.

        Each step runs with ``{**params, **results of its dependencies (in the order
        of depends_on), **its own params}`` as soon as its dependencies have succeeded.

        Args:
            params: initial params given to every step.
            max_concurrency: most steps running at once (None: no limit).
            fail_fast: on the first failure, stop scheduling, cancel running steps and
                raise that error; with False, run every step whose dependencies
                succeeded and report failures in the result's ``errors`` (a
                :class:`PlanResult`).
            compensate: with ``fail_fast``, undo the completed steps (their
                ``on_error``, newest first); the outcome is in ``details["saga"]``.
            runtime: the :class:`~jido.Runtime` to run on.
            run_id: names the plan's run; on a runtime with a store it is the durable run's
                id and idempotency key (a second start with the same id joins the first).
            **opts: run options for every step; a step's own options win.

        Raises:
            jido.JidoError: the first failure (fail-fast), unchanged in type, with
                ``details`` ``step``, ``step_action``, ``completed``, ``cancelled``,
                ``skipped`` and ``results`` (of the completed steps).
        """
        return self._enter(  # type: ignore[no-any-return]
            "sync", params, max_concurrency, fail_fast, compensate, runtime, run_id, opts
        )

    async def arun(
        self,
        /,
        params: object = None,
        *,
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        fail_fast: bool = True,
        compensate: bool = False,
        runtime: Runtime | None = None,
        run_id: str | None = None,
        **opts: Unpack[RunKwargs],
    ) -> PlanResult:
        """Like :meth:`run`, awaited inside asyncio; cancelling the task cancels the plan.

        Example:
            >>> import asyncio, jido
            >>> @jido.action
            ... async def ping() -> dict:
            ...     return {"pong": True}
            >>> asyncio.run(jido.Plan().add("p", ping).arun())
            PlanResult({'p': {'pong': True}})
        """
        return await self._enter(  # type: ignore[no-any-return]
            "async", params, max_concurrency, fail_fast, compensate, runtime, run_id, opts
        )

    def run_async(
        self,
        /,
        params: object = None,
        *,
        max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
        fail_fast: bool = True,
        compensate: bool = False,
        runtime: Runtime | None = None,
        run_id: str | None = None,
        **opts: Unpack[RunKwargs],
    ) -> AsyncRef:
        """Start the plan; the :class:`~jido.AsyncRef` delivers the :class:`PlanResult`.

        Cancelling the ref cancels every running step (and waits until they stopped).
        Errors found before the start (an invalid graph, bad options) are delivered by the
        ref.

        Example:
            >>> import jido
            >>> @jido.action
            ... def ping() -> dict:
            ...     return {"pong": True}
            >>> ref = jido.Plan().add("p", ping).run_async()
            >>> jido.await_(ref)
            PlanResult({'p': {'pong': True}})
        """
        return self._enter(  # type: ignore[no-any-return]
            "ref", params, max_concurrency, fail_fast, compensate, runtime, run_id, opts
        )

    # -- internals --------------------------------------------------------------------------------
    def _enter(
        self,
        how: How,
        params: object,
        max_concurrency: object,
        fail_fast: object,
        compensate: object,
        runtime: Runtime | None,
        run_id: str | None,
        opts: Mapping[str, Any],
    ) -> Any:
        return enter(
            PlanRunner,
            how,
            runtime,
            lambda driver: self._job(params, max_concurrency, fail_fast, compensate, opts, driver),
            run_id,
            here.PLAN,
        )

    def _with(self, step: PlanStep) -> Plan:
        plan = Plan.__new__(Plan)
        plan._steps = {**self._steps, step.name: step}
        plan.context = self.context
        plan.id = self.id
        return plan

    def _graph(self) -> dict[str, tuple[str, ...]]:
        return {name: step.depends_on for name, step in self._steps.items()}

    def _make_step(
        self,
        name: object,
        step: object,
        params: object,
        depends_on: object,
        context: object,
        opts: Mapping[str, Any],
    ) -> PlanStep:
        if not isinstance(name, str) or not name:
            raise ValidationError(
                f"A plan step name must be a non-empty string, got {describe(name)}",
                details={"step": describe(name, 60)},
            )
        try:
            instr = step_instruction(step, params, context, opts, self.context)
        except JidoError as exc:
            raise step_error(exc, name) from exc
        return PlanStep(name, instr, read_dependencies(depends_on, name))

    def _spec_step(self, name: object, step: object) -> PlanStep:
        if not isinstance(step, Mapping):
            return self._make_step(name, step, None, (), None, {})
        label = f"Plan step {describe(name)}"
        spec = read_mapping(step, label)
        unknown = sorted(describe(k) for k in spec if not (type(k) is str and k in _SPEC_KEYS))
        if unknown or "action" not in spec:
            problem = f"unknown keys [{', '.join(unknown)}]" if unknown else "no 'action'"
            raise ValidationError(
                f"{label}: a step given as a dict needs 'action' and may have "
                f"'params', 'context', 'opts', 'depends_on'; it has {problem}",
                details={"step": name if type(name) is str else describe(name, 60), "form": "dict"},
            )
        return self._make_step(
            name,
            spec["action"],
            spec.get("params"),
            spec.get("depends_on", ()),
            spec.get("context"),
            check_options(spec.get("opts"), label),
        )

    def _job(
        self,
        params: object,
        max_concurrency: object,
        fail_fast: object,
        compensate: object,
        opts: Mapping[str, Any],
        driver: Driver,
    ) -> PlanJob:
        self.validate()
        for option, value in (("fail_fast", fail_fast), ("compensate", compensate)):
            if not isinstance(value, bool):
                raise ConfigError(
                    f"{option} must be a bool, got {describe(value)}", details={"option": option}
                )
        if compensate and not fail_fast:
            raise ConfigError(
                "compensate=True needs fail_fast=True (a saga undoes a plan that stopped)",
                details={"option": "compensate"},
            )
        return PlanJob(
            dict(self._steps),
            normalize_params(params),
            check_options(opts, "plan options"),
            limit(max_concurrency),
            bool(fail_fast),
            bool(compensate),
            driver,
        )


def _spec_of_step(step: PlanStep) -> dict[str, Any]:
    instr = step.instruction
    spec: dict[str, Any] = {"action": instr.action}
    for key, value in (
        ("params", dict(instr.params)),
        ("context", dict(instr.context)),
        ("opts", dict(instr.opts)),
        ("depends_on", list(step.depends_on)),
    ):
        if value:
            spec[key] = value
    return spec
