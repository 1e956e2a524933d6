"""The process engine: attempts in child processes that can always be stopped.

A supervised pool. Children are started by a spawner thread, never by the caller, and
are handed work only once they say they are ready (their SIGTERM handler installed), so
starting a run never blocks and a stop never meets a child in start-up. A reader thread
collects results and notices deaths. Stopping is two-step: SIGTERM raises
:class:`~jido.Interrupted` in the child at its next bytecode (and interrupts blocking
system calls such as ``time.sleep``), so ``finally`` blocks run and the child stays in
the pool; a child that does not stop within ``stop_timeout / 5`` gets SIGKILL. A dead
child is replaced; if the reader or the spawner dies it is restarted, and the attempts
the reader held fail with an ``internal_error`` that names the cause.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import itertools
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jido._core.cancel import CancelReason
from jido._core.context import RunContext
from jido._core.errors import ExecutionError
from jido._engines.child import READY, encode_stop
from jido._engines.remote import ProgressNote, pickled_payload, safe_describe
from jido._run.call import Call
from jido._run.outcome import Outcome, Stopped, deliver

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from jido._engines.children import Child

__all__ = ["ProcessEngine", "ProcessJob"]

log = logging.getLogger("jido")

STOPS = frozenset({"interrupted", "killed", "not_started"})
"""How a stopped attempt in a child process is reported (``details["stop"]``)."""
_WATCH = 1.0
"""Seconds between the spawner's checks that the reader is alive."""
_STARTUP_SIGNALS = 3
"""Children killed by a signal during start-up in a row before a queued job is failed."""
_settle_lock = threading.Lock()
_exiting = threading.Event()
"""Set when the interpreter starts exiting: pools start no more children."""
_exit_hook: list[bool] = []
_exit_lock = threading.Lock()


class ProcessJob:
    """One attempt sent to a child process; the handle that stops it."""

    __slots__ = (
        "_engine",
        "_on_done",
        "_settled",
        "killed",
        "payload",
        "rctx",
        "seq",
        "token",
        "worker",
    )

    def __init__(
        self,
        engine: ProcessEngine,
        payload: bytes,
        rctx: RunContext,
        on_done: Callable[[Outcome], None],
    ) -> None:
        self._engine = engine
        self._on_done = on_done
        self._settled = False
        self.seq = next(engine._seq)
        self.payload = payload
        self.rctx = rctx
        self.token = rctx.token
        self.worker: Child | None = None
        self.killed = False

    def progress(self, note: ProgressNote) -> None:
        """Pass on what the child reported (if it is about this attempt)."""
        rctx = self.rctx
        if rctx._report is not None and (note.run_id, note.attempt) == (rctx.run_id, rctx.attempt):
            rctx._report(note.attempt, note.done, note.total, note.message)

    def interrupt(self) -> None:
        self._engine._interrupt(self)

    def kill(self) -> bool:
        self._engine._kill(self)
        return True

    def abandon(self) -> bool:
        """A child can always be killed: report the stop now if the reader has not yet."""
        self.finish((False, Stopped("killed" if self.killed else "interrupted")))
        return False

    def finish(self, outcome: Outcome) -> None:
        """Deliver the outcome once; a stopped attempt always carries a process stop value."""
        with _settle_lock:
            if self._settled:
                return
            self._settled = True
        self._engine._forget(self)
        value = outcome[1]
        if self.token.reason is not None and not (
            isinstance(value, Stopped) and value.mechanism in STOPS
        ):
            outcome = (False, Stopped("interrupted"))  # it stopped (or ended) when told to
        try:
            deliver(self._on_done, outcome)
        except BaseException:  # never let a run's completion take the pool's thread down
            log.exception("jido process job completion failed")


class ProcessEngine:
    """A supervised pool of up to ``size`` child processes, started in the background."""

    name = "process"
    observes_token = False

    def __init__(self, name: str, size: int, start_method: str | None, stop_timeout: float) -> None:
        self._method = start_method
        self._ctx: Any = None  # multiprocessing is set up on the spawner thread
        self._name = name
        self._size = size
        self._seq = itertools.count(1)
        self._cond = threading.Condition(threading.Lock())
        self._idle: list[Child] = []
        self._all: dict[Connection, Child] = {}
        self._queue: collections.deque[ProcessJob] = collections.deque()
        self._inflight: set[ProcessJob] = set()
        self._spawning = 0
        self._unready = 0
        self._target = 0
        self._startup_failures = 0
        self._crashes: list[float] = []
        self._closed = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._reader = self._supervise("reader", self._read)
        self._spawner = self._supervise("spawner", self._spawn_loop)

    # -- engine API ------------------------------------------------------------------------------
    def start(self, call: Call, rctx: RunContext, on_done: Callable[[Outcome], None]) -> ProcessJob:
        """Queue the attempt for a ready child; never waits for a child to start."""
        job = ProcessJob(self, pickled_payload(call, rctx, "isolation='process'"), rctx, on_done)
        with self._cond:
            if self._closed:
                raise ExecutionError("the runtime's process pool is closed", retryable=False)
            worker = self._idle.pop() if self._idle else None
            if worker is None:
                self._queue.append(job)
                self._want_children()
            else:
                self._bind(worker, job)
        self._check_threads()
        if worker is not None:
            worker.send(job.seq, job.payload)
        return job

    def size(self) -> int:
        with self._cond:
            return len(self._all)

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            workers = list(self._all.values())
            queued = list(self._queue)
            running = list(self._inflight)
            self._queue.clear()
            self._idle.clear()
            self._cond.notify_all()
        with contextlib.suppress(Exception):
            atexit.unregister(self.close)
        self._wake()
        for thread in (self._reader, self._spawner):
            if thread is not threading.current_thread():
                thread.join(timeout=2.0)
        for job in queued:
            job.finish((False, Stopped("not_started")))
        for worker in workers:
            worker.signal(signal.SIGKILL)
        if running:
            from jido._engines.children import closed_error

            for job in running:
                job.finish((False, closed_error(job)))
        for worker in workers:
            worker.reap()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- stopping --------------------------------------------------------------------------------
    def _interrupt(self, job: ProcessJob) -> None:
        with self._cond:
            queued = job.worker is None and job in self._queue
            if queued:
                self._queue.remove(job)
            elif job.worker is not None and job.worker.job is job:
                job.worker.cell.value = encode_stop(
                    job.seq, job.token.reason or CancelReason.CALLER
                )
                job.worker.signal(signal.SIGTERM)
        if queued:
            job.finish((False, Stopped("not_started")))

    def _kill(self, job: ProcessJob) -> None:
        with self._cond:
            if job.worker is not None and job.worker.job is job:
                job.killed = job.worker.doomed = True
                job.worker.signal(signal.SIGKILL)

    def _forget(self, job: ProcessJob) -> None:
        with self._cond:
            self._inflight.discard(job)

    # -- the pool (under self._cond) ---------------------------------------------------------------
    def _bind(self, worker: Child, job: ProcessJob) -> None:
        worker.job = job
        job.worker = worker
        self._inflight.add(job)

    def _want_children(self) -> None:
        """Raise the target so that every queued job has a child starting for it."""
        total = len(self._all) + self._spawning
        missing = len(self._queue) - self._unready - self._spawning
        if missing > 0 and total < self._size:
            self._target = max(self._target, min(self._size, total + missing))
            self._cond.notify_all()

    def _short(self) -> bool:
        """Whether the pool has fewer children than it wants (none once exit has begun)."""
        return len(self._all) + self._spawning < self._target and not _exiting.is_set()

    def _next_for(self, worker: Child) -> ProcessJob | None:
        """Give ``worker`` the next queued job, or make it idle (not if it is being killed:
        a SIGKILL meant for the job it just finished must not end the next one)."""
        if worker.doomed:
            return None
        job = self._queue.popleft() if self._queue else None
        if job is None:
            self._idle.append(worker)
        else:
            self._bind(worker, job)
        return job

    # -- the spawner thread ------------------------------------------------------------------------
    def _set_up(self) -> None:
        """Import and configure ``multiprocessing`` here, off the caller's thread."""
        import multiprocessing.util  # its exit hook must be registered before ours

        from jido._engines.children import default_method

        method = self._method or default_method()
        ctx = multiprocessing.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(["jido._engines.child", "jido._engines.warm"])
        with self._cond:
            if self._ctx is None and not self._closed:
                atexit.register(self.close)  # runs before multiprocessing's hook joins children
            self._ctx = ctx
        with _exit_lock:
            if not _exit_hook:
                _exit_hook.append(True)
                atexit.register(_exiting.set)  # (likewise) no new child once exit has begun

    def _spawn_loop(self) -> None:
        if self._ctx is None:
            self._set_up()
        while True:
            with self._cond:
                while not self._closed and not self._short():
                    if not self._cond.wait(_WATCH):
                        break  # a periodic look at the reader
                if self._closed:
                    return
                spawn = self._short()
                if spawn:
                    self._spawning += 1
            if spawn:
                self._spawn_one()
            else:
                self._check_threads()

    def _spawn_one(self) -> None:
        from jido._engines.children import start_child

        try:
            worker = start_child(self._ctx, self._name)
        except Exception as exc:
            self._spawn_failed(exc)
            return
        with self._cond:
            self._spawning -= 1
            closed = self._closed
            if not closed:
                self._all[worker.conn] = worker
                self._unready += 1
        if closed:
            worker.signal(signal.SIGKILL)
            worker.reap()
        else:
            self._wake()

    def _spawn_failed(self, exc: Exception) -> None:
        """A child could not be started: the oldest queued attempt fails with the reason."""
        with self._cond:
            self._spawning -= 1
            self._target = len(self._all) + self._spawning
            failed = self._queue.popleft() if self._queue else None
        message = (
            f"could not start a child process ({safe_describe(exc)}); if children die at "
            "start-up, guard the main module with `if __name__ == '__main__':`"
        )
        if failed is not None:
            failed.finish((False, ExecutionError(message)))
        time.sleep(0.05)  # do not hammer a broken environment
        with self._cond:
            self._want_children()

    # -- the reader thread -------------------------------------------------------------------------
    def _read(self) -> None:
        from multiprocessing.connection import wait

        while True:
            with self._cond:
                if self._closed:
                    return
                conns: list[Any] = [self._wake_r, *self._all]
            for conn in wait(conns):
                if conn == self._wake_r:
                    with contextlib.suppress(OSError):
                        os.read(self._wake_r, 4096)
                    continue
                self._on_message(conn)  # type: ignore[arg-type]
            if not self._spawner.is_alive():
                self._check_threads()

    def _on_message(self, conn: Connection) -> None:
        with self._cond:
            worker = None if self._closed else self._all.get(conn)
        if worker is None:
            return
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            self._on_death(worker)
            return
        if worker.ready:
            self._on_result(worker, data)
        elif data == READY:
            self._on_started(worker)

    def _on_started(self, worker: Child) -> None:
        with self._cond:
            worker.ready = True
            self._unready -= 1
            self._startup_failures = 0
            job = self._next_for(worker)
        if job is not None:
            worker.send(job.seq, job.payload)

    def _on_result(self, worker: Child, data: bytes) -> None:
        from jido._engines.children import load_outcome

        outcome = load_outcome(data)
        if isinstance(outcome, ProgressNote):  # a report from the running job, not its end
            job = worker.job
            if job is not None:
                job.progress(outcome)
            return
        with self._cond:
            job, worker.job = worker.job, None
            following = self._next_for(worker)
        if following is not None:
            worker.send(following.seq, following.payload)
        if job is not None:
            job.finish(outcome)

    def _on_death(self, worker: Child) -> None:
        from jido._engines.children import died, start_failed

        with self._cond:
            self._all.pop(worker.conn, None)
            if worker in self._idle:
                self._idle.remove(worker)
            job, worker.job = worker.job, None
        code = worker.reap()
        failed = None
        with self._cond:
            if not worker.ready:  # it died starting: replace it only for queued work
                self._unready -= 1
                self._target -= 1
                self._startup_failures += 1
                if self._queue and ((code or 0) > 0 or self._startup_failures >= _STARTUP_SIGNALS):
                    failed = self._queue.popleft()
            self._want_children()
            self._cond.notify_all()
        if job is not None:
            job.finish((False, Stopped("killed") if job.killed else died(code)))
        if failed is not None:
            failed.finish((False, start_failed(code)))

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"w")

    # -- supervision -------------------------------------------------------------------------------
    def _supervise(self, role: str, body: Callable[[], None]) -> threading.Thread:
        def main() -> None:
            try:
                body()
            except BaseException as exc:
                self._crashed(role, exc)

        thread = threading.Thread(target=main, name=f"{self._name}-process-{role}", daemon=True)
        thread.start()
        return thread

    def _crashed(self, role: str, exc: BaseException) -> None:
        """A pool thread died: fail what it held, then start another one."""
        log.error("jido process pool: the %s thread died", role, exc_info=exc)
        with self._cond:
            if self._closed:
                return
            now = time.monotonic()
            self._crashes = [t for t in self._crashes if now - t < 10.0] + [now]
            held = list(self._inflight) if role == "reader" else []
            if role == "spawner":
                self._spawning = 0
        time.sleep(min(1.0, 0.01 * 2 ** len(self._crashes)) if len(self._crashes) > 1 else 0)
        if held:
            from jido._engines.children import reader_died

            for job in held:
                self._kill(job)
                job.finish((False, reader_died(job, exc)))
        with self._cond:
            if self._closed:
                return
            if role == "reader":
                self._reader = self._supervise(role, self._read)
            else:
                self._spawner = self._supervise(role, self._spawn_loop)
                self._cond.notify_all()

    def _check_threads(self) -> None:
        """Restart a pool thread that has gone without its supervisor noticing."""
        for role in ("reader", "spawner"):
            thread = self._reader if role == "reader" else self._spawner
            if not thread.is_alive() and not self._closed:
                with self._cond:
                    current = self._reader if role == "reader" else self._spawner
                    if current is not thread:
                        continue
                self._crashed(role, RuntimeError(f"the {role} thread exited"))


# -- helpers ---------------------------------------------------------------------------------------
