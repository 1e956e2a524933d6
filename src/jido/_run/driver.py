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
from jido._core.errors import JidoError
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
            mechanism = value.mechanism if isinstance(value, Stopped) else self._late_stop()
            self._failed(att, self.call.stop_error(att.token.reason, True, mechanism, att.number))
        elif ok:
            self._unlink(att)
            self._finish(self.call.succeeded(att.number, value))
        else:
            error = value if isinstance(value, JidoError) else self.call.spec.wrap(value)
            self._failed(att, error)

    def _late_stop(self) -> str:
        """How an attempt that ended as it was being stopped is reported: work that sees
        its token stopped by itself; other work could only have been interrupted."""
        return "cooperative" if self.engine.observes_token else "interrupted"

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
