"""The event-driven driver: a run whose attempts execute on an engine.

Deadlines, stop escalation and retry delays are timers, so no thread is blocked while a
run waits. Every driver (this one, ``inline.py``, ``aio.py``) asks
:func:`~jido._core.policy.next_delay` (through :class:`~jido._run.call.Call`) what to do
after a failure.
"""

from __future__ import annotations

import contextvars
import enum
import threading
import time
from collections.abc import Callable
from typing import Any

from jido._core.cancel import CancelReason, Token
from jido._core.context import RunContext
from jido._core.errors import InternalError, JidoError
from jido._run.call import Call
from jido._run.compensation import compensable, start_compensation
from jido._run.engine import AttemptHandle, Engine
from jido._run.outcome import Outcome, Stopped
from jido._run.ref import AsyncRef

__all__ = ["EngineRun"]


class _Phase(enum.Enum):
    RUNNING = 0
    STOPPING = 1
    DONE = 2


class _Attempt:
    """One attempt of an :class:`EngineRun`, and the sink its engine reports to
    (see :class:`~jido._run.engine.AttemptSink`)."""

    __slots__ = (
        "deadline",
        "handle",
        "number",
        "phase",
        "queued",
        "rctx",
        "run",
        "timer",
        "token",
        "unlink",
    )

    def __init__(self, run: EngineRun, number: int) -> None:
        self.run = run
        self.number = number
        self.deadline: float | None = None
        self.token = Token()
        self.phase = _Phase.RUNNING
        self.queued = 0.0
        self.handle: AttemptHandle | None = None
        self.rctx: RunContext | None = None
        self.timer: Any = None
        self.unlink: Callable[[CancelReason], None] | None = None

    def __call__(self, outcome: Outcome) -> None:
        self.run._done(self, outcome)

    def started(self, waited: float) -> bool:
        """On the worker, before the action: the attempt's own timeout starts now.

        False if the attempt was stopped while it waited: it must not start.
        """
        self.queued = waited
        if self.token.reason is not None:
            return False
        run = self.run
        deadline = run.call.attempt_deadline(time.monotonic())
        if deadline is None or deadline == self.deadline:
            return True
        self.deadline = deadline
        assert self.rctx is not None
        self.rctx.deadline = deadline
        token = self.token
        earlier, self.timer = (
            self.timer,
            run.timers.call_at(deadline, lambda: _expire(token), run.crash),
        )
        if earlier is not None:  # the run's deadline is later: the attempt's comes first
            earlier.cancel()
        return True

    def fail(self, error: JidoError) -> None:
        self.run.crash(error)


class EngineRun:
    """Drives a run whose attempts execute on an engine; completes ``ref`` exactly once."""

    def __init__(self, call: Call, engine: Engine, ref: AsyncRef) -> None:
        self.call = call
        self.engine = engine
        self.ref = ref
        self.timers = call.runtime._timers
        self.stop_timeout = call.runtime.stop_timeout
        self._reports_start = bool(getattr(engine, "reports_start", False))
        self._lock = threading.Lock()
        self._attempt: _Attempt | None = None
        self._count = call.first_attempt - 1
        self._delay_timer: Any = None
        self._reason: CancelReason | None = None
        self._finished = False
        call.ctx = contextvars.copy_context()

    # -- control ---------------------------------------------------------------------------------
    def start(self) -> None:
        delay = self.call.resume_delay
        if delay:  # a resumed run keeps the retry schedule it had
            with self._lock:
                self._delay_timer = self.timers.call_later(delay, self._launch)
            return
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
            self._finish_error(self.call.stop_error(reason, True, "not_started", self._count), None)
        elif att is not None:
            att.token.cancel(reason)

    def crash(self, error: JidoError) -> None:
        """Fail the run at once with ``error`` (jido lost track of it), and stop its work."""
        with self._lock:
            if self.ref.done():
                return
            concluded, self._finished = self._finished, True
            self._reason = self._reason or CancelReason.SHUTDOWN
            att = self._attempt
            waiting, self._delay_timer = self._delay_timer, None
        if waiting is not None:
            waiting.cancel()
        try:
            if not concluded:
                self.call.conclude(error, self._count, None)
        finally:
            self.ref._set_error(error)
            if att is not None:
                att.token.cancel(CancelReason.SHUTDOWN)

    # -- attempts --------------------------------------------------------------------------------
    def _launch(self) -> None:
        call = self.call
        with self._lock:
            self._delay_timer = None
            if self._reason is not None or self._finished:
                return
            self._count += 1
            att = self._attempt = _Attempt(self, self._count)
        if self.timers._closed:  # a retry after the runtime shut down
            self._done(att, (False, Stopped("not_started")))
            return
        # an engine that reports the start gets the attempt's timeout then; until then
        # only the run's deadline (total_timeout, a parent's) bounds the wait for a worker
        if self._reports_start:
            att.deadline = call.deadline
        else:
            att.deadline = call.attempt_deadline(time.monotonic())
        if call.parent is not None:
            att.unlink = call.parent.token.link_child(att.token)
        rctx = att.rctx = call.begin_attempt(att.number, att.deadline, att.token)
        if att.deadline is not None:
            att.timer = self.timers.call_at(att.deadline, lambda: _expire(att.token), self.crash)
        try:
            att.handle = self.engine.start(call, rctx, att)
        except Exception as exc:
            self._done(att, (False, exc if isinstance(exc, JidoError) else _not_started(exc)))
            return
        att.token.on_cancel(lambda reason: self._stop(att))

    def _stop(self, att: _Attempt) -> None:
        with self._lock:
            if att.phase is not _Phase.RUNNING or att.handle is None:
                return
            att.phase = _Phase.STOPPING
        handle, grace, timers = att.handle, self.stop_timeout / 5, self.timers
        if self.engine.observes_token:  # a chance to stop by itself, then an interrupt
            timers.call_later(grace, lambda: self._interrupt(att, handle), self.crash)
            timers.call_later(self.stop_timeout, lambda: self._escalate(att), self.crash)
        else:  # it cannot see the token: interrupt now, kill soon after
            handle.interrupt()
            timers.call_later(grace, lambda: self._escalate(att), self.crash)

    def _interrupt(self, att: _Attempt, handle: AttemptHandle) -> None:
        if att.phase is _Phase.STOPPING and not att.token.observed:
            handle.interrupt()

    def _escalate(self, att: _Attempt) -> None:
        if att.phase is not _Phase.STOPPING or att.handle is None:
            return
        wait = self.stop_timeout if att.handle.kill() else self.stop_timeout / 5
        self.timers.call_later(wait, lambda: self._abandon(att), self.crash)

    def _abandon(self, att: _Attempt) -> None:
        if att.phase is not _Phase.STOPPING or att.handle is None or not att.handle.abandon():
            return
        with self._lock:
            if att.phase is not _Phase.STOPPING:
                return
            att.phase = _Phase.DONE
        self._failed(att, self._stop_error(att, att.token.reason, False, "abandoned"))

    def _done(self, att: _Attempt, outcome: Outcome) -> None:
        with self._lock:
            if att.phase is _Phase.DONE:
                return
            att.phase = _Phase.DONE
        if att.timer is not None:
            att.timer.cancel()
        ok, value = outcome
        reason = att.token.reason
        stopped = not ok and isinstance(value, Stopped)
        if reason is None and stopped and value.mechanism == "not_started":
            reason = CancelReason.SHUTDOWN  # the engine dropped it unasked: it was shut down
        if reason is not None:
            mechanism = value.mechanism if stopped else self._late_stop()
            if stopped and value.waited:
                att.queued = value.waited
            self._failed(att, self._stop_error(att, reason, True, mechanism))
        elif ok:
            self._unlink(att)
            if not self._finished:
                self._finish(self.call.succeeded(att.number, value, att.queued))
        else:
            error = value if isinstance(value, JidoError) else self.call.spec.wrap(value)
            self._failed(att, error)

    def _stop_error(
        self, att: _Attempt, reason: CancelReason | None, stopped: bool, mechanism: str
    ) -> JidoError:
        error = self.call.stop_error(reason, stopped, mechanism, att.number)
        if mechanism == "not_started" and reason is CancelReason.TIMEOUT:
            error.message = (
                f"Action '{self.call.spec.name}' was not started: its run deadline passed "
                "while it waited for a free worker"
            )
            error.args = (error.message,)
        return error

    def _late_stop(self) -> str:
        """How an attempt that ended as it was being stopped is reported: work that sees
        its token stopped by itself; other work could only have been interrupted."""
        return "cooperative" if self.engine.observes_token else "interrupted"

    def _failed(self, att: _Attempt, error: JidoError) -> None:
        self._unlink(att)
        if self._finished:
            return
        delay, error = self.call.failed(
            att.number, error, cancelled=self._reason is not None, queued=att.queued
        )
        if delay is None:
            self._give_up(error)
            return
        with self._lock:
            if self._reason is not None:
                cancelled = True
            else:
                cancelled = False
                if delay:
                    self._delay_timer = self.timers.call_later(delay, self._launch, self.crash)
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
        if not compensable(self.call, error):
            self._finish_error(error, None)
            return
        start_compensation(self.call, error, lambda done: self._finish_error(error, done))

    def _finish(self, result: dict[str, Any]) -> None:
        with self._lock:
            self._finished = True
        self.ref._set_result(result)

    def _finish_error(self, error: JidoError, compensated: JidoError | None) -> None:
        with self._lock:
            if self._finished:
                return
            self._finished = True
        self.ref._set_error(self.call.conclude(error, self._count, compensated))


def _expire(token: Token) -> None:
    token.cancel(CancelReason.TIMEOUT)


def _not_started(exc: Exception) -> InternalError:
    error = InternalError(
        f"the engine could not start the attempt ({type(exc).__name__})",
        details={"exception": type(exc).__qualname__},
    )
    error.__cause__ = exc
    return error
