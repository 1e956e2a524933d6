"""The process engine: attempts in child processes that can always be stopped.

Stopping is two-step: SIGTERM raises :class:`~jido.Interrupted` in the child at its
next bytecode (and interrupts blocking system calls such as ``time.sleep``), so
``finally`` blocks run and the child stays in the pool; a child that does not stop
within the runtime's ``stop_timeout`` gets SIGKILL and is replaced on demand.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from jido._core.cancel import CancelReason, _Injected
from jido._core.context import RunContext
from jido._core.errors import ExecutionError
from jido._engines import remote
from jido._engines.remote import ProgressNote, make_payload, serve, unsendable
from jido._run.call import Call
from jido._run.outcome import Outcome, Stopped, deliver

__all__ = ["ProcessEngine"]

_REASONS = list(CancelReason)
_settle_lock = threading.Lock()


def _default_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


class _Worker:
    __slots__ = ("conn", "job", "process", "reason")

    def __init__(self, process: Any, conn: Connection, reason: Any) -> None:
        self.process = process
        self.conn = conn
        self.reason = reason
        self.job: ProcessJob | None = None


class ProcessJob:
    """One attempt sent to a child process; the handle that stops it."""

    __slots__ = ("_engine", "_on_done", "_settled", "payload", "rctx", "token", "worker")

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
        self.payload = payload
        self.rctx = rctx
        self.token = rctx.token
        self.worker: _Worker | None = None

    def progress(self, note: ProgressNote) -> None:
        """Pass on what the child reported (if it is about this attempt)."""
        rctx = self.rctx
        if rctx._report is not None and (note.run_id, note.attempt) == (rctx.run_id, rctx.attempt):
            rctx._report(note.attempt, note.done, note.total, note.message)

    def interrupt(self) -> None:
        self._engine._interrupt(self)

    def kill(self) -> bool:
        return self._engine._kill(self)

    def abandon(self) -> bool:
        return self._engine._abandon(self)

    def finish(self, outcome: Outcome) -> None:
        with _settle_lock:
            if self._settled:
                return
            self._settled = True
        deliver(self._on_done, outcome)


class ProcessEngine:
    """A pool of up to ``size`` child processes, started on demand."""

    name = "process"
    observes_token = False

    def __init__(self, name: str, size: int, start_method: str | None, stop_timeout: float) -> None:
        method = start_method or _default_method()
        self._ctx: Any = multiprocessing.get_context(method)
        if method == "forkserver":
            self._ctx.set_forkserver_preload(["jido._engines.processes"])
        self._name = name
        self._size = size
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._all: dict[Connection, _Worker] = {}
        self._starting = 0
        self._queue: collections.deque[ProcessJob] = collections.deque()
        self._wake_r, self._wake_w = self._ctx.Pipe(duplex=False)
        self._closed = False
        self._reader = threading.Thread(target=self._read, name=f"{name}-processes", daemon=True)
        self._reader.start()
        atexit.register(self.close)  # before multiprocessing's own exit hook joins the children

    # -- engine API ------------------------------------------------------------------------------
    def start(self, call: Call, rctx: RunContext, on_done: Callable[[Outcome], None]) -> ProcessJob:
        job = ProcessJob(self, _payload(call, rctx), rctx, on_done)
        with self._lock:
            if self._closed:
                raise ExecutionError("the runtime's process pool is closed", retryable=False)
            worker = self._idle.pop() if self._idle else None
            spawn = worker is None and len(self._all) + self._starting < self._size
            if worker is None:
                self._queue.append(job)
                if spawn:
                    self._starting += 1
        if worker is not None:
            self._assign(worker, job)
        elif spawn:
            self._spawn_for_queue()
        return job

    def size(self) -> int:
        with self._lock:
            return len(self._all)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            workers = list(self._all.values())
            self._idle.clear()
            queued = list(self._queue)
            self._queue.clear()
        for job in queued:
            job.finish((False, Stopped("not_started")))
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.conn.close()
            worker.process.kill()
        for worker in workers:
            worker.process.join(timeout=2.0)
        self._wake()
        self._reader.join(timeout=2.0)

    # -- stopping --------------------------------------------------------------------------------
    def _interrupt(self, job: ProcessJob) -> None:
        with self._lock:
            queued = job in self._queue
            if queued:
                self._queue.remove(job)
            worker = job.worker
        if queued:
            job.finish((False, Stopped("not_started")))
        elif worker is not None and worker.job is job:
            reason = job.token.reason or CancelReason.CALLER
            worker.reason.value = _REASONS.index(reason) + 1
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.process.pid, signal.SIGTERM)

    def _kill(self, job: ProcessJob) -> bool:
        worker = job.worker
        if worker is not None and worker.job is job:
            worker.process.kill()
        return True

    def _abandon(self, job: ProcessJob) -> bool:
        return not job._settled

    # -- workers ---------------------------------------------------------------------------------
    def _spawn_for_queue(self) -> None:
        try:
            worker = self._new_worker()
        except Exception as exc:
            with self._lock:
                self._starting -= 1
                job = self._queue.popleft() if self._queue else None
            if job is not None:
                job.finish((False, ExecutionError(f"could not start a child process: {exc}")))
            return
        with self._lock:
            self._starting -= 1
            job = self._queue.popleft() if self._queue else None
            if job is None:
                self._idle.append(worker)
        if job is not None:
            self._assign(worker, job)

    def _new_worker(self) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe()
        reason = self._ctx.RawValue("b", 0)
        process = self._ctx.Process(
            target=_child_main, args=(child_conn, reason), name=f"{self._name}-child", daemon=True
        )
        process.start()
        child_conn.close()
        worker = _Worker(process, parent_conn, reason)
        with self._lock:
            self._all[parent_conn] = worker
        self._wake()
        return worker

    def _assign(self, worker: _Worker, job: ProcessJob) -> None:
        worker.reason.value = 0
        worker.job = job
        job.worker = worker
        with contextlib.suppress(OSError):  # a dead child: the reader sees EOF and reports it
            worker.conn.send_bytes(job.payload)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send_bytes(b"")

    def _read(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                conns: list[Any] = [self._wake_r, *self._all]
            for conn in wait(conns):
                if conn is self._wake_r:
                    with contextlib.suppress(EOFError, OSError):
                        self._wake_r.recv_bytes()
                    continue
                self._on_ready(conn)  # type: ignore[arg-type]

    def _on_ready(self, conn: Connection) -> None:
        with self._lock:
            worker = self._all.get(conn)
        if worker is None:
            return
        try:
            message: Outcome | ProgressNote = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            self._on_death(worker)
            return
        except Exception as exc:
            message = (False, ExecutionError(f"could not read the child's result: {exc}"))
        if isinstance(message, ProgressNote):
            if worker.job is not None:
                worker.job.progress(message)
            return
        outcome = message
        job, worker.job = worker.job, None
        if job is None:
            return  # nothing was asked of this child
        with self._lock:
            queued = self._queue.popleft() if self._queue else None
            if queued is None:
                self._idle.append(worker)
        job.finish(outcome)
        if queued is not None:
            self._assign(worker, queued)

    def _on_death(self, worker: _Worker) -> None:
        worker.process.join(timeout=1.0)
        code = worker.process.exitcode
        with self._lock:
            self._all.pop(worker.conn, None)
            if worker in self._idle:
                self._idle.remove(worker)
            spawn = bool(self._queue) and not self._closed
            if spawn:
                self._starting += 1
        with contextlib.suppress(OSError):
            worker.conn.close()
        job, worker.job = worker.job, None
        if job is not None:
            if code == -signal.SIGKILL:
                job.finish((False, Stopped("killed")))
            else:
                job.finish((False, _died(code)))
        if spawn:
            threading.Thread(target=self._spawn_for_queue, daemon=True).start()


def _died(code: int | None) -> ExecutionError:
    return ExecutionError(
        f"the child process running the action died (exit code {code}); if children die "
        "at start-up, guard the main module with `if __name__ == '__main__':`",
        details={"exitcode": code, "stopped": True},
    )


def _payload(call: Call, rctx: RunContext) -> bytes:
    try:
        return pickle.dumps(make_payload(call, rctx))
    except Exception as exc:
        raise unsendable(call, "isolation='process'", exc) from exc


# -- the child side -------------------------------------------------------------------------------
_reason_cell: Any = None
_send_lock = threading.Lock()
_sending = False
"""True while the main thread writes to the pipe: a stop then waits for the write to end."""
_deferred = False


def _on_sigterm(signum: int, frame: object) -> None:
    global _deferred
    token = remote.ACTIVE
    code = _reason_cell.value if _reason_cell is not None else 0
    if token is None:
        if code == 0:  # a plain SIGTERM (not jido stopping a job): leave
            raise SystemExit(0)
        return  # a stop request for a job that has just finished
    token.cancel(_REASONS[code - 1] if code > 0 else CancelReason.CALLER)
    if remote.INTERRUPTIBLE:  # otherwise only the token; SIGKILL follows if it is ignored
        if _sending:  # never cut a message in half: raise once it is written
            _deferred = True
            return
        raise _Injected


def _progress_sender(conn: Connection) -> Callable[[ProgressNote], None]:
    def send(note: ProgressNote) -> None:
        global _sending, _deferred
        data = pickle.dumps(note)
        main = threading.current_thread() is threading.main_thread()
        with _send_lock:
            _sending = main
            try:
                conn.send_bytes(data)
            except OSError:
                pass  # the parent is gone: the job's outcome cannot be delivered either
            finally:
                _sending = False
        if main and _deferred:
            _deferred = False
            raise _Injected

    return send


def _child_main(conn: Connection, reason: Any) -> None:
    global _reason_cell
    _reason_cell = reason
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    remote.REPORTER = _progress_sender(conn)
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError, _Injected, SystemExit):
            return
        try:
            outcome = serve(pickle.loads(data))
        except Exception as exc:  # the payload itself could not be read here
            outcome = (False, ExecutionError(f"the child could not read the job: {exc}"))
        try:
            with _send_lock:
                conn.send_bytes(_dump(outcome))
        except (OSError, _Injected):
            return


def _dump(outcome: Outcome) -> bytes:
    try:
        return pickle.dumps(outcome)
    except Exception as exc:
        what = "result" if outcome[0] else "error"
        return pickle.dumps(
            (
                False,
                ExecutionError(
                    f"the action's {what} could not be sent back from the child process: {exc}",
                    retryable=False,
                ),
            )
        )
