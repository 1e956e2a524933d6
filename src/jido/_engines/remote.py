"""Running an attempt in another process: what is sent, and the receiving side.

Shared by the process engine and cluster engines: the caller sends the action (by
reference), its validated params, the context, and the attempt's facts (run id,
attempt number, remaining time, trace context); the other side rebuilds the run
context, runs the attempt with the same code as in-process, and returns the outcome.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from jido._action.action import ActionSpec, spec_of
from jido._core.cancel import Token, _Injected
from jido._core.context import RunContext
from jido._core.errors import JidoError, ValidationError
from jido._run.attempt import TaskLink, call_async, call_sync
from jido._run.call import Call
from jido._run.outcome import Outcome, Stopped

__all__ = ["ACTIVE", "INTERRUPTIBLE", "make_payload", "serve", "unsendable"]

ACTIVE: Token | None = None
"""The token of the attempt this process is running (read by signal handlers)."""
INTERRUPTIBLE = True
"""Whether that attempt's action may be interrupted (``Action.interruptible``)."""

Payload = tuple[Any, dict[str, Any], dict[Any, Any], tuple[Any, ...]]


def make_payload(call: Call, rctx: RunContext) -> Payload:
    remaining = None if rctx.deadline is None else rctx.deadline - time.monotonic()
    carrier = rctx._scope.carrier() if rctx._scope is not None else None
    meta = (rctx.run_id, rctx.attempt, rctx.max_attempts, remaining, carrier, rctx.idempotency_key)
    return (call.spec.target, call.params, call.context, meta)


def unsendable(call: Call, where: str, exc: Exception) -> JidoError:
    return ValidationError(
        f"Action '{call.spec.name}' cannot run with {where}: its params and context must be "
        f"serializable and the action importable by module path ({exc})",
        details={"action": call.spec.name, "engine": where},
    )


def serve(payload: Payload) -> Outcome:
    """Run one attempt here; never raises (the outcome carries the error)."""
    global ACTIVE, INTERRUPTIBLE
    outcome: Outcome = (False, Stopped("interrupted"))
    try:
        target, params, context, (run_id, attempt, max_attempts, remaining, carrier, key) = payload
        spec = spec_of(target)
        token = Token()
        deadline = None if remaining is None else time.monotonic() + remaining
        rctx = RunContext(spec.name, run_id, attempt, max_attempts, deadline, context, token, key)
        if carrier:
            rctx._scope = _scope_from(carrier)
        ACTIVE, INTERRUPTIBLE = token, spec.interruptible
        try:
            outcome = (True, _attempt(spec, params, context, rctx))
        finally:
            ACTIVE = None
    except (_Injected, KeyboardInterrupt):  # SIGTERM here, or a cluster's soft cancel
        outcome = (False, Stopped("interrupted"))
    except BaseException as exc:
        outcome = (False, exc)
    return outcome


def _attempt(
    spec: ActionSpec, params: dict[str, Any], context: dict[Any, Any], rctx: RunContext
) -> dict[str, Any]:
    instance = spec.make_instance()
    if spec.is_async:
        return asyncio.run(_run_async(spec, instance, params, context, rctx))
    return call_sync(spec, instance, params, context, rctx)


async def _run_async(
    spec: ActionSpec,
    instance: Any,
    params: dict[str, Any],
    context: dict[Any, Any],
    rctx: RunContext,
) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    link = TaskLink(asyncio.get_running_loop(), task)
    return await call_async(spec, instance, params, context, rctx, link)


def _scope_from(carrier: dict[str, str]) -> Any:
    try:
        from jido._observe.otel import scope_from_carrier
    except ImportError:  # OpenTelemetry is not installed on this side
        return None
    return scope_from_carrier(carrier)
