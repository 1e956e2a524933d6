"""The asyncio driver, and the runtime's own event loop thread.

Async actions run on the caller's event loop when there is one (``arun``,
``run_async`` inside a coroutine) and on the runtime's loop thread otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from jido._core.cancel import CancelReason, Token
from jido._core.context import RunContext
from jido._core.errors import InternalError, JidoError
from jido._run.attempt import TaskLink, call_async
from jido._run.call import Call
from jido._run.compensation import compensable, start_compensation
from jido._run.outcome import Stopped
from jido._run.ref import AsyncRef
from jido._run.supervise import CrashError, Supervisor
from jido._run.timers import TimerHandle

__all__ = ["AsyncRun", "LoopThread"]

log = logging.getLogger("jido")


class AsyncRun:
    """Drives a run of an async action inside the current task."""

    __slots__ = ("_guarded", "_link", "_reason", "_ref", "_token", "call")

    def __init__(self, call: Call) -> None:
        self.call = call
        self._reason: CancelReason | None = None
        self._token: Token | None = None
        self._link: TaskLink | None = None
        self._ref: AsyncRef | None = None
        self._guarded = False

    def cancel(self, reason: CancelReason) -> None:
        """Stop the run (thread-safe). The first reason wins."""
        if self._reason is not None:
            return
        self._reason = reason
        token, link = self._token, self._link
        if token is not None:
            token.cancel(reason)
        elif link is not None:
            link(reason)

    async def drive(self) -> dict[str, Any]:
        """Run the attempts: the result, or the final error (raised, or given to the handle).

        One coroutine for the whole run: frames are most of an in-flight run's memory.
        """
        ref = self._ref
        try:
            task = asyncio.current_task()
            assert task is not None
            link = self._link = TaskLink(asyncio.get_running_loop(), task)
            result = await self._attempts(link)
        except JidoError as exc:
            if ref is None:
                raise
            ref._set_error(exc)
            return {}
        except BaseException as exc:  # the loop is going away (cancelled), or a bug
            if ref is None:
                raise
            ref._set_error(_driver_stopped(self.call, exc))
            if not self._guarded or isinstance(exc, asyncio.CancelledError):
                raise  # the caller's own loop: as Python would
            return {}  # contained: the runtime's loop thread carries on
        finally:
            if ref is not None:
                self.call.runtime._active.discard(ref)
        if ref is not None:
            ref._set_result(result)
        return result

    async def _attempts(self, link: TaskLink) -> dict[str, Any]:
        """Run attempts until one succeeds (its result) or the run gives up (raises)."""
        call = self.call
        parent = call.parent
        attempt = call.first_attempt - 1
        if call.resume_delay:  # a resumed run keeps the retry schedule it had
            await self._wait(link, call.resume_delay, attempt)
        while True:
            attempt += 1
            token = self._token = Token()
            if self._reason is not None:
                token.cancel(self._reason)
            unlink = parent.token.link_child(token) if parent is not None else None
            rctx = call.begin_attempt(attempt, call.attempt_deadline(time.monotonic()), token)
            guard = self._guard(rctx) if self._guarded else None
            try:
                result = await call_async(
                    call.spec, call.instance, call.params, call.context, rctx, link
                )
            except Stopped as stop:
                error = call.stop_error(token.reason, True, stop.mechanism, attempt)
            except JidoError as exc:
                error = exc
            else:
                return call.succeeded(attempt, result)
            finally:
                self._end_attempt(guard, unlink)
            delay, error = call.failed(attempt, error, cancelled=self._reason is not None)
            await self._before_retry(link, error, attempt, delay)  # raises to give up

    def _end_attempt(
        self, guard: TimerHandle | None, unlink: Callable[[CancelReason], None] | None
    ) -> None:
        self._token = None
        if guard is not None:
            guard.cancel()
        parent = self.call.parent
        if unlink is not None and parent is not None:
            parent.token.remove_callback(unlink)

    def _guard(self, rctx: RunContext) -> TimerHandle | None:
        """A backstop on the runtime's timer thread for runs on the runtime's own loop.

        If the action blocks the event loop, the loop cannot enforce its deadline; the
        timer thread then gives up on the run (``stop="abandoned"``) instead of hanging.
        """
        ref, deadline = self._ref, rctx.deadline
        if ref is None or deadline is None:
            return None
        runtime = self.call.runtime
        when = deadline + 2 * runtime.stop_timeout

        def abandon() -> None:
            error = self.call.stop_error(CancelReason.TIMEOUT, False, "abandoned", rctx.attempt)
            if not ref.done():
                ref._set_error(self.call.conclude(error, rctx.attempt, None))

        return runtime._timers.call_at(when, abandon, self.fail)

    def fail(self, error: JidoError) -> None:
        """Fail the run at once with ``error`` (jido lost track of it), and stop it."""
        if self._ref is not None:
            self._ref._set_error(error)
        self.cancel(CancelReason.SHUTDOWN)

    async def _before_retry(
        self, link: TaskLink, error: JidoError, attempt: int, delay: float | None
    ) -> None:
        """Give up (compensate, raise the final error) or wait out the retry delay."""
        call = self.call
        if delay is None:
            compensated = await _compensate(call, error) if compensable(call, error) else None
            raise call.conclude(error, attempt, compensated)
        if delay:
            await self._wait(link, delay, attempt)

    async def _wait(self, link: TaskLink, delay: float, attempt: int) -> None:
        """Wait before the next attempt; raise the final error if the run is stopped meanwhile."""
        if await self._sleep(link, delay):
            reason = self._reason or CancelReason.PARENT
            stopped = self.call.stop_error(reason, True, "not_started", attempt)
            raise self.call.conclude(stopped, attempt, None)

    async def _sleep(self, link: TaskLink, delay: float) -> bool:
        """Wait out a retry delay; True if the run was cancelled meanwhile."""
        if self._reason is not None:
            return True
        link.active = True
        try:
            await asyncio.sleep(delay)
        except asyncio.CancelledError:
            if link.settle():
                return True
            raise
        return link.settle() or self._reason is not None

    def bind(self, ref: AsyncRef, *, guarded: bool) -> AsyncRef:
        """Deliver the outcome to ``ref``; ``guarded`` adds the blocked-loop backstop."""
        self._ref = ref
        self._guarded = guarded
        ref._bind(self, ref._loop)
        return ref


def _driver_stopped(call: Call, exc: BaseException) -> JidoError:
    """The error of a run whose driver task was cancelled from outside, or died."""
    if isinstance(exc, asyncio.CancelledError):
        return call.stop_error(CancelReason.SHUTDOWN, True, "cancelled", 0)
    log.error("jido run driver died", exc_info=exc)
    action = call.spec.name
    error = InternalError(
        f"jido lost the run of action '{action}': its driver was stopped by {type(exc).__name__}",
        details={"action": action, "exception": type(exc).__qualname__},
    )
    error.__cause__ = exc
    return error


async def _compensate(call: Call, error: JidoError) -> JidoError:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[JidoError] = loop.create_future()

    def deliver(result: JidoError) -> None:
        loop.call_soon_threadsafe(_set_once, future, result)

    start_compensation(call, error, deliver)
    return await asyncio.shield(future)


def _set_once(future: asyncio.Future[JidoError], value: JidoError) -> None:
    if not future.done():
        future.set_result(value)


class LoopThread:
    """An event loop on a supervised daemon thread, for async work started from sync code.

    If the thread dies (an exception escaped the loop: a bug, or one raised into the
    thread from outside), the supervisor runs the same loop again on a new thread: its
    tasks carry on, and a run whose driver died with it has already failed with an
    ``internal_error``.
    """

    def __init__(self, name: str, supervisor: Supervisor | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._closing = False
        self._supervisor = supervisor or Supervisor(name)
        self.thread = self._supervisor.spawn("loop", self._serve, self._crashed)
        self._ready.wait()

    def _serve(self) -> None:
        self.thread = threading.current_thread()
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    def _crashed(self, crash: CrashError) -> bool:
        return not (self._closing or self.loop.is_closed())

    def spawn(
        self,
        factory: Callable[[], Coroutine[Any, Any, Any]],
        context: contextvars.Context | None = None,
    ) -> None:
        """Start ``factory()`` as a task on the loop, in ``context`` (thread-safe)."""
        ctx = contextvars.copy_context() if context is None else context
        self.loop.call_soon_threadsafe(lambda: self.loop.create_task(factory(), context=ctx))

    def compensate(
        self,
        method: Callable[..., Any],
        params: dict[str, Any],
        error: JidoError,
        context: dict[Any, Any],
        timeout: float,
        report: Callable[[bool, Any], None],
    ) -> None:
        """Run an async ``on_error`` on the loop under ``timeout``; ``report(ok, value)``."""

        async def compensation() -> None:
            try:
                async with asyncio.timeout(timeout):
                    value = await method(params, error, context)
            except TimeoutError:
                report(False, Stopped("timeout"))
            except BaseException as exc:
                report(False, exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
            else:
                report(True, value)

        self.spawn(compensation)

    def close(self, timeout: float) -> None:
        """Cancel what is left on the loop, stop it and join its thread."""
        if self.loop.is_closed():
            return
        self._closing = True

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(timeout + 1.0)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=timeout + 1.0)
        if not self.thread.is_alive():
            self.loop.close()
