"""Tools for testing code that defines or runs actions.

- :func:`no_backoff`: retries happen at once (no backoff sleeps), schedules unchanged.
- :func:`run_context`: makes ``jido.current()`` work while calling action code directly.
- :func:`call`: validates params and calls an action's ``run`` once in this thread,
  without a runtime, retries or timeouts: a unit test of the action itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Iterator, Mapping
from typing import Any

from jido._action.action import spec_of
from jido._core.cancel import Token
from jido._core.context import _CURRENT, RunContext
from jido._core.normalize import normalize_context, normalize_params
from jido._run.call import testing_flags

__all__ = ["call", "no_backoff", "run_context", "set_no_backoff"]


def set_no_backoff(enabled: bool = True) -> None:
    """Skip (or restore) backoff sleeps between retries, process-wide.

    For a whole test session, e.g. in a ``conftest.py``; :func:`no_backoff` does the same
    for one block.

    Example:
        >>> import jido.testing
        >>> jido.testing.set_no_backoff(True)
        >>> jido.testing.set_no_backoff(False)
    """
    testing_flags.no_backoff = bool(enabled)


@contextlib.contextmanager
def no_backoff() -> Iterator[None]:
    """Within the block, retries do not sleep.

    Example:
        >>> import jido, jido.testing
        >>> @jido.action
        ... def always_fails() -> dict:
        ...     raise ConnectionError("down")
        >>> with jido.testing.no_backoff():
        ...     try:
        ...         jido.run(always_fails, max_retries=5, backoff=10.0, timeout=0)
        ...     except jido.ExecutionError as e:
        ...         e.details["attempts"]
        6
    """
    previous = testing_flags.no_backoff
    testing_flags.no_backoff = True
    try:
        yield
    finally:
        testing_flags.no_backoff = previous


@contextlib.contextmanager
def run_context(
    action: str = "test",
    *,
    context: Mapping[Any, Any] | None = None,
    run_id: str = "test-run",
    attempt: int = 1,
    max_attempts: int = 1,
    deadline: float | None = None,
) -> Iterator[RunContext]:
    """Pretend an action is running: ``jido.current()`` returns the yielded RunContext.

    Cancel it with ``ctx.token.cancel(jido.CancelReason.CALLER)`` to test how code
    reacts to cancellation.

    Args:
        action: the action name ``jido.current().action`` reports.
        context: the run's context values.
        run_id: the run id it reports.
        attempt: the attempt number it reports.
        max_attempts: the number of attempts the run may make.
        deadline: a ``time.monotonic()`` deadline for the attempt (None: none).

    Example:
        >>> import jido, jido.testing
        >>> def helper() -> str:                  # code an action calls
        ...     run = jido.current()
        ...     run.check()
        ...     return run.context["tenant"]
        >>> with jido.testing.run_context(context={"tenant": "acme"}) as ctx:
        ...     helper()
        ...     cancelled = ctx.token.cancel(jido.CancelReason.CALLER)
        ...     try:
        ...         helper()
        ...     except jido.Interrupted as stop:
        ...         stop.reason
        'acme'
        <CancelReason.CALLER: 'caller'>
    """
    values = context if isinstance(context, dict) else dict(context or {})
    ctx = RunContext(action, run_id, attempt, max_attempts, deadline, values, Token())
    reset = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(reset)


def call(action: object, params: object = None, context: object = None) -> dict[str, Any]:
    """Validate ``params`` and call the action's ``run`` once, here, in a fake run context.

    Exceptions raised by the action propagate unchanged (they are not wrapped), so a
    test can assert on them directly. Async actions are run with ``asyncio.run``.

    Args:
        action: an ``Action`` subclass or a ``@jido.action`` function.
        params: the action's input, validated (and coerced) by its schema.
        context: the context it receives.

    Returns:
        The action's result, checked against its output schema.

    Example:
        >>> import jido, jido.testing
        >>> @jido.action
        ... def half(value: int) -> dict:
        ...     if value % 2:
        ...         raise ValueError("odd")
        ...     return {"value": value // 2}
        >>> jido.testing.call(half, {"value": "8"})
        {'value': 4}
        >>> jido.testing.call(half, {"value": 3})
        Traceback (most recent call last):
        ...
        ValueError: odd
    """
    spec = spec_of(action)
    instance = spec.make_instance()
    checked = spec.validate_params(instance, normalize_params(params))
    ctx = normalize_context(context)
    with run_context(spec.name, context=ctx):
        result = spec.invoke(instance, checked, ctx)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return spec.finish(instance, result)
