"""One attempt of an action, and the errors that describe a stopped attempt.

``call_sync`` is used by every sync execution (inline, worker thread, child process);
``call_async`` by every async one. Both raise :class:`Stopped` when the attempt's
token was cancelled, and the driver turns that into a timeout or cancelled error.
``call_sync`` lets a ``BaseException`` that is not an ``Exception`` through (inline it
propagates as Python would; a worker thread turns it into the run's error);
``call_async`` turns it into a non-retryable ``execution_error`` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from jido._action.action import ActionSpec
from jido._core.cancel import CancelReason, Interrupted, _Injected
from jido._core.context import _CURRENT, RunContext
from jido._core.errors import CancelledError, JidoError, TimeoutError
from jido._run.outcome import Stopped

__all__ = ["TaskLink", "call_async", "call_sync", "stop_error"]


def call_sync(
    spec: ActionSpec,
    instance: Any,
    params: dict[str, Any],
    context: dict[Any, Any],
    rctx: RunContext,
) -> dict[str, Any]:
    """Run a sync action once in this thread; returns its result or raises a JidoError/Stopped."""
    reset = _CURRENT.set(rctx)
    scope = rctx._scope
    entered = scope.enter() if scope is not None else None
    try:
        result = spec.invoke(instance, params, context)
        return (
            result if spec.plain_result and type(result) is dict else spec.finish(instance, result)
        )
    except Interrupted as exc:
        if not rctx.cancelled:
            raise  # an enclosing run's interrupt: not ours to handle
        raise Stopped("interrupted" if type(exc) is _Injected else "cooperative") from None
    except JidoError:
        if rctx.cancelled:
            raise Stopped("cooperative") from None
        raise
    except Exception as exc:
        if rctx.cancelled:
            raise Stopped("cooperative") from exc
        raise spec.wrap(exc) from exc
    finally:
        if scope is not None:
            scope.exit(entered)
        _CURRENT.reset(reset)


class TaskLink:
    """Cancels an asyncio task when a token is cancelled, but only while the task waits in jido.

    ``active`` is true only while the task is suspended inside a jido-controlled ``await``
    (the action's body, a retry delay), so a late cancellation can never land elsewhere.
    """

    __slots__ = ("active", "fired", "loop", "task", "thread_id")

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
        self.loop = loop
        self.task = task
        self.thread_id = threading.get_ident()
        self.active = False
        self.fired = False

    def __call__(self, _reason: CancelReason) -> None:
        if threading.get_ident() == self.thread_id:
            self._fire()
        else:
            with contextlib.suppress(RuntimeError):  # a closed loop has nothing left to cancel
                self.loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        if self.active and not self.fired:
            self.fired = True
            self.task.cancel()

    def settle(self) -> bool:
        """End an active stretch; True if it was cut short by our cancellation (uncancelled)."""
        self.active = False
        if self.fired:
            self.fired = False
            self.task.uncancel()
            return True
        return False


async def call_async(
    spec: ActionSpec,
    instance: Any,
    params: dict[str, Any],
    context: dict[Any, Any],
    rctx: RunContext,
    link: TaskLink,
) -> dict[str, Any]:
    """Run an async action once in the current task, under its deadline and token."""
    token = rctx.token
    if token.reason is not None:
        raise Stopped("not_started")
    timer = None
    if rctx.deadline is not None:
        timer = link.loop.call_at(rctx.deadline, token.cancel, CancelReason.TIMEOUT)
    link.active = True
    token.on_cancel(link)
    reset = _CURRENT.set(rctx)
    scope = rctx._scope
    entered = scope.enter() if scope is not None else None
    outer = link.task.cancelling()
    try:
        result = await spec.invoke(instance, params, context)
    except asyncio.CancelledError:
        if not link.settle() or link.task.cancelling() > outer:
            raise  # someone else cancelled the caller's task: never swallow that
        raise Stopped("cancelled") from None
    except Interrupted:
        if link.settle() or token.reason is not None:
            raise Stopped("cooperative") from None
        raise
    except JidoError:
        if link.settle() or token.reason is not None:
            raise Stopped("cooperative") from None
        raise
    except Exception as exc:
        if link.settle() or token.reason is not None:
            raise Stopped("cooperative") from exc
        raise spec.wrap(exc) from exc
    except BaseException as exc:  # SystemExit, KeyboardInterrupt, GeneratorExit
        if not _raised_by_action(link):
            raise  # the coroutine is being closed from outside: let it close
        if link.settle() or token.reason is not None:
            raise Stopped("cooperative") from exc
        raise spec.wrap(exc) from exc  # not retried; the loop and the caller carry on
    finally:
        if scope is not None:
            scope.exit(entered)
        _CURRENT.reset(reset)
        if timer is not None:
            timer.cancel()
    if link.settle() or token.reason is not None:
        raise Stopped("cooperative")
    return spec.finish(instance, result)


def _raised_by_action(link: TaskLink) -> bool:
    """True while the run's task is being stepped (not closed by the garbage collector)."""
    try:
        return asyncio.current_task() is link.task
    except RuntimeError:  # no running loop: a close() from outside
        return False


def stop_error(
    spec: ActionSpec,
    timeout: float | None,
    reason: CancelReason | None,
    *,
    stopped: bool,
    mechanism: str,
    attempt: int,
) -> JidoError:
    """The error for an attempt that was stopped: a TimeoutError or a CancelledError.

    ``details["stopped"]`` is True when the work was confirmed stopped, False when it
    was abandoned still running; ``details["stop"]`` names how it stopped.
    """
    details: dict[str, Any] = {
        "action": spec.name,
        "attempt": attempt,
        "stopped": stopped,
        "stop": mechanism,
    }
    if reason is CancelReason.TIMEOUT or reason is None:
        details["timeout"] = timeout
        if timeout:
            message = f"Action '{spec.name}' timed out after {timeout:g}s"
        else:
            message = f"Action '{spec.name}' ran past its deadline"
        return TimeoutError(message, details=details)
    details["reason"] = reason.value
    return CancelledError(f"Action '{spec.name}' was cancelled ({reason.value})", details=details)
