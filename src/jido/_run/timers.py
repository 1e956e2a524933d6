"""One timer thread per runtime: attempt deadlines, stop escalation and retry delays."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

__all__ = ["TimerHandle", "Timers"]

log = logging.getLogger("jido")

_COMPACT_AT = 512


class TimerHandle:
    __slots__ = ("_timers", "callback", "when")

    def __init__(self, timers: Timers, when: float, callback: Callable[[], None]) -> None:
        self._timers = timers
        self.when = when
        self.callback: Callable[[], None] | None = callback

    def cancel(self) -> None:
        if self.callback is not None:
            self.callback = None
            self._timers._cancelled += 1  # approximate is fine: it only triggers compaction


class Timers:
    """A heap of monotonic deadlines served by one lazily started daemon thread.

    Callbacks run on the timer thread and must be short (they hand work elsewhere).
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._closed = False
        self._cancelled = 0

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` at ``when`` on the ``time.monotonic()`` clock."""
        handle = TimerHandle(self, when, callback)
        with self._cond:
            if self._closed:
                raise RuntimeError("timers are closed")
            if self._cancelled > _COMPACT_AT and 2 * self._cancelled > len(self._heap):
                self._compact()
            wake = not self._heap or when < self._heap[0][0]
            heapq.heappush(self._heap, (when, next(self._seq), handle))
            if self._thread is None:
                self._start()
            elif wake:
                self._cond.notify()
        return handle

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return self.call_at(time.monotonic() + delay, callback)

    def _compact(self) -> None:
        """Drop cancelled entries (deadlines of runs that finished long before them)."""
        self._heap = [entry for entry in self._heap if entry[2].callback is not None]
        heapq.heapify(self._heap)
        self._cancelled = 0

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"{self._name}-timers", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            due = self._next_due()
            if due is None:
                return
            for handle in due:
                callback = handle.callback
                if callback is None:
                    continue
                try:
                    callback()
                except Exception:  # pragma: no cover - a bug in jido; keep the timer alive
                    log.exception("jido timer callback failed")

    def _next_due(self) -> list[TimerHandle] | None:
        with self._cond:
            while True:
                if self._closed:
                    return None
                heap = self._heap
                if not heap:
                    self._cond.wait()
                    continue
                now = time.monotonic()
                if heap[0][0] > now:  # cancelled entries stay until due: no wake-up per run
                    self._cond.wait(heap[0][0] - now)
                    continue
                due = []
                while heap and heap[0][0] <= now:
                    handle = heapq.heappop(heap)[2]
                    if handle.callback is not None:
                        due.append(handle)
                    else:
                        self._cancelled -= 1
                if due:
                    return due
