"""The module-level API: run, arun, run_async, await_, cancel on the default runtime."""

from __future__ import annotations

from typing import Any, Unpack

from jido._run.ref import AsyncRef, check_ref
from jido._runtime import default as _defaults
from jido._runtime.config import RunKwargs
from jido._runtime.default import default_runtime

__all__ = ["arun", "await_", "cancel", "run", "run_async"]


def run(
    action: object,
    /,
    params: object = None,
    context: object = None,
    *,
    run_id: str | None = None,
    **options: Unpack[RunKwargs],
) -> dict[str, Any]:
    """Run an action and return its result dict, or raise a :class:`jido.JidoError`.

    Params and context are normalized (a mapping, (key, value) pairs, a pydantic model
    for params, or None) and params are validated before the first attempt. A sync
    action with ``timeout=0``/``None`` runs inline in this thread; with a timeout it runs
    on a worker thread that is interrupted when the time is up; ``isolation="process"``
    runs it in a child process that is killed if it will not stop.

    Args:
        action: an ``Action`` subclass or a ``@jido.action`` function.
        params: the action's input.
        context: extra values for the action (a db session, a client, ...), passed as is.
        run_id: names the run (a non-empty string; default: a generated id). Telemetry
            events, ``jido.current().run_id`` and the AsyncRef carry it.
        **options: ``timeout`` (seconds per attempt, default 5.0), ``max_retries`` (1),
            ``backoff`` (1.0 s, doubling, capped by ``max_backoff`` 30 s), ``jitter``,
            ``total_timeout``, ``retry_on``, ``retry`` (a RetryPolicy), ``isolation``
            (``"thread"`` or ``"process"``), ``telemetry``, ``log_level``,
            ``compensation_timeout``.

    Example:
        >>> import jido
        >>> @jido.action
        ... def add(value: int, amount: int = 1) -> dict:
        ...     return {"value": value + amount}
        >>> jido.run(add, {"value": 5})
        {'value': 6}
        >>> try:
        ...     jido.run(add, {"value": "x"})
        ... except jido.ValidationError as e:
        ...     print(e.type, e.details["field"])
        validation_error value
    """
    runtime = _defaults._default
    if runtime is None or runtime._closed:
        runtime = default_runtime()
    return runtime.run(action, params, context, run_id=run_id, **options)


async def arun(
    action: object,
    /,
    params: object = None,
    context: object = None,
    *,
    run_id: str | None = None,
    **options: Unpack[RunKwargs],
) -> dict[str, Any]:
    """Like :func:`run`, awaited inside asyncio on the caller's event loop.

    An ``async def`` action runs in the calling task (cancelled at its next ``await``
    when it times out); a sync action runs on a worker thread, never blocking the loop.

    Example:
        >>> import asyncio, jido
        >>> @jido.action
        ... async def fetch(url: str) -> dict:
        ...     await asyncio.sleep(0)
        ...     return {"url": url, "status": 200}
        >>> asyncio.run(jido.arun(fetch, {"url": "https://example.org"}, timeout=1.0))
        {'url': 'https://example.org', 'status': 200}
    """
    return await default_runtime().arun(action, params, context, run_id=run_id, **options)


def run_async(
    action: object,
    /,
    params: object = None,
    context: object = None,
    *,
    run_id: str | None = None,
    **options: Unpack[RunKwargs],
) -> AsyncRef:
    """Start an action and return an :class:`AsyncRef` at once.

    Errors (validation included) are delivered when the handle is awaited. Inside a
    running event loop an async action runs as a task on that loop.

    Example:
        >>> import jido
        >>> @jido.action
        ... def square(x: int) -> dict:
        ...     return {"x": x * x}
        >>> ref = jido.run_async(square, {"x": 7})
        >>> jido.await_(ref)
        {'x': 49}
    """
    return default_runtime().run_async(action, params, context, run_id=run_id, **options)


def await_(ref: AsyncRef, timeout: float | None = 5.0) -> dict[str, Any]:
    """Wait for a run started with :func:`run_async` and return its result.

    If ``timeout`` seconds pass first, the run is cancelled (its work stopped) and a
    ``jido.TimeoutError`` is raised. After :func:`cancel`, raises ``jido.CancelledError``
    at once. Anything but an AsyncRef raises ``jido.InvalidAsyncRefError``.

    Args:
        ref: the handle :func:`run_async` returned.
        timeout: seconds to wait (None: as long as it takes).

    Raises:
        jido.JidoError: the run's own error; ``jido.TimeoutError`` when the wait timed
            out, ``jido.CancelledError`` for a cancelled run.

    Example:
        >>> import jido
        >>> @jido.action
        ... def slow() -> dict:
        ...     jido.current().sleep(10.0)
        ...     return {}
        >>> ref = jido.run_async(slow, timeout=30.0)
        >>> try:
        ...     jido.await_(ref, timeout=0.1)
        ... except jido.TimeoutError as e:
        ...     e.details["stopped"]
        True
    """
    return check_ref(ref).result(timeout)


def cancel(ref: AsyncRef) -> None:
    """Cancel a run started with :func:`run_async`; a no-op once it has finished.

    From a thread other than the run's event loop it returns once the work is confirmed
    stopped or abandoned (at most about ``2 * stop_timeout``), so a later :func:`await_`
    raises ``jido.CancelledError`` at once. Anything but an AsyncRef raises
    ``jido.InvalidAsyncRefError``.

    Example:
        >>> import jido
        >>> @jido.action
        ... def slow() -> dict:
        ...     jido.current().sleep(10.0)
        ...     return {}
        >>> ref = jido.run_async(slow, timeout=30.0)
        >>> jido.cancel(ref)
        >>> try:
        ...     jido.await_(ref)
        ... except jido.CancelledError as e:
        ...     e.details["reason"]
        'caller'
    """
    check_ref(ref).cancel()
