"""The one cancellation mechanism: a token that records *why* work must stop.

A timeout is a cancellation whose reason is ``TIMEOUT``. Whoever cancels a token
also triggers the enforcement registered on it: cancelling an asyncio task,
raising an :class:`Interrupted` into a worker thread, signalling a child process.
Code inside an action reads the same token through ``jido.current()``.
"""

from __future__ import annotations

import ctypes
import enum
import threading
import time
from collections.abc import Callable

from jido._core.clock import MAX_WAIT, deadline_after, wait_slice

__all__ = ["CancelReason", "Interrupted", "Token", "clear_interrupt", "inject_interrupt"]


class CancelReason(enum.Enum):
    """Why a run or an attempt was told to stop.

    ``jido.current().cancel_reason`` and a ``jido.CancelledError``'s
    ``details["reason"]`` carry it (the latter as its string value).
    """

    CALLER = "caller"
    """``cancel()`` was called on the run's handle."""
    TIMEOUT = "timeout"
    """The attempt's timeout, the run's deadline or an ``await_`` timeout expired."""
    SHUTDOWN = "shutdown"
    """The runtime that owns the run is shutting down."""
    PARENT = "parent"
    """The action that started this run was itself cancelled."""


class Interrupted(BaseException):
    """Raised inside a running sync action when it must stop.

    ``jido.current().check()`` and ``jido.current().sleep()`` raise it cooperatively; jido
    also raises it into a worker thread at the next Python bytecode when the action
    does not stop by itself. It derives from ``BaseException`` so that
    ``except Exception`` in action code does not swallow it; ``finally`` blocks run.

    Attributes:
        reason: why the action must stop (a :class:`CancelReason`).

    Example:
        >>> import jido
        >>> @jido.action
        ... def careful() -> dict:
        ...     try:
        ...         jido.current().sleep(10.0)
        ...     finally:
        ...         cleaned.append(True)           # runs when the action is stopped
        ...     return {}
        >>> cleaned = []
        >>> try:
        ...     jido.run(careful, timeout=0.1, max_retries=0)
        ... except jido.TimeoutError:
        ...     cleaned
        [True]
    """

    def __init__(self, reason: CancelReason | None = None) -> None:
        super().__init__(reason.value if reason else "interrupted")
        self.reason = reason


class _Injected(Interrupted):
    """The variant jido raises asynchronously into a thread (built with no arguments)."""


_cancel_lock = threading.Lock()


class Token:
    """A one-shot cancellation flag with a reason, callbacks and an interruptible wait."""

    __slots__ = ("_callbacks", "_event", "observed", "reason")

    def __init__(self) -> None:
        self.reason: CancelReason | None = None
        self.observed = False
        """Set once the work has seen the cancellation (it is stopping by itself)."""
        self._callbacks: (
            Callable[[CancelReason], None] | list[Callable[[CancelReason], None]] | None
        )
        self._callbacks = None  # one callback, or a list when there are several
        self._event: threading.Event | None = None

    @property
    def cancelled(self) -> bool:
        return self.reason is not None

    def cancel(self, reason: CancelReason) -> bool:
        """Cancel with ``reason``; the first call wins. Returns True if this call cancelled."""
        with _cancel_lock:
            if self.reason is not None:
                return False
            self.reason = reason
            callbacks, self._callbacks = self._callbacks, None
            event = self._event
        if event is not None:
            event.set()
        if isinstance(callbacks, list):
            # children first (depth first): by the time any work is stopped, every
            # nested run under it already knows it stops because of its parent
            for callback in callbacks:
                if type(callback) is _Propagate:
                    callback(reason)
            for callback in callbacks:
                if type(callback) is not _Propagate:
                    callback(reason)
        elif callbacks is not None:
            callbacks(reason)
        return True

    def on_cancel(self, callback: Callable[[CancelReason], None]) -> None:
        """Call ``callback(reason)`` on cancellation (at once if already cancelled)."""
        with _cancel_lock:
            reason = self.reason
            if reason is None:
                current = self._callbacks
                if current is None:
                    self._callbacks = callback
                elif isinstance(current, list):
                    current.append(callback)
                else:
                    self._callbacks = [current, callback]
                return
        callback(reason)

    def remove_callback(self, callback: Callable[[CancelReason], None]) -> None:
        with _cancel_lock:
            current = self._callbacks
            if current is callback:
                self._callbacks = None
            elif isinstance(current, list) and callback in current:
                current.remove(callback)

    def link_child(self, child: Token) -> Callable[[CancelReason], None]:
        """Cancel ``child`` with ``PARENT`` when this token is cancelled; returns the callback.

        Children are cancelled before this token's other callbacks run.
        """
        propagate = _Propagate(child)
        self.on_cancel(propagate)
        return propagate

    def check(self) -> None:
        """Raise :class:`Interrupted` if cancelled."""
        if self.reason is not None:
            self.observed = True
            raise Interrupted(self.reason)

    def wait(self, timeout: float | None) -> bool:
        """Block up to ``timeout`` seconds (any length); True as soon as the token is cancelled."""
        if self.reason is not None:
            return True
        with _cancel_lock:
            if self._event is None:
                self._event = threading.Event()
                if self.reason is not None:
                    self._event.set()
            event = self._event
        if timeout is None:
            return event.wait()
        if timeout <= MAX_WAIT:
            return event.wait(timeout)
        end = deadline_after(time.monotonic(), timeout)
        while not event.wait(wait_slice(end - time.monotonic())):
            if time.monotonic() >= end:
                return False
        return True


class _Propagate:
    """The callback that cancels a child token with ``PARENT``."""

    __slots__ = ("child",)

    def __init__(self, child: Token) -> None:
        self.child = child

    def __call__(self, _: CancelReason) -> None:
        self.child.cancel(CancelReason.PARENT)


def inject_interrupt(thread_id: int) -> bool:
    """Raise :class:`Interrupted` in thread ``thread_id`` at its next Python bytecode."""
    exc = ctypes.py_object(_Injected)
    return bool(ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), exc))


def clear_interrupt(thread_id: int) -> None:
    """Withdraw an injected interrupt that has not fired yet."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)
