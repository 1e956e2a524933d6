"""The child side of the process engine: a loop that serves one attempt at a time.

A child says ``READY`` only once its SIGTERM handler is in place, so the pool never sends
work to (or signals) a child that could not obey yet. A job arrives as its sequence
number (8 bytes) followed by the pickled payload. Before the parent sends SIGTERM to
stop a job it writes ``(seq, reason)`` into the child's shared stop cell, so the handler
knows which job the signal is for: a late signal for a job that has already finished is
ignored (once) instead of hitting the next one.
"""

from __future__ import annotations

import pickle
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jido._core.cancel import CancelReason, _Injected
from jido._core.errors import ExecutionError, ValidationError
from jido._engines import remote
from jido._engines.remote import safe_describe
from jido._run.outcome import Outcome, Stopped

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

__all__ = ["READY", "child_main", "decode_stop", "encode_stop"]

READY = b"ready"
"""The first message of every child: its handlers are installed."""

_REASONS = list(CancelReason)

_cell: Any = None
_job = 0
"""The sequence number of the job being served (0 while idle)."""
_handled = 0
"""The job named by the last stop request this child has acted on or ignored: a second
SIGTERM with the same request is a plain one."""
_send_lock = threading.Lock()
_sending = False
"""True while the main thread writes a progress note: a stop then waits for the write."""
_deferred = False


def encode_stop(seq: int, reason: CancelReason) -> int:
    """The value of a stop cell asking job ``seq`` to stop for ``reason``."""
    return seq << 3 | (_REASONS.index(reason) + 1)


def decode_stop(value: int) -> tuple[int, CancelReason | None]:
    code = value & 7
    return value >> 3, _REASONS[code - 1] if 0 < code <= len(_REASONS) else None


def _on_sigterm(signum: int, frame: object) -> None:
    global _handled
    seq, reason = decode_stop(_cell.value if _cell is not None else 0)
    if _job and seq == _job:  # jido stopping the job this child runs
        _handled = seq
        token = remote.ACTIVE
        if token is not None:
            token.cancel(reason or CancelReason.CALLER)
            if not remote.INTERRUPTIBLE:  # only the token; SIGKILL follows if it is ignored
                return
        if _sending:  # never cut a message in half: raise once it is written
            global _deferred
            _deferred = True
            return
        raise _Injected
    if _job:
        return  # a stray signal during a job, not a stop for it
    if seq and seq != _handled:
        # a stop that just missed its job: the job has finished, or is on its way (it
        # then finds its stop in the cell and does not run); ignored once
        _handled = seq
        return
    raise SystemExit(0)  # a plain SIGTERM (an exiting parent's multiprocessing): leave


def child_main(conn: Connection, cell: Any) -> None:
    """The body of a child process: serve jobs until the parent goes away."""
    global _cell
    _cell = cell
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    remote.REPORTER = _progress_sender(conn)
    try:
        conn.send_bytes(READY)
        while True:
            data = conn.recv_bytes()
            outcome = _serve(data)
            with _send_lock:
                conn.send_bytes(outcome)
    except (EOFError, OSError, _Injected, SystemExit):
        return


def _progress_sender(conn: Connection) -> Callable[[remote.ProgressNote], None]:
    """Sends the running job's progress notes to the parent, whole, between its results."""

    def send(note: remote.ProgressNote) -> None:
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


def _serve(data: bytes) -> bytes:
    global _job
    seq = int.from_bytes(data[:8], "little")
    outcome: Outcome = (False, Stopped("interrupted"))
    try:
        _job = seq
        try:
            if decode_stop(_cell.value)[0] == seq:  # stopped on its way here
                outcome = (False, Stopped("not_started"))
            else:
                outcome = _run(data)
        finally:
            _job = 0
    except _Injected:  # the stop landed outside the action (while loading or finishing)
        outcome = (False, Stopped("interrupted"))
    return dump(outcome)


def _run(data: bytes) -> Outcome:
    try:
        payload = pickle.loads(memoryview(data)[8:])
    except _Injected:
        raise
    except BaseException as exc:  # a class or module the parent has and this process lacks
        return (False, _unloadable(exc))
    return remote.serve(payload)


def _unloadable(exc: BaseException) -> ValidationError:
    return ValidationError(
        "the child process could not load the job: the action, its params and its context "
        "must be importable by module path in a fresh process (objects defined in an "
        f"interactive session or inside a function are not) ({safe_describe(exc)})",
        details={"engine": "isolation='process'", "exception": type(exc).__qualname__},
    )


def dump(outcome: Outcome) -> bytes:
    """Pickle an outcome; one that cannot travel becomes a non-retryable error that can."""
    try:
        return pickle.dumps(outcome)
    except _Injected:
        raise
    except BaseException as exc:
        what = "result" if outcome[0] else "error"
        return pickle.dumps(
            (
                False,
                ExecutionError(
                    f"the action's {what} could not be sent back from the child process: "
                    f"{safe_describe(exc)}",
                    retryable=False,
                ),
            )
        )
