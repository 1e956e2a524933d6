"""The worker side of the Ray engine: runs in a Ray worker process.

The attempt runs on the worker's main thread; Ray's soft cancel (``KeyboardInterrupt``)
becomes jido's own stop: the attempt's token is cancelled, then ``jido.Interrupted`` is
raised in the action if it does not stop by itself within the grace.
"""

from __future__ import annotations

import functools
import signal
import socket
import threading
import time
from typing import Any

from jido._action.action import spec_of
from jido._action.refs import resolve as resolve_reference
from jido._core.cancel import CancelReason
from jido._core.errors import ExecutionError
from jido._engines import remote
from jido._engines.remote import Payload, serve
from jido._engines.threads import ThreadJob, ThreadPool
from jido._run.outcome import Outcome, Stopped

__all__ = ["CLOCK_SLACK", "attempt_task", "resolve"]

CLOCK_SLACK = 0.05
"""A stop this close to the attempt's deadline is taken for its timeout."""


def attempt_task(job: list[Any]) -> Any:
    """Run one attempt in this Ray worker; never raises (the outcome carries the error).

    A result (always a dict) comes back alone, a failure as the ``(False, error)``
    outcome. Ray's soft cancel (``ray.cancel(ref)``) calls ``_thread.interrupt_main()`` in the
    worker, which would raise ``KeyboardInterrupt`` at whatever bytecode the worker's main
    thread runs next, and would not wake a blocked wait. While the attempt runs here (on
    the main thread), SIGINT has a handler that does nothing, and the signal's wake-up byte
    goes to a watcher thread, which turns it into jido's stop, as in-process: the attempt's
    token is cancelled (``jido.current().check()``/``.sleep()`` and async actions stop at
    once, ``finally`` blocks run), then after ``grace`` ``jido.Interrupted`` is raised in
    the action at its next bytecode (never in an ``interruptible = False`` action). A call
    blocked in C stops neither way: the driver then force-kills this worker.
    """
    (target, params, context, meta), grace = job  # lists: see RayEngine.start
    attempt = _WorkerAttempt((target, params, context, tuple(meta)), grace)
    if threading.current_thread() is not threading.main_thread():  # not how Ray runs tasks
        return _shipped(attempt.run())
    watcher = _Watcher.get()
    previous = signal.signal(signal.SIGINT, _ignore)
    wakeup = signal.set_wakeup_fd(watcher.fd, warn_on_full_buffer=False)
    watcher.current = attempt
    try:
        outcome = attempt.run()
        if not attempt.stopping and attempt.stopped_itself():
            # its own deadline stopped it (an async action): the driver's stop for the
            # same deadline is on its way; take it here, not in Ray's code
            end = time.monotonic() + 4 * grace
            while not attempt.cancel_seen and time.monotonic() < end:
                time.sleep(0.002)
    finally:
        watcher.current = None
        signal.set_wakeup_fd(wakeup)
        signal.signal(signal.SIGINT, previous)
    return _shipped(outcome)


def _shipped(outcome: Outcome) -> Any:
    ok, value = outcome
    return value if ok and type(value) is dict else outcome


_targets: dict[str, Any] = {}


def resolve(reference: str) -> Any:
    """The object ``"module:qualname"`` names (cached)."""
    target = _targets.get(reference)
    if target is None:
        target = _targets[reference] = resolve_reference(reference)
    return target


def _not_loaded(exc: Exception) -> ExecutionError:
    return ExecutionError(
        f"the Ray worker could not load the action: {type(exc).__name__}: {exc} (the "
        "action's module must be importable on every node, with the same jido and Ray "
        "versions)",
        details={"engine": "ray", "exception": type(exc).__name__},
        retryable=False,
    )


def _ignore(signum: int, frame: object) -> None:
    """SIGINT while an attempt runs: the watcher thread does the work."""


class _Watcher:
    """One thread per worker process that sees Ray's soft cancel and stops the attempt."""

    _instance: _Watcher | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._read, self._write = socket.socketpair()
        self._write.setblocking(False)
        self.fd = self._write.fileno()
        self.current: _WorkerAttempt | None = None
        threading.Thread(target=self._watch, name="jido-ray-stop", daemon=True).start()

    @classmethod
    def get(cls) -> _Watcher:
        with cls._lock:
            if cls._instance is None:
                cls._instance = _Watcher()
            return cls._instance

    def _watch(self) -> None:
        while True:
            try:
                data = self._read.recv(64)
            except OSError:  # pragma: no cover - the process is going away
                return
            if not data:  # pragma: no cover
                return
            attempt = self.current
            if attempt is not None and signal.SIGINT in data:
                attempt.stop()


_pool = ThreadPool("jido-ray", 1)
"""Never started: the attempt's job runs in the worker's main thread (see attempt_task)."""


class _WorkerAttempt:
    """One attempt in this worker: the job that runs it, and how to stop it."""

    __slots__ = ("_deadline", "_grace", "_job", "cancel_seen", "outcome", "stopping")

    def __init__(self, payload: Payload, grace: float) -> None:
        target, params, context, meta = payload
        remaining = meta[3]
        self._deadline = None if remaining is None else time.monotonic() + remaining
        self._grace = grace
        self.outcome: Outcome = (False, Stopped("interrupted"))
        self.stopping = False
        self.cancel_seen = False
        self._job: ThreadJob | None = None
        try:
            if isinstance(target, str):  # sent by import path (see RayEngine._reference)
                target = resolve(target)
            interruptible = spec_of(target).interruptible
        except Exception as exc:  # the action cannot be loaded here
            self.outcome = (False, _not_loaded(exc))
            return
        job = functools.partial(serve, (target, params, context, meta))
        self._job = ThreadJob(_pool, job, self._finish, interruptible, None)

    def run(self) -> Outcome:
        """Run the attempt in this thread (interrupts raised into it stay inside the job)."""
        if self._job is not None:
            self._job._run(threading.get_ident())
        return self.outcome

    def _finish(self, outcome: Outcome) -> None:
        ok, value = outcome
        # (True, serve's outcome), or (False, Stopped) for an interrupt that landed around it
        self.outcome = value if ok else (False, value)

    def stopped_itself(self) -> bool:
        ok, value = self.outcome
        return not ok and isinstance(value, Stopped)

    def stop(self) -> None:
        """On the watcher thread: the token first, then (after the grace) an interrupt."""
        self.cancel_seen = True
        if self.stopping or self._job is None:
            return
        self.stopping = True
        token = remote.ACTIVE
        if token is not None:
            token.cancel(self._reason())
            time.sleep(self._grace)
            if token.observed:
                return
        self._job.interrupt()  # a no-op once the job is done, or for interruptible=False

    def _reason(self) -> CancelReason:
        deadline = self._deadline
        if deadline is not None and time.monotonic() >= deadline - CLOCK_SLACK:
            return CancelReason.TIMEOUT
        return CancelReason.CALLER
