"""Drivers that take a prepared :class:`Call` through its attempts.

- :func:`run_inline`: a sync action in the caller's thread, no time limit.
- :class:`EngineRun`: attempts on an engine (worker threads, child processes, a
  cluster), event-driven: deadlines, stop escalation and retry delays are timers, so no
  thread is blocked while a run waits.
- the asyncio driver lives in ``aio.py``.

All of them ask :func:`~jido._private.policy.next_delay` what to do after a failure.
"""

from __future__ import annotations

import contextvars
import enum
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from jido._private.action import ActionSpec
from jido._private.attempt import call_sync, stop_error
from jido._private.cancel import CancelReason, Token
from jido._private.compensation import compensable, compensate_blocking, start_compensation
from jido._private.context import RunContext
from jido._private.errors import JidoError
from jido._private.options import RunOptions
from jido._private.policy import next_delay
from jido._private.ref import AsyncRef
from jido._private.threads import Outcome, Stopped

if TYPE_CHECKING:
    from jido._private.runtime import Runtime
    from jido._private.telemetry import Tracker

__all__ = ["AttemptHandle", "Call", "Engine", "EngineRun", "run_inline", "testing_flags"]


class testing_flags:
    no_backoff = False


class Call:
    """A validated run, ready for its attempts."""

    __slots__ = (
        "context",
        "ctx",
        "deadline",
        "instance",
        "opts",
        "params",
        "parent",
        "rng",
        "run_id",
        "runtime",
        "spec",
        "tracker",
    )

    def __init__(
        self,
        runtime: Runtime,
        spec: ActionSpec,
        instance: Any,
        params: dict[str, Any],
        context: dict[Any, Any],
        opts: RunOptions,
        run_id: str,
        deadline: float | None,
        parent: RunContext | None,
        tracker: Tracker | None,
    ) -> None:
        self.runtime = runtime
        self.spec = spec
        self.instance = instance
        self.params = params
        self.context = context
        self.opts = opts
        self.run_id = run_id
        self.deadline = deadline
        self.parent = parent
        self.tracker = tracker
        self.ctx: contextvars.Context | None = None
        self.rng: random.Random | None = None

    def attempt_deadline(self, now: float) -> float | None:
        timeout = self.opts.timeout
        if timeout is None:
            return self.deadline
        deadline = now + timeout
        return deadline if self.deadline is None or deadline < self.deadline else self.deadline

    def begin_attempt(
        self, attempt: int, deadline: float | None, token: Token | None
    ) -> RunContext:
        """The RunContext of a new attempt (and its start event)."""
        rctx = RunContext(
            self.spec.name,
            self.run_id,
            attempt,
            self.opts.retry.max_retries + 1,
            deadline,
            self.context,
            token,
        )
        tracker = self.tracker
        if tracker is not None:
            tracker.attempt_start(attempt)
            rctx._scope = tracker.scope()
            rctx._report = tracker.progress
        return rctx

    def succeeded(self, attempt: int, result: dict[str, Any]) -> dict[str, Any]:
        tracker = self.tracker
        if tracker is not None:
            tracker.attempt_stop(attempt, result, None)
            tracker.run_stop(result, None, attempt)
        return result

    def failed(self, attempt: int, error: JidoError, cancelled: bool = False) -> float | None:
        """Report a failed attempt; the delay before the next one, or None to give up."""
        tracker = self.tracker
        if tracker is not None:
            tracker.attempt_stop(attempt, None, error)
        if cancelled:
            return None
        policy = self.opts.retry
        if self.rng is None and policy.seed is not None:
            self.rng = policy.rng()
        delay = next_delay(policy, error, attempt, time.monotonic(), self.deadline, self.rng)
        if delay is not None:
            if testing_flags.no_backoff:
                delay = 0.0
            if tracker is not None:
                tracker.retry(attempt, delay, error)
        return delay

    def conclude(self, error: JidoError, attempts: int, compensated: JidoError | None) -> JidoError:
        """The error the run ends with: the compensation outcome if any, with the attempt count."""
        final = compensated or error
        final.details.setdefault("attempts", attempts)
        if self.tracker is not None:
            retries = self.opts.retry.max_retries
            exhausted = error.retryable and retries > 0 and attempts > retries
            self.tracker.run_stop(None, final, attempts, exhausted)
        return final

    def stop_error(
        self, reason: CancelReason | None, stopped: bool, mechanism: str, attempt: int
    ) -> JidoError:
        return stop_error(
            self.spec,
            self.opts.timeout,
            reason,
            stopped=stopped,
            mechanism=mechanism,
            attempt=attempt,
        )


# -- inline ---------------------------------------------------------------------------------------
def run_inline(call: Call) -> dict[str, Any]:
    """Attempts in the caller's thread (a sync action with no timeout)."""
    attempt = 0
    parent = call.parent
    while True:
        attempt += 1
        token = unlink = None
        if parent is not None:
            token = Token()
            unlink = parent.token.link_child(token)
        if call.tracker is None:
            retries = call.opts.retry.max_retries
            rctx = RunContext(
                call.spec.name,
                call.run_id,
                attempt,
                retries + 1,
                call.deadline,
                call.context,
                token,
            )
        else:
            rctx = call.begin_attempt(attempt, call.deadline, token)
        try:
            result = call_sync(call.spec, call.instance, call.params, call.context, rctx)
        except Stopped as stop:
            error = call.stop_error(rctx.cancel_reason, True, stop.mechanism, attempt)
        except JidoError as exc:
            error = exc
        else:
            return call.succeeded(attempt, result) if call.tracker is not None else result
        finally:
            if unlink is not None and parent is not None:
                parent.token.remove_callback(unlink)
        delay = call.failed(attempt, error)
        if delay is None:
            raise call.conclude(error, attempt, compensate_blocking(call, error))
        if delay and _sleep_cancelled(parent, delay):
            stopped = call.stop_error(CancelReason.PARENT, True, "not_started", attempt)
            raise call.conclude(stopped, attempt, None)


def _sleep_cancelled(parent: RunContext | None, delay: float) -> bool:
    if parent is None:
        time.sleep(delay)
        return False
    return parent.token.wait(delay)


# -- engines --------------------------------------------------------------------------------------
class AttemptHandle(Protocol):
    """How a driver stops an attempt an engine is running."""

    def interrupt(self) -> None:
        """Soft stop: raise into the work at its next bytecode, or send it a signal."""

    def kill(self) -> bool:
        """Hard stop; True if the work will certainly die (a process), False if impossible."""

    def abandon(self) -> bool:
        """Stop waiting for it; False if it has just finished (its outcome is on its way)."""


class Engine(Protocol):
    """Runs one attempt of a call somewhere and reports its outcome."""

    name: str
    observes_token: bool
    """True when the work sees the attempt's token at once (in-process threads): it then
    gets a short grace to stop by itself before it is interrupted."""

    def start(
        self, call: Call, rctx: RunContext, on_done: Callable[[Outcome], None]
    ) -> AttemptHandle:
        """Start the attempt; ``on_done((ok, value))`` is called exactly once, from any thread."""


class _Phase(enum.Enum):
    RUNNING = 0
    STOPPING = 1
    DONE = 2


class _Attempt:
    __slots__ = ("deadline", "handle", "number", "phase", "timer", "token", "unlink")

    def __init__(self, number: int, deadline: float | None) -> None:
        self.number = number
        self.deadline = deadline
        self.token = Token()
        self.phase = _Phase.RUNNING
        self.handle: AttemptHandle | None = None
        self.timer: Any = None
        self.unlink: Callable[[CancelReason], None] | None = None


class EngineRun:
    """Drives a run whose attempts execute on an engine; completes ``ref`` exactly once."""

    def __init__(self, call: Call, engine: Engine, ref: AsyncRef) -> None:
        self.call = call
        self.engine = engine
        self.ref = ref
        self.timers = call.runtime._timers
        self.stop_timeout = call.runtime.stop_timeout
        self._lock = threading.Lock()
        self._attempt: _Attempt | None = None
        self._count = 0
        self._delay_timer: Any = None
        self._reason: CancelReason | None = None
        self._finished = False
        call.ctx = contextvars.copy_context()

    # -- control ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._launch()

    def cancel(self, reason: CancelReason) -> None:
        with self._lock:
            if self._finished or self._reason is not None:
                return
            self._reason = reason
            att = self._attempt
            waiting = self._delay_timer
            self._delay_timer = None
        if waiting is not None:
            waiting.cancel()
            error = self.call.stop_error(reason, True, "not_started", self._count)
            self._finish_error(self.call.conclude(error, self._count, None))
        elif att is not None:
            att.token.cancel(reason)

    # -- attempts --------------------------------------------------------------------------------
    def _launch(self) -> None:
        call = self.call
        with self._lock:
            self._delay_timer = None
            if self._reason is not None or self._finished:
                return
            self._count += 1
            att = _Attempt(self._count, call.attempt_deadline(time.monotonic()))
            self._attempt = att
        if call.parent is not None:
            att.unlink = call.parent.token.link_child(att.token)
        rctx = call.begin_attempt(att.number, att.deadline, att.token)
        try:
            att.handle = self.engine.start(call, rctx, lambda outcome: self._done(att, outcome))
        except JidoError as exc:
            self._done(att, (False, exc))
            return
        att.token.on_cancel(lambda reason: self._stop(att))
        if att.deadline is not None:
            att.timer = self.timers.call_at(att.deadline, lambda: _expire(att.token))

    def _stop(self, att: _Attempt) -> None:
        with self._lock:
            if att.phase is not _Phase.RUNNING or att.handle is None:
                return
            att.phase = _Phase.STOPPING
        handle, grace = att.handle, self.stop_timeout / 5
        if self.engine.observes_token:  # a chance to stop by itself, then an interrupt
            self.timers.call_later(grace, lambda: self._interrupt(att, handle))
            self.timers.call_later(self.stop_timeout, lambda: self._escalate(att))
        else:  # it cannot see the token: interrupt now, kill soon after
            handle.interrupt()
            self.timers.call_later(grace, lambda: self._escalate(att))

    def _interrupt(self, att: _Attempt, handle: AttemptHandle) -> None:
        if att.phase is _Phase.STOPPING and not att.token.observed:
            handle.interrupt()

    def _escalate(self, att: _Attempt) -> None:
        if att.phase is not _Phase.STOPPING or att.handle is None:
            return
        wait = self.stop_timeout if att.handle.kill() else self.stop_timeout / 5
        self.timers.call_later(wait, lambda: self._abandon(att))

    def _abandon(self, att: _Attempt) -> None:
        if att.phase is not _Phase.STOPPING or att.handle is None or not att.handle.abandon():
            return
        with self._lock:
            if att.phase is not _Phase.STOPPING:
                return
            att.phase = _Phase.DONE
        self._failed(att, self.call.stop_error(att.token.reason, False, "abandoned", att.number))

    def _done(self, att: _Attempt, outcome: Outcome) -> None:
        with self._lock:
            phase = att.phase
            if phase is _Phase.DONE:
                return
            att.phase = _Phase.DONE
        if att.timer is not None:
            att.timer.cancel()
        ok, value = outcome
        if att.token.reason is not None:
            mechanism = value.mechanism if isinstance(value, Stopped) else "cooperative"
            self._failed(att, self.call.stop_error(att.token.reason, True, mechanism, att.number))
        elif ok:
            self._unlink(att)
            self._finish(self.call.succeeded(att.number, value))
        else:
            error = value if isinstance(value, JidoError) else self.call.spec.wrap(value)
            self._failed(att, error)

    def _failed(self, att: _Attempt, error: JidoError) -> None:
        self._unlink(att)
        delay = self.call.failed(att.number, error, cancelled=self._reason is not None)
        if delay is None:
            self._give_up(error)
            return
        with self._lock:
            if self._reason is not None:
                cancelled = True
            else:
                cancelled = False
                if delay:
                    self._delay_timer = self.timers.call_later(delay, self._launch)
        if cancelled:
            self._give_up(error)
        elif not delay:
            self._launch()

    def _unlink(self, att: _Attempt) -> None:
        parent = self.call.parent
        if att.unlink is not None and parent is not None:
            parent.token.remove_callback(att.unlink)
            att.unlink = None

    # -- the end ---------------------------------------------------------------------------------
    def _give_up(self, error: JidoError) -> None:
        call, count = self.call, self._count
        if not compensable(call, error):
            self._finish_error(call.conclude(error, count, None))
            return
        start_compensation(
            call, error, lambda done: self._finish_error(call.conclude(error, count, done))
        )

    def _finish(self, result: dict[str, Any]) -> None:
        with self._lock:
            self._finished = True
        self.ref._set_result(result)

    def _finish_error(self, error: JidoError) -> None:
        with self._lock:
            self._finished = True
        self.ref._set_error(error)


def _expire(token: Token) -> None:
    token.cancel(CancelReason.TIMEOUT)
