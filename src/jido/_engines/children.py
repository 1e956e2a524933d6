"""The parent's side of one child process: start it, send it a job, signal it, reap it.

Also what a child's death, or a result that cannot be read, becomes for the attempt.
The pool that schedules children is in ``processes.py``; what runs inside them is in
``child.py``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from jido._core.errors import ExecutionError, InternalError, JidoError
from jido._engines.child import child_main
from jido._engines.remote import safe_describe
from jido._run.outcome import Outcome, Stopped

if TYPE_CHECKING:
    from jido._engines.processes import ProcessJob

__all__ = ["Child", "default_method", "died", "load_outcome", "start_child", "start_failed"]


def default_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


class Child:
    """One child process of the pool and the job it runs (``ready`` once it said so;
    ``doomed`` once it was sent SIGKILL: it gets no more work)."""

    __slots__ = ("cell", "conn", "doomed", "job", "process", "ready")

    def __init__(self, process: Any, conn: Connection, cell: Any) -> None:
        self.process = process
        self.conn = conn
        self.cell = cell
        self.ready = False
        self.doomed = False
        self.job: ProcessJob | None = None

    def send(self, seq: int, payload: bytes) -> None:
        with contextlib.suppress(OSError):  # a dead child: the reader sees EOF and reports it
            self.conn.send_bytes(seq.to_bytes(8, "little") + payload)

    def signal(self, signum: int) -> None:
        pid = self.process.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)

    def reap(self) -> int | None:
        """Wait for the (dead or killed) child, release its descriptors; its exit code."""
        process = self.process
        process.join(timeout=1.0)
        if process.exitcode is None:
            self.signal(signal.SIGKILL)
            process.join(timeout=1.0)
        code: int | None = process.exitcode
        with contextlib.suppress(Exception):
            self.conn.close()
        with contextlib.suppress(Exception):
            process.close()
        return code


def start_child(ctx: Any, name: str) -> Child:
    """Start a child process (it says ``READY`` on its connection when it can take work)."""
    parent_conn, child_conn = ctx.Pipe()
    try:
        cell = ctx.RawValue("q", 0)
        process = ctx.Process(
            target=child_main, args=(child_conn, cell), name=f"{name}-child", daemon=True
        )
        process.start()
    except BaseException:
        parent_conn.close()
        raise
    finally:
        child_conn.close()
    return Child(process, parent_conn, cell)


def load_outcome(data: bytes) -> Outcome:
    """A child's pickled outcome; one whose unpickling fails here becomes an error."""
    try:
        outcome: Outcome = pickle.loads(data)
    except BaseException as exc:  # the result's own unpickling code failed in this process
        error = ExecutionError(
            f"could not read the child's result: {safe_describe(exc)}", retryable=False
        )
        return (False, error)
    return outcome


def died(code: int | None) -> ExecutionError:
    return ExecutionError(
        f"the child process running the action died (exit code {code})",
        details={"exitcode": code, "stopped": True},
    )


def start_failed(code: int | None) -> ExecutionError:
    return ExecutionError(
        f"a child process could not start (exit code {code}); if children die at start-up, "
        "guard the main module with `if __name__ == '__main__':`",
        details={"exitcode": code, "stopped": True},
        retryable=False,
    )


def reader_died(job: Any, exc: BaseException) -> JidoError | Stopped:
    """How an attempt held by a reader thread that died ends."""
    if job.token.reason is not None:
        return Stopped("killed")
    return InternalError(
        f"the process pool's reader thread died ({safe_describe(exc)}); the child running "
        "this attempt was killed and the reader restarted",
        details={"stopped": True},
        retryable=False,
    )


def closed_error(job: Any) -> JidoError | Stopped:
    """How an attempt whose pool was closed while it ran ends."""
    if job.token.reason is not None:
        return Stopped("killed")
    return ExecutionError(
        "the runtime's process pool was closed while the attempt ran; its child was killed",
        details={"stopped": True},
        retryable=False,
    )
