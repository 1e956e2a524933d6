"""One supervised timer thread per runtime: attempt deadlines, stop escalation, retry delays.

Any deadline works, however far away: waits are cut into slices the clock accepts.
A callback that raises (a jido bug) fails the run that owns it, never the thread; if
the thread itself dies it is restarted over the same heap (see ``supervise.py``), and
the run whose callback was running fails with an ``internal_error``.

Only C-level locks are used (a mutex for the heap, a binary semaphore to wake the
thread), never a ``threading.Condition``: an exception raised into the thread at any
bytecode cannot leave a stale waiter behind and lose every later wake-up.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

from jido._core.clock import wait_slice
from jido._core.errors import InternalError, JidoError
from jido._run.supervise import CrashError, Supervisor

__all__ = ["Owner", "TimerHandle", "Timers"]

log = logging.getLogger("jido")

_COMPACT_AT = 512

Owner = Callable[[JidoError], None]
"""Fails the run a timer belongs to, when its callback cannot run."""


class TimerHandle:
    __slots__ = ("_timers", "callback", "owner", "when")

    def __init__(
        self, timers: Timers, when: float, callback: Callable[[], None], owner: Owner | None
    ) -> None:
        self._timers = timers
        self.when = when
        self.callback: Callable[[], None] | None = callback
        self.owner = owner

    def cancel(self) -> None:
        if self.callback is not None:
            self.callback = None
            self._timers._cancelled += 1  # approximate is fine: it only triggers compaction


class Timers:
    """A heap of monotonic deadlines served by one lazily started, supervised thread.

    Callbacks run on the timer thread and must be short (they hand work elsewhere).
    After :meth:`close` new timers are inert: the runtime is gone and nothing waits.
    """

    def __init__(self, name: str, supervisor: Supervisor | None = None) -> None:
        self._supervisor = supervisor or Supervisor(name)
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()
        self._mutex = threading.Lock()
        self._wake = threading.Lock()  # released = a wake-up is pending
        self._wake.acquire()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._cancelled = 0
        self._batch: list[TimerHandle] = []
        self._running: TimerHandle | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    def call_at(
        self, when: float, callback: Callable[[], None], owner: Owner | None = None
    ) -> TimerHandle:
        """Run ``callback`` at ``when`` on the ``time.monotonic()`` clock.

        ``owner(error)`` is told when the callback cannot run (it raised, or the thread
        died while running it).
        """
        handle = TimerHandle(self, when, callback, owner)
        with self._mutex:
            if self._closed:
                handle.callback = None
                return handle
            if self._cancelled > _COMPACT_AT and 2 * self._cancelled > len(self._heap):
                self._compact()
            wake = not self._heap or when < self._heap[0][0]
            heapq.heappush(self._heap, (when, next(self._seq), handle))
            if self._thread is None:
                self._start()
                return handle
        if wake:
            self._notify()
        return handle

    def _notify(self) -> None:
        with contextlib.suppress(RuntimeError):  # released already: a wake-up is pending
            self._wake.release()

    def call_later(
        self, delay: float, callback: Callable[[], None], owner: Owner | None = None
    ) -> TimerHandle:
        return self.call_at(time.monotonic() + delay, callback, owner)

    def _compact(self) -> None:
        """Drop cancelled entries (deadlines of runs that finished long before them)."""
        self._heap = [entry for entry in self._heap if entry[2].callback is not None]
        heapq.heapify(self._heap)
        self._cancelled = 0

    def close(self) -> None:
        with self._mutex:
            self._closed = True
            self._heap.clear()
        self._notify()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)

    def _start(self) -> None:
        self._thread = self._supervisor.spawn("timers", self._loop, self._crashed)

    def _loop(self) -> None:
        self._thread = threading.current_thread()
        while True:
            due = self._next_due()
            if due is None:
                return
            while due:
                handle = self._running = due[-1]  # running before it leaves the batch
                due.pop()
                callback = handle.callback
                if callback is not None:
                    try:
                        callback()
                    except BaseException as exc:
                        _lost(handle, exc)
                self._running = None

    def _crashed(self, crash: CrashError) -> bool:
        """The thread died: fail the run of the callback it was running, keep the rest."""
        lost, self._running = self._running, None
        if lost is not None and lost.owner is not None:
            lost.owner(crash())
        with self._mutex:
            for handle in self._batch:  # due but not yet run: run them on the new thread
                heapq.heappush(self._heap, (handle.when, next(self._seq), handle))
            self._batch = []
            self._thread = None
            if self._closed:
                return False
            self._thread = threading.current_thread()  # call_at must not start a second one
        return True

    def _next_due(self) -> list[TimerHandle] | None:
        """Wait until something is due; the batch of due timers, or None once closed."""
        while True:
            with self._mutex:
                if self._closed:
                    return None
                heap = self._heap
                now = time.monotonic()
                if heap and heap[0][0] <= now:
                    due = self._pop_due(now)
                    if due:
                        return due
                    continue  # only cancelled entries were due
                wait = heap[0][0] - now if heap else None
            # cancelled entries stay until due: no wake-up per finished run
            if wait is None:
                self._wake.acquire()
            else:
                self._wake.acquire(timeout=wait_slice(wait))

    def _pop_due(self, now: float) -> list[TimerHandle]:
        """Under the mutex: the live timers due at ``now``, in deadline order from the end."""
        heap, due = self._heap, []
        while heap and heap[0][0] <= now:
            handle = heapq.heappop(heap)[2]
            if handle.callback is not None:
                due.append(handle)
            else:
                self._cancelled -= 1
        due.reverse()  # run in deadline order, popping from the end
        self._batch = due  # held: put back in the heap if the thread dies
        return due


def _lost(handle: TimerHandle, exc: BaseException) -> None:
    """A callback raised: a jido bug. Log it and fail the run it belongs to."""
    log.error("jido timer callback failed", exc_info=exc)
    if handle.owner is None:
        return
    error = InternalError(
        f"jido lost track of this run: one of its timers failed ({type(exc).__name__})",
        details={"thread": "timers", "exception": type(exc).__qualname__},
    )
    error.__cause__ = exc
    try:
        handle.owner(error)
    except BaseException:  # pragma: no cover - the owner's failure path itself broke
        log.exception("jido could not fail the run of a broken timer")
