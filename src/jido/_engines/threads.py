"""An elastic worker-thread pool whose jobs can be interrupted, and abandoned when they won't stop.

Interrupts are scoped: an exception is injected into a worker only while that worker
runs the job it was meant for, and a pending one is withdrawn when the job ends, so it
can never land in another job or in the pool's own code.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import functools
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any

from jido._core.cancel import Interrupted, _Injected, clear_interrupt, inject_interrupt
from jido._core.context import RunContext
from jido._run.attempt import call_sync
from jido._run.call import Call
from jido._run.engine import AttemptHandle
from jido._run.outcome import Outcome, Stopped, deliver

__all__ = ["ThreadEngine", "ThreadJob", "ThreadPool"]


class _State(enum.Enum):
    QUEUED = 0
    RUNNING = 1
    CANCELLED = 2
    DONE = 3


class ThreadJob:
    """A callable handed to the pool, and the handle used to interrupt it."""

    __slots__ = (
        "_abandoned",
        "_ctx",
        "_fn",
        "_injected",
        "_lock",
        "_on_done",
        "_pool",
        "_state",
        "_thread_id",
        "interruptible",
    )

    def __init__(
        self,
        pool: ThreadPool,
        fn: Callable[[], Any],
        on_done: Callable[[Outcome], None],
        interruptible: bool,
        context: contextvars.Context | None,
    ) -> None:
        self._pool = pool
        self._fn = fn
        self._on_done = on_done
        self._ctx = contextvars.copy_context() if context is None else context.copy()
        self._lock = threading.Lock()
        self._state = _State.QUEUED
        self._thread_id = 0
        self._injected = False
        self._abandoned = False
        self.interruptible = interruptible

    def interrupt(self) -> None:
        """Raise :class:`~jido.Interrupted` into the job (or drop it if it has not started)."""
        with self._lock:
            state = self._state
            if state is _State.QUEUED:
                self._state = _State.CANCELLED
            elif state is _State.RUNNING and self.interruptible and not self._injected:
                self._injected = inject_interrupt(self._thread_id)
        if state is _State.QUEUED:
            self._finish((False, Stopped("not_started")))

    def kill(self) -> bool:
        """Threads cannot be killed: interrupt once more and report False."""
        with self._lock:
            if self._state is _State.RUNNING and self.interruptible:
                self._injected = inject_interrupt(self._thread_id) or self._injected
        return False

    def abandon(self) -> bool:
        """Give up on a running job: its thread leaves the pool and exits when the job returns.

        Returns False when the job has already finished (its outcome is then delivered);
        after True, the outcome is never delivered.
        """
        with self._lock:
            if self._state is _State.DONE:
                return False
            self._abandoned = True
        self._pool._detach()
        return True

    # -- worker side ----------------------------------------------------------------------------
    def _run(self, thread_id: int) -> None:
        with self._lock:
            if self._state is not _State.QUEUED:
                return
            self._state = _State.RUNNING
            self._thread_id = thread_id
        outcome: Outcome = (False, Stopped("interrupted"))
        with contextlib.suppress(_Injected):  # landed after the job returned, before disarming
            outcome = self._ctx.run(_guarded, self._fn)
        if not self._disarm():
            self._finish(outcome)

    def _disarm(self) -> bool:
        """Mark the job done and withdraw a pending interrupt; True if it was abandoned."""
        while True:
            try:
                with self._lock:
                    self._state = _State.DONE
                    if self._injected:
                        clear_interrupt(self._thread_id)
                    return self._abandoned
            except _Injected:
                continue

    def _finish(self, outcome: Outcome) -> None:
        deliver(self._on_done, outcome)


def _guarded(fn: Callable[[], Any]) -> Outcome:
    try:
        return (True, fn())
    except _Injected:
        return (False, Stopped("interrupted"))
    except Interrupted:
        return (False, Stopped("cooperative"))
    except BaseException as exc:
        return (False, exc)


class ThreadPool:
    """Worker threads started on demand up to ``max_threads``; jobs queue beyond that."""

    def __init__(self, name: str, max_threads: int) -> None:
        self._name = name
        self._max = max_threads
        self._queue: SimpleQueue[ThreadJob | None] = SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._count = 0
        self._abandoned = 0
        self._closed = False

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Outcome], None],
        *,
        interruptible: bool = True,
        context: contextvars.Context | None = None,
    ) -> ThreadJob:
        """Run ``fn()`` on a worker in a copy of ``context`` (default: the caller's contextvars)."""
        job = ThreadJob(self, fn, on_done, interruptible, context)
        with self._lock:
            if self._closed:
                raise RuntimeError("thread pool is closed")
            spawn = self._idle == 0 and self._count < self._max
            if spawn:
                self._count += 1
            elif self._idle:
                self._idle -= 1
        self._queue.put(job)
        if spawn:
            threading.Thread(target=self._work, name=f"{self._name}-worker", daemon=True).start()
        return job

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"threads": self._count, "idle": self._idle, "abandoned": self._abandoned}

    def close(self) -> None:
        """Stop idle workers; busy ones exit after their job."""
        with self._lock:
            self._closed = True
            count = self._count
        for _ in range(count):
            self._queue.put(None)

    def _detach(self) -> None:
        with self._lock:
            self._count -= 1
            self._abandoned += 1

    def _work(self) -> None:
        thread_id = threading.get_ident()
        while True:
            job = self._queue.get()
            if job is None:
                with self._lock:
                    self._count -= 1
                return
            with contextlib.suppress(_Injected):  # defensive: a stray interrupt never kills us
                job._run(thread_id)
            if job._abandoned:
                with self._lock:
                    self._abandoned -= 1
                return
            with self._lock:
                if self._closed:
                    self._count -= 1
                    return
                self._idle += 1


class ThreadEngine:
    """Runs each attempt on a worker thread; stops it with the token, then an interrupt."""

    name = "thread"
    observes_token = True

    def __init__(self, pool: ThreadPool) -> None:
        self._pool = pool

    def start(
        self, call: Call, rctx: RunContext, on_done: Callable[[Outcome], None]
    ) -> AttemptHandle:
        spec = call.spec
        fn = functools.partial(call_sync, spec, call.instance, call.params, call.context, rctx)
        return self._pool.submit(fn, on_done, interruptible=spec.interruptible, context=call.ctx)
