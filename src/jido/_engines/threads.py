"""An elastic, supervised worker-thread pool whose jobs can be interrupted and abandoned.

Interrupts are scoped: an exception is injected into a worker only while that worker
runs the job it was meant for, and a pending one is withdrawn when the job ends, so it
can never land in another job or in the pool's own code.

Accounting, all under one lock: ``count`` live workers (abandoned ones leave the
count at once, and a replacement starts if work is waiting), ``idle`` workers waiting
for a wake-up with none sent to them, the queued jobs, and ``lent`` workers blocked in
a jido wait (see ``_run/blocking.py``): the pool may run ``max_threads + lent``
workers, so a parent waiting for its nested run lends the slot that run needs. Jobs of
nested runs that must wait go to ``urgent``, served before the others. A worker that
dies is restarted by the runtime's supervisor; the job it held fails with an
``internal_error``, a job it had taken but not started is run by its successor.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import enum
import functools
import threading
import time
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any

from jido._core.cancel import Interrupted, _Injected, clear_interrupt, inject_interrupt
from jido._core.context import RunContext
from jido._core.errors import CancelledError
from jido._run.attempt import call_sync
from jido._run.blocking import set_lender
from jido._run.call import Call
from jido._run.engine import AttemptHandle, AttemptSink
from jido._run.outcome import Outcome, Stopped, deliver
from jido._run.supervise import CrashError, Supervisor

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
        "_delivered",
        "_fn",
        "_injected",
        "_lock",
        "_on_done",
        "_on_start",
        "_pool",
        "_queued_at",
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
        on_start: Callable[[float], bool] | None = None,
    ) -> None:
        self._pool = pool
        self._fn = fn
        self._on_done = on_done
        self._on_start = on_start
        self._ctx = contextvars.copy_context() if context is None else context.copy()
        self._lock = threading.Lock()
        self._state = _State.QUEUED
        self._thread_id = 0
        self._injected = False
        self._abandoned = False
        self._delivered = False
        self._queued_at = 0.0
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
            waited = time.monotonic() - self._queued_at if self._queued_at else 0.0
            self._finish((False, Stopped("not_started", waited)))

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
            state = self._state
            if state is _State.QUEUED:  # never started: drop it, no thread to give up
                self._state = _State.CANCELLED
                return True
            if state is not _State.RUNNING:  # finished, or dropped (its outcome delivered)
                return False
            self._abandoned = True
        self._pool._detach()
        return True

    # -- worker side ----------------------------------------------------------------------------
    def _run(self, thread_id: int) -> None:
        """Run the job in this thread and deliver its outcome."""
        outcome = self._execute(thread_id)
        if outcome is not None:
            self._finish(outcome)

    def _execute(self, thread_id: int) -> Outcome | None:
        """Run the job in this thread; its outcome to deliver (None: not run, or abandoned)."""
        with self._lock:
            if self._state is not _State.QUEUED:
                return None
            self._state = _State.RUNNING
            self._thread_id = thread_id
        outcome: Outcome = (False, Stopped("interrupted"))
        with contextlib.suppress(_Injected):  # landed after the job returned, before disarming
            start = self._on_start
            waited = time.monotonic() - self._queued_at if self._queued_at else 0.0
            if start is not None and not start(waited):
                outcome = (False, Stopped("not_started", waited))  # stopped while it waited
            else:
                outcome = self._ctx.run(_guarded, self._fn)
        return None if self._disarm() else outcome

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
        self._delivered = True
        deliver(self._on_done, outcome)

    def _crashed(self, crash: CrashError) -> None:
        """The worker died holding this job: its run fails with an ``internal_error``."""
        if self._disarm() or self._delivered:
            return
        self._finish((False, crash()))


def _guarded(fn: Callable[[], Any]) -> Outcome:
    try:
        return (True, fn())
    except _Injected:
        return (False, Stopped("interrupted"))
    except Interrupted:
        return (False, Stopped("cooperative"))
    except BaseException as exc:
        return (False, exc)


class _Worker:
    """What one worker holds; kept across a restart of its thread.

    ``job``: the job it runs, or runs next (taken from a queue, not started yet);
    ``waiting``: it waits for a wake-up token; ``finishing``: the job that has run and
    its outcome, until delivered; ``leaving``: it has left the pool (never restarted).
    """

    __slots__ = ("finishing", "job", "leaving", "waiting")

    def __init__(self, job: ThreadJob | None) -> None:
        self.job = job
        self.waiting = False
        self.finishing: tuple[ThreadJob, Outcome | None] | None = None
        self.leaving = False


class ThreadPool:
    """Worker threads started on demand up to ``max_threads`` (+ lent slots); jobs queue beyond.

    Jobs wait in two deques (``urgent`` first, then ``jobs``); an idle worker blocks on a
    queue of wake-up tokens and takes its job from the deques under the lock, naming it
    as its own before it leaves the deque: a worker that dies at any bytecode loses no job.
    """

    def __init__(self, name: str, max_threads: int, supervisor: Supervisor | None = None) -> None:
        self._name = name
        self._max = max_threads
        self._supervisor = supervisor or Supervisor(name)
        self._wakeups: SimpleQueue[None] = SimpleQueue()
        self._jobs: collections.deque[ThreadJob] = collections.deque()
        self._urgent: collections.deque[ThreadJob] = collections.deque()
        self._lock = threading.Lock()
        self._idle = 0
        self._count = 0
        self._lent = 0
        self._abandoned = 0
        self._closed = False

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Outcome], None],
        *,
        interruptible: bool = True,
        context: contextvars.Context | None = None,
        on_start: Callable[[float], bool] | None = None,
        nested: bool = False,
    ) -> ThreadJob:
        """Run ``fn()`` on a worker in a copy of ``context`` (default: the caller's contextvars).

        ``on_start(waited)`` is called on the worker just before ``fn``, with the seconds
        the job waited for a free worker (0.0 when one was free); if it returns False the
        job is not run (``Stopped("not_started")``). A ``nested`` job (a run started
        inside a running action) that must wait is served before other jobs.
        """
        job = ThreadJob(self, fn, on_done, interruptible, context, on_start)
        with self._lock:
            if self._closed:
                raise _closed_error()
            if self._idle:
                self._idle -= 1
                self._jobs.append(job)
                spawn = False
            elif self._count < self._max + self._lent:
                self._count += 1
                spawn = True
            else:
                job._queued_at = time.monotonic()
                (self._urgent if nested else self._jobs).append(job)
                return job
        if spawn:
            with contextlib.suppress(RuntimeError):  # out of threads: it waits for a worker
                self._spawn(_Worker(job))
        else:
            self._wakeups.put(None)
        return job

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "threads": self._count,
                "idle": self._idle,
                "abandoned": self._abandoned,
                "queued": len(self._jobs) + len(self._urgent),
            }

    def close(self) -> None:
        """Stop accepting jobs; workers finish what is queued, then exit."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, 0
            urgent, self._urgent = list(self._urgent), collections.deque()
        for job in urgent:
            job.interrupt()
        for _ in range(idle):
            self._wakeups.put(None)

    # -- lending (see jido._run.blocking) --------------------------------------------------------
    def block(self) -> None:
        with self._lock:
            self._lent += 1
            spawn = self._grow()
        if spawn:
            self._spawn(_Worker(None))

    def unblock(self) -> None:
        with self._lock:
            self._lent -= 1

    # -- internals -------------------------------------------------------------------------------
    def _grow(self) -> bool:
        """Under the lock: count one more worker if work waits and there is room."""
        if self._closed or self._count >= self._max + self._lent:
            return False
        if self._urgent or self._jobs:
            self._count += 1
            return True
        return False

    def _detach(self) -> None:
        """An abandoned worker leaves the pool; a replacement starts if work is waiting."""
        with self._lock:
            self._count -= 1
            self._abandoned += 1
            spawn = self._grow()
        if spawn:
            self._spawn(_Worker(None))

    def _spawn(self, worker: _Worker) -> None:
        """Start a worker counted already; if no thread can be started, uncount it."""
        try:
            self._supervisor.spawn(
                "worker", lambda: self._work(worker), lambda crash: self._crashed(worker, crash)
            )
        except BaseException:  # e.g. "can't start new thread": the job waits for a worker
            with self._lock:
                self._count -= 1
                job = worker.job
                if job is not None:
                    job._queued_at = job._queued_at or time.monotonic()
                    self._urgent.appendleft(job)
            raise

    def _crashed(self, worker: _Worker, crash: CrashError) -> bool:
        """A worker died: deliver or fail what it held; restart it unless it was leaving.

        A job it had taken but not started is run by its successor.
        """
        finishing, worker.finishing = worker.finishing, None
        if finishing is not None:  # it has run: deliver its own outcome if still due
            held, outcome = finishing
            if outcome is not None and not held._delivered:
                held._finish(outcome)
        job = worker.job
        if job is not None and job._state is not _State.QUEUED:
            worker.job = None
            job._crashed(crash)
            if job._abandoned:  # its thread had left the pool already
                worker.leaving = True
                with self._lock:
                    self._abandoned -= 1
        return not worker.leaving

    def _work(self, worker: _Worker) -> None:
        set_lender(self)
        thread_id = threading.get_ident()
        worker.waiting = False  # (restarted while waiting: its token was taken)
        while True:
            job = worker.job
            if job is None:
                if worker.leaving:
                    return
                if worker.waiting:
                    self._wakeups.get()
                    worker.waiting = False
                self._take(worker)
                continue
            outcome = job._execute(thread_id)
            if job._abandoned:
                worker.job, worker.leaving = None, True
                with self._lock:
                    self._abandoned -= 1
                return
            worker.finishing = (job, outcome)
            worker.job = None
            self._take(worker)  # free before delivering: the next run finds this worker idle
            if outcome is not None:
                job._finish(outcome)
            worker.finishing = None

    def _take(self, worker: _Worker) -> None:
        """Between jobs: leave, take the next queued job (urgent first), or go idle."""
        with self._lock:
            if not self._closed and self._count > self._max + self._lent:
                self._count -= 1
                worker.leaving = True
                return
            queue = self._urgent or self._jobs
            if queue:
                worker.job = queue[0]  # named as held before it leaves the deque
                queue.popleft()
                return
            if self._closed:
                self._count -= 1
                worker.leaving = True
                return
            self._idle += 1
            worker.waiting = True


def _closed_error() -> CancelledError:
    return CancelledError(
        "the runtime is shut down: the attempt was not started",
        details={"reason": "shutdown", "stopped": True, "stop": "not_started"},
    )


class ThreadEngine:
    """Runs each attempt on a worker thread; stops it with the token, then an interrupt."""

    name = "thread"
    observes_token = True
    reports_start = True

    def __init__(self, pool: ThreadPool) -> None:
        self._pool = pool

    def start(self, call: Call, rctx: RunContext, on_done: AttemptSink) -> AttemptHandle:
        spec = call.spec
        fn = functools.partial(call_sync, spec, call.instance, call.params, call.context, rctx)
        return self._pool.submit(
            fn,
            on_done,
            interruptible=spec.interruptible,
            context=call.ctx,
            on_start=on_done.started,
            nested=call.parent is not None,
        )
