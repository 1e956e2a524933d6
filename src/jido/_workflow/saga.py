"""Sagas: undo the completed steps of a failed chain or plan, newest first.

Each completed step whose action defines ``on_error`` is compensated once, given the
params it ran with merged with its result (validated, defaults applied: what is needed
to undo it, e.g. the id of what it created), the error that failed the composite and
its context. A compensation is itself a nested run with no retries and the step's
``compensation_timeout`` option (or the action's), so it is crash-contained and really
stopped when it overruns. Steps are compensated one after another; a failed compensation is
recorded and the saga goes on with the next step.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jido._action.action import Action, describe, spec_of
from jido._core.errors import JidoError, TimeoutError
from jido._workflow.composite import Driver
from jido._workflow.instruction import Instruction

__all__ = ["Completed", "compensate"]


@dataclass(frozen=True, slots=True)
class Completed:
    """A step that succeeded: what it ran with, so that it can be undone."""

    step: int | str
    instruction: Instruction
    params: Mapping[str, Any]
    opts: Mapping[str, Any]
    result: Mapping[str, Any]


class _Compensate(Action):
    """Runs a sync ``on_error`` as a nested run (internal)."""

    name = "compensate"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> Any:
        return params["instance"].on_error(params["params"], params["error"], context)


class _CompensateAsync(Action):
    """Runs an async ``on_error`` as a nested run (internal)."""

    name = "compensate"

    async def run(self, params: dict[str, Any], context: dict[str, Any]) -> Any:
        return await params["instance"].on_error(params["params"], params["error"], context)


async def compensate(
    driver: Driver, completed: Sequence[Completed], error: JidoError
) -> list[dict[str, Any]]:
    """Compensate ``completed`` in reverse order; one record per step, in the order run.

    A record has ``step``, ``action`` and ``status``: ``"compensated"`` (with the
    ``result`` of ``on_error``), ``"failed"`` (with the ``error`` message) or
    ``"skipped"`` (the action has no ``on_error``).
    """
    return [await _undo(driver, done, error) for done in reversed(completed)]


async def _undo(driver: Driver, done: Completed, error: JidoError) -> dict[str, Any]:
    action = done.instruction.action
    spec = spec_of(action)
    record: dict[str, Any] = {"step": done.step, "action": spec.name}
    if not spec.has_on_error:
        return {**record, "status": "skipped"}
    instance = spec.make_instance()
    runner = _CompensateAsync if inspect.iscoroutinefunction(instance.on_error) else _Compensate
    params = _validated(action, {**done.params, **done.result})
    # the step's options over runtime and global defaults, as the core resolves them
    timeout = driver.runtime._options(done.opts).compensation_timeout or spec.compensation_timeout
    options = {"timeout": timeout, "max_retries": 0, "total_timeout": None, "isolation": "thread"}
    try:  # not journaled itself, even on a runtime with a store: it is part of the composite
        result = await driver.nested(
            runner,
            {"instance": instance, "params": params, "error": error},
            done.instruction.context,
            options,
        )
    except JidoError as exc:
        return {**record, "status": "failed", "error": _failure(spec.name, exc, timeout)}
    return {**record, "status": "compensated", "result": result}


def _failure(action: str, error: JidoError, timeout: float) -> str:
    """What went wrong, naming the step's action (not the internal run that called on_error)."""
    if isinstance(error, TimeoutError):
        reason = f"timed out after {timeout:g}s"
    elif error.__cause__ is not None:
        reason = f"failed: {describe(error.__cause__)}"
    else:
        reason = f"failed: {error.message}"
    return f"on_error of '{action}' {reason}"


def _validated(action: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """The params as the action saw them (defaults applied); as given if that fails now."""
    try:
        return dict(action.validate_params(params))
    except JidoError:
        return dict(params)
