"""Supervision of a runtime's own threads: what dies is restarted, what it held fails.

One mechanism serves the timer thread, the event loop thread and every worker thread:
each runs its body through :meth:`Supervisor.spawn`. Nothing user code raises can reach
a body (drivers turn every exception of an action, hook, predicate or handler into an
outcome), so a body that dies has met a bug in jido or an exception raised into its
thread from outside. The supervisor then logs it, hands the owner a factory of
:class:`~jido.InternalError` naming the thread and the cause (the owner fails the runs
whose work was lost with the thread, one fresh error each), and, when the owner asks,
runs the body again on a new thread. A body that keeps dying is restarted after a
growing pause (at most :data:`MAX_PAUSE`), never in a busy loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Final

from jido._action.action import describe
from jido._core.errors import InternalError

__all__ = ["MAX_PAUSE", "CrashError", "Supervisor"]

log = logging.getLogger("jido")

MAX_PAUSE: Final = 0.25
"""The longest pause before restarting a thread that keeps dying (seconds)."""

_QUICK: Final = 1.0
"""A crash within this many seconds of the previous restart counts as a repeat."""

CrashError = Callable[[], InternalError]
"""Builds the error for one run that a dead thread held (a fresh one per run)."""


class Supervisor:
    """Starts a runtime's threads and restarts them when they die.

    Args:
        name: the runtime's name, used in thread names and messages.

    Example:
        >>> sup = Supervisor("demo")
        >>> done = threading.Event()
        >>> _ = sup.spawn("worker", done.set, lambda crash: False)
        >>> done.wait(1.0), sup.restarts
        (True, 0)
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.restarts = 0
        self._lock = threading.Lock()
        self._last = 0.0
        self._streak = 0

    def spawn(
        self, role: str, body: Callable[[], None], on_crash: Callable[[CrashError], bool]
    ) -> threading.Thread:
        """Run ``body()`` on a new daemon thread under supervision.

        If ``body`` raises, ``on_crash(make_error)`` fails what the thread held and
        returns True to have ``body`` started again on a fresh thread.
        """
        thread = threading.Thread(
            target=self._main, args=(role, body, on_crash), name=f"{self.name}-{role}", daemon=True
        )
        thread.start()
        return thread

    def _main(
        self, role: str, body: Callable[[], None], on_crash: Callable[[CrashError], bool]
    ) -> None:
        try:
            body()
            return
        except BaseException as exc:
            cause = exc
        log.error(
            "jido runtime %r: its %s thread died (%s); restarting it",
            self.name,
            role,
            describe(cause),
            exc_info=cause,
        )
        try:
            restart = on_crash(lambda: _crash_error(self.name, role, cause))
        except BaseException:  # pragma: no cover - a bug in the owner's crash handler
            log.exception("jido runtime %r: its %s crash handler broke", self.name, role)
            restart = True
        if restart:
            time.sleep(self._pause())
            self.spawn(role, body, on_crash)

    def _pause(self) -> float:
        """0 for an isolated crash; a doubling pause for a thread that keeps dying."""
        with self._lock:
            now = time.monotonic()
            self._streak = self._streak + 1 if now - self._last < _QUICK else 0
            self._last = now
            self.restarts += 1
            return 0.0 if self._streak < 2 else min(MAX_PAUSE, 0.01 * 2**self._streak)


def _crash_error(runtime: str, role: str, cause: BaseException) -> InternalError:
    error = InternalError(
        f"jido runtime {runtime!r} lost this run: its {role} thread died ({describe(cause)}) "
        "and was restarted",
        details={"thread": role, "exception": type(cause).__qualname__},
    )
    error.__cause__ = cause
    return error
