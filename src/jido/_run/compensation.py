"""Compensation: ``on_error`` once, after the final failed attempt, crash-contained.

It runs with its own timeout (``compensation_timeout`` or the action's), never the
run's, on a worker thread (sync ``on_error``) or the runtime's event loop (async), and
its outcome lands in the raised error's details.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jido._action.action import ActionSpec, describe
from jido._core.errors import CancelledError, CompensationError, JidoError, TimeoutError
from jido._run.blocking import lender
from jido._run.outcome import Stopped

if TYPE_CHECKING:
    from jido._run.call import Call

__all__ = ["compensable", "compensate_blocking", "start_compensation"]


def compensable(call: Call, error: JidoError) -> bool:
    """Compensation runs for failures of the action, not for timeouts or cancellations."""
    return call.spec.has_on_error and not isinstance(error, TimeoutError | CancelledError)


def compensate_blocking(call: Call, error: JidoError) -> JidoError | None:
    """Run compensation (if any) and wait for its outcome."""
    if not compensable(call, error):
        return None
    box: list[JidoError] = []
    done = threading.Event()

    def finished(result: JidoError) -> None:
        box.append(result)
        done.set()

    start_compensation(call, error, finished)
    pool = lender()
    if pool is not None:  # a nested inline run on a worker: lend the slot while waiting
        pool.block()
    try:
        done.wait()
    finally:
        if pool is not None:
            pool.unblock()
    return box[0]


def start_compensation(
    call: Call, error: JidoError, on_result: Callable[[JidoError], None]
) -> None:
    """Run ``on_error`` once, crash-contained, under its own timeout; report the final error."""
    spec = call.spec
    timeout = call.opts.compensation_timeout or spec.compensation_timeout
    method = getattr(call.instance, "on_error")  # noqa: B009 - the hook is looked up dynamically
    settled = threading.Lock()
    timer: list[Any] = []

    tracker = call.tracker
    if tracker is not None:
        tracker.compensation_start(error)

    def report(ok: bool, value: Any) -> None:
        if settled.acquire(blocking=False):
            if timer:
                timer[0].cancel()
            outcome = _compensation_outcome(spec, error, timeout, ok, value)
            if tracker is not None:
                tracker.compensation_stop(outcome)
            on_result(outcome)

    def run() -> Any:
        return method(call.params, error, call.context)

    try:
        if spec.is_async_on_error:
            loop = call.runtime._loop()
            loop.compensate(method, call.params, error, call.context, timeout, report)
            return
        job = call.runtime._pool.submit(run, lambda outcome: report(*outcome), context=call.ctx)
    except JidoError as exc:  # the runtime was shut down meanwhile
        report(False, exc)
        return

    def expire() -> None:
        report(False, Stopped("timeout"))
        job.interrupt()
        job.abandon()

    timer.append(call.runtime._timers.call_later(timeout, expire, lambda lost: report(False, lost)))


def _compensation_outcome(
    spec: ActionSpec, error: JidoError, timeout: float, ok: bool, value: Any
) -> JidoError:
    if ok and isinstance(value, dict):
        error.details["compensation"] = {"compensated": True, "result": value}
        return error
    if ok:
        reason = f"on_error returned {type(value).__name__}, expected a dict"
    elif isinstance(value, Stopped) and value.mechanism == "timeout":
        reason = f"timed out after {timeout:g}s"
    else:
        reason = describe(value)
    failure = CompensationError(
        f"Compensation failed for: {error.message} ({reason})",
        details={
            "action": spec.name,
            "compensated": False,
            "compensation_error": reason,
            "original_error": error.to_dict(),
        },
    )
    failure.__cause__ = error
    return failure
