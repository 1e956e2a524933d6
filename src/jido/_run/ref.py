"""``AsyncRef``: the handle of a run started with ``run_async``.

It can be waited on from any thread (``result``), awaited from any event loop
(``await ref``), and cancelled (``cancel``). The outcome is kept: awaiting twice gives
the same result, and cancelling a finished run changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Generator
from typing import Any, Final, Protocol

from jido._core.cancel import CancelReason
from jido._core.clock import MAX_WAIT, deadline_after, wait_slice
from jido._core.context import current_or_none
from jido._core.errors import (
    CancelledError,
    ConfigError,
    InvalidAsyncRefError,
    JidoError,
    TimeoutError,
)
from jido._core.options import check_wait
from jido._run.blocking import lending

__all__ = ["AsyncRef", "Control", "cancel_all", "check_ref", "wait_all", "wait_for"]


class Control(Protocol):
    """What a handle needs from the driver of its run."""

    def cancel(self, reason: CancelReason) -> None: ...


class AsyncRef:
    """A run in progress. Returned by :func:`jido.run_async`.

    Example:
        >>> import jido
        >>> @jido.action
        ... def double(x: int) -> dict:
        ...     return {"x": 2 * x}
        >>> ref = jido.run_async(double, {"x": 21})
        >>> jido.await_(ref, timeout=5.0)
        {'x': 42}
        >>> ref.done(), ref.result()
        (True, {'x': 42})
    """

    __slots__ = (
        "_callbacks",
        "_control",
        "_done",
        "_grace",
        "_lock",
        "_loop",
        "_ok",
        "_override",
        "_value",
        "_waiters",
        "action",
        "run_id",
    )

    def __init__(self, action: str, run_id: str, grace: float) -> None:
        self.action = action
        self.run_id = run_id
        self._grace = grace
        self._lock = threading.Lock()
        self._done = False
        self._ok = False
        self._value: Any = None
        self._waiters: list[threading.Lock] | None = None
        self._callbacks: list[Callable[[AsyncRef], None]] | None = None
        self._control: Control | None = None
        self._override: Callable[[JidoError], JidoError] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        """The event loop the run is driven on (waiting for it there would deadlock)."""

    def __repr__(self) -> str:
        state = "pending" if not self._done else ("done" if self._ok else "failed")
        return f"<AsyncRef {self.action} run_id={self.run_id} {state}>"

    # -- public ----------------------------------------------------------------------------------
    def done(self) -> bool:
        """True once the run has finished (successfully or not)."""
        return self._done

    def cancelled(self) -> bool:
        """True if the run ended because it was cancelled."""
        return self._done and isinstance(self._value, CancelledError)

    def result(self, timeout: float | None = 5.0) -> dict[str, Any]:
        """Wait up to ``timeout`` seconds (None: forever) and return the result or raise.

        When the wait times out the run is cancelled (its work stopped) and a
        ``jido.TimeoutError`` is raised whose ``details["stopped"]`` says whether the work
        was confirmed stopped. A timeout that is not a number >= 0 (or None) is a
        ``jido.ConfigError``, raised before anything happens to the run.
        """
        if not self._done:
            if timeout is not None and not (type(timeout) in _PLAIN and timeout >= 0):
                timeout = check_wait(timeout)  # not a plain number of seconds: check it
            if not self._wait(timeout):
                assert timeout is not None
                self._stop(CancelReason.TIMEOUT, _await_timeout_error(self, timeout))
        return self._outcome()

    def cancel(self) -> None:
        """Stop the run. A no-op once it has finished (its result is kept).

        From a thread other than the run's event loop, waits (briefly) until the work
        is confirmed stopped or abandoned, so that ``result()`` then raises at once.
        """
        if not self._done:
            self._stop(CancelReason.CALLER, None)

    def _abandon_wait(self) -> None:
        """The waiter went away (it was itself cancelled or interrupted): stop the run.

        The reason is ``parent`` when the waiter is a running action that was told to
        stop (its nested run goes with it), ``caller`` otherwise.
        """
        if not self._done:
            self._stop(waiter_reason(), None)

    def exception(self) -> JidoError | None:
        """The error the run failed with, None if it succeeded. Raises if still running."""
        if not self._done:
            raise ConfigError(f"run {self.run_id} has not finished")
        return None if self._ok else self._value

    def add_done_callback(self, fn: Callable[[AsyncRef], None]) -> None:
        """Call ``fn(ref)`` when the run finishes (at once if it has)."""
        with self._lock:
            if not self._done:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(fn)
                return
        fn(self)

    def __await__(self) -> Generator[Any, None, dict[str, Any]]:
        if not self._done:
            loop = asyncio.get_running_loop()
            future: asyncio.Future[None] = loop.create_future()
            self.add_done_callback(_resolver(loop, future))
            try:
                yield from future.__await__()
            except asyncio.CancelledError:
                if not self._done and self._control is not None:
                    self._control.cancel(waiter_reason())
                raise
        return self._outcome()

    # -- driver side -----------------------------------------------------------------------------
    def _bind(self, control: Control, loop: asyncio.AbstractEventLoop | None) -> None:
        self._control = control
        self._loop = loop

    def _set_result(self, value: dict[str, Any]) -> None:
        self._complete(True, value)

    def _set_error(self, error: JidoError) -> None:
        self._complete(False, error)

    def _complete(self, ok: bool, value: Any) -> bool:
        with self._lock:
            if self._done:
                return False
            if not ok and self._override is not None:
                value = self._override(value)
            self._ok, self._value, self._done = ok, value, True
            waiters, self._waiters = self._waiters, None
            callbacks, self._callbacks = self._callbacks, None
        for waiter in waiters or ():
            waiter.release()
        for callback in callbacks or ():
            callback(self)
        return True

    # -- internals -------------------------------------------------------------------------------
    def _outcome(self) -> dict[str, Any]:
        if self._ok:
            return self._value  # type: ignore[no-any-return]
        raise self._value.with_traceback(None)

    def _wait(self, timeout: float | None) -> bool:
        with self._lock:
            if self._done:
                return True
            if self._loop is not None and asyncio._get_running_loop() is self._loop:
                raise ConfigError(
                    "waiting for this run would block the event loop it runs on; use `await ref`"
                )
            waiter = threading.Lock()
            waiter.acquire()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
        pool = lending.lender
        if pool is None:
            if timeout is None or timeout <= MAX_WAIT:
                if waiter.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
                    return True
            elif _acquire(waiter, timeout):
                return True
        else:  # a worker waiting for a run lends its slot meanwhile
            pool.block()
            try:
                if _acquire(waiter, timeout):
                    return True
            finally:
                pool.unblock()
        with self._lock:
            if self._waiters and waiter in self._waiters:
                self._waiters.remove(waiter)
            return self._done

    def _give_up(self, reason: CancelReason) -> None:
        """Complete a run that would not stop as abandoned (``stopped=False``)."""
        if not self._done:
            self._complete(False, _abandoned_error(self, reason))

    def _stop(self, reason: CancelReason, override: JidoError | None) -> None:
        """Ask the driver to stop; off the loop thread, wait until it has (or give up on it)."""
        with self._lock:
            if self._done:
                return
            if override is not None:
                self._override = lambda err: _merge_stop(override, err)
        if self._control is not None:
            self._control.cancel(reason)
        if self._loop is not None and asyncio._get_running_loop() is self._loop:
            return
        if not self._wait(self._grace):
            self._give_up(reason)


def waiter_reason() -> CancelReason:
    """Why a run is stopped when whoever waits for it goes away: ``parent`` if the
    waiter is a running action that was itself told to stop, else ``caller``."""
    ctx = current_or_none()
    if ctx is not None and ctx.cancel_reason is not None:
        return CancelReason.PARENT
    return CancelReason.CALLER


_PLAIN: Final = (float, int)


def _acquire(waiter: threading.Lock, timeout: float | None) -> bool:
    """``waiter.acquire`` for any wait (a huge one in slices the platform accepts)."""
    if timeout is None:
        return waiter.acquire()
    if timeout <= MAX_WAIT:
        return waiter.acquire(timeout=timeout)
    end = deadline_after(time.monotonic(), timeout)
    while not waiter.acquire(timeout=wait_slice(end - time.monotonic())):
        if time.monotonic() >= end:
            return False
    return True


def _await_timeout_error(ref: AsyncRef, timeout: float) -> JidoError:
    return TimeoutError(
        f"Async action '{ref.action}' timed out after {timeout:g}s",
        details={"action": ref.action, "timeout": timeout, "run_id": ref.run_id},
    )


def _merge_stop(override: JidoError, err: JidoError) -> JidoError:
    """Keep what the run learnt about stopping (stopped, stop) on the caller's error."""
    if isinstance(err, TimeoutError | CancelledError):
        for key in ("stopped", "stop", "attempt", "attempts"):
            if key in err.details:
                override.details[key] = err.details[key]
        return override
    return err


def _abandoned_error(ref: AsyncRef, reason: CancelReason) -> JidoError:
    details = {"action": ref.action, "run_id": ref.run_id, "stopped": False, "stop": "abandoned"}
    if reason is CancelReason.TIMEOUT:
        return TimeoutError(f"Action '{ref.action}' timed out", details=details)
    details["reason"] = reason.value
    return CancelledError(f"Action '{ref.action}' was cancelled ({reason.value})", details=details)


def _resolver(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]
) -> Callable[[AsyncRef], None]:
    thread_id = threading.get_ident()

    def resolve(_: AsyncRef) -> None:
        if threading.get_ident() == thread_id:
            _settle(future)
        else:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is awaiting any more
                loop.call_soon_threadsafe(_settle, future)

    return resolve


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def cancel_all(refs: list[AsyncRef]) -> None:
    """Ask each run to stop (reason ``shutdown``)."""
    for ref in refs:
        if ref._control is not None:
            ref._control.cancel(CancelReason.SHUTDOWN)


def wait_all(refs: list[AsyncRef], deadline: float) -> None:
    """Wait until each run is done or ``deadline`` passes (never on a run's own loop)."""
    for ref in refs:
        with contextlib.suppress(ConfigError):  # shut down from the loop a run is on
            ref._wait(max(0.0, deadline - time.monotonic()))


def wait_for(ref: AsyncRef) -> dict[str, Any]:
    """The run's outcome, waiting in this thread (an interrupt while waiting cancels it)."""
    try:
        return ref.result(timeout=None)
    except BaseException as exc:
        if not ref.done() and not isinstance(exc, JidoError):  # interrupted while waiting
            ref._abandon_wait()
        raise


def check_ref(ref: object) -> AsyncRef:
    """``ref`` if it is an AsyncRef, else an ``InvalidAsyncRefError``."""
    if isinstance(ref, AsyncRef):
        return ref
    raise InvalidAsyncRefError(
        f"Invalid async ref: expected a jido.AsyncRef, got {type(ref).__name__}",
        details={"type": type(ref).__name__},
    )
