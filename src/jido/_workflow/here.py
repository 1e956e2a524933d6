"""Composites run in the caller's thread: what a sync ``chain(...)`` or ``plan.run()`` uses.

A sync entry point waits in the caller's thread anyway, so it may as well drive the
composite there instead of hopping to the runtime's event loop thread and back.

- :data:`CHAIN`: the chain's own run is an inline run of :class:`ChainInThread` in the
  caller's thread, and each step runs as ``jido.run`` would run it from there (in that
  thread when it has no time limit, else on its engine, waited for). The job's
  coroutine then never suspends (:class:`InThread`), so it is run to its end without an
  event loop: the chain's logic exists once for both drivers.
- :data:`PLAN`: a plan's steps run concurrently, so its driver needs an event loop: the
  caller's thread runs one of its own (kept for the thread) when it has none running
  and is not inside a run; the plan's own run is then a run on that loop, tracked by
  the runtime like any other. Elsewhere the plan takes the runtime's loop, as before.

It may import the composite machinery (``composite.py``) and the core; not the
composites themselves.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Awaitable, Mapping
from contextvars import Context, copy_context
from typing import Any, Final

from jido._action.action import Action, ActionSpec, spec_of
from jido._core.cancel import CancelReason, Token
from jido._core.context import RunContext, current, current_or_none
from jido._core.options import RunOptions
from jido._durable.journal import DurableRun
from jido._run.ref import AsyncRef
from jido._runtime.config import SETTINGS, RunKwargs
from jido._runtime.runtime import Runtime
from jido._workflow.composite import Driver, Job, Runner

__all__ = ["CHAIN", "PLAN", "ChainInThread", "InThread", "run_here"]


class _InThreadRunner(Action, abstract=True):
    """The internal action a composite runs as in the caller's thread (an inline run)."""

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        job: Job = params["job"]
        driver = job.driver
        assert isinstance(driver, InThread)
        return {"outcome": driver.drive(job)}


class ChainInThread(_InThreadRunner):
    """Runs a chain of actions in the caller's thread (internal)."""

    name = "chain"


class _ChainHere:
    """A sync chain in the caller's thread: an inline run driving the steps there."""

    def driver(self, runtime: Runtime) -> Driver:
        return InThread(runtime, current_or_none() is not None)

    def run(
        self, runtime: Runtime, runner: type[Runner], job: Job, run_id: str | None, once: RunKwargs
    ) -> Any:
        return runtime.run(ChainInThread, {"job": job}, run_id=run_id, **once)["outcome"]


class _PlanHere:
    """A sync plan on the caller's own event loop, when it has none and is in no run."""

    def driver(self, runtime: Runtime) -> Driver:
        return Driver(runtime)

    def run(
        self, runtime: Runtime, runner: type[Runner], job: Job, run_id: str | None, once: RunKwargs
    ) -> Any:
        params = {"job": job}
        if current_or_none() is not None or asyncio._get_running_loop() is not None:
            return runtime.run(runner, params, run_id=run_id, **once)["outcome"]
        return _on_own_loop(runtime, runner, params, run_id, once)


CHAIN: Final = _ChainHere()
PLAN: Final = _PlanHere()


def _on_own_loop(
    runtime: Runtime,
    runner: type[Runner],
    params: dict[str, Any],
    run_id: str | None,
    once: RunKwargs,
) -> Any:
    """``runner``'s outcome, run on this thread's own event loop (see the module's doc).

    An interrupt while it runs (``KeyboardInterrupt``) cancels the run, as a sync wait
    would, and lets it stop its steps (for the runtime's grace period) before raising.
    """
    loop = _own_loop()
    started: list[AsyncRef] = []

    async def main() -> Any:
        ref = runtime._start(runner, params, None, run_id, once)  # tracked, on this loop
        started.append(ref)
        return (await ref)["outcome"]

    task = loop.create_task(main())
    try:
        return loop.run_until_complete(task)
    except BaseException:
        if not task.done():  # interrupted: a cancelled wait cancels the run ("caller")
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(_stopped(task, started, runtime._grace()))
        raise


async def _stopped(task: asyncio.Task[Any], started: list[AsyncRef], grace: float) -> None:
    with contextlib.suppress(BaseException):
        await task
    if started and not started[0].done():
        waiter = asyncio.ensure_future(_ended(started[0]))
        await asyncio.wait({waiter}, timeout=grace)
        waiter.cancel()


async def _ended(ref: AsyncRef) -> None:
    with contextlib.suppress(BaseException):
        await ref


class _OwnLoop(threading.local):
    """This thread's own event loop, closed with the thread."""

    def __init__(self) -> None:
        self.holder: _Holder | None = None


class _Holder:
    __slots__ = ("loop",)

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.loop.close()


_OWN = _OwnLoop()


def _own_loop() -> asyncio.AbstractEventLoop:
    holder = _OWN.holder
    if holder is None or holder.loop.is_closed():
        holder = _OWN.holder = _Holder()
    return holder.loop


class InThread(Driver):
    """Runs the steps in the caller's thread, as ``jido.run`` would run them from there.

    Its coroutines never suspend: :meth:`drive` runs a job to its end without a loop.
    Its steps that run in this thread share one token, cancelled with ``PARENT`` when
    the composite's run is: by :meth:`cancel` (a shutdown), or through the enclosing
    run's token when ``nested`` (nothing else can cancel a run in the caller's thread).
    """

    __slots__ = ("ctx", "nested_run", "now", "resolved", "token")

    def __init__(self, runtime: Runtime, nested: bool) -> None:
        super().__init__(runtime)
        self.token = Token()
        self.nested_run = nested
        self.ctx: RunContext | None = None
        self.now = self._now
        self.resolved: tuple[Mapping[str, Any], int, RunOptions] | None = None

    def drive(self, job: Job) -> Any:
        """Run ``job`` inside the composite's own run (this thread's current run).

        The run is in the runtime's active runs meanwhile, so a shutdown cancels it (and
        waits for it) as it does a composite on the runtime's loop.
        """
        ctx = self.ctx = current()
        runtime = self.runtime
        ref = AsyncRef(ctx.action, ctx.run_id, runtime._grace())
        ref._bind(self, None)
        unlink = ctx.token.link_child(self.token) if self.nested_run else None
        runtime._active.add(ref)
        try:
            return _to_end(job.execute())
        finally:
            runtime._active.discard(ref)
            if unlink is not None:
                ctx.token.remove_callback(unlink)
            ref._set_result({})

    def cancel(self, reason: CancelReason) -> None:
        """Stop the composite (its handle's control): its run, then its running step."""
        if self.ctx is not None:
            self.ctx.token.cancel(reason)
        self.token.cancel(CancelReason.PARENT)

    async def step(
        self,
        action: object,
        params: Mapping[str, Any],
        context: Mapping[Any, Any],
        opts: Mapping[str, Any],
        key: str,
        run: DurableRun | None = None,
    ) -> dict[str, Any]:
        return self._now(action, params, context, opts, key)

    def _now(
        self,
        action: object,
        params: Mapping[str, Any],
        context: Mapping[Any, Any],
        opts: Mapping[str, Any],
        key: str,
        run: DurableRun | None = None,  # never: a durable composite is not driven here
    ) -> dict[str, Any]:
        ctx = self.ctx
        assert ctx is not None
        ctx.check()  # the composite was stopped: no further step starts
        spec, options = self._resolve(action, opts)
        key = f"{ctx.run_id}/{key}"
        own = dict(context) if context else {}  # an instruction's context is checked already
        return self.runtime._run_resolved(spec, options, params, own, None, key, self.token)

    def _resolve(self, action: object, opts: Mapping[str, Any]) -> tuple[ActionSpec, RunOptions]:
        """``runtime._resolve``; the steps of a composite mostly share one options mapping.

        The options resolved for it are reused while the settings they were merged with
        are unchanged (as the runtime's own cache does), and the runtime is open.
        """
        runtime = self.runtime
        last = self.resolved
        version = SETTINGS.version
        if last is not None and last[0] is opts and last[1] == version and not runtime._closed:
            return spec_of(action), last[2]
        spec, options = runtime._resolve(action, opts)
        self.resolved = (opts, version, options)
        return spec, options

    async def nested(
        self,
        action: object,
        params: Mapping[str, Any],
        context: Mapping[Any, Any],
        opts: Mapping[str, Any],
    ) -> dict[str, Any]:
        return run_here(self.runtime, action, params, context, opts, None, self.token)

    async def resolve(self, awaitable: Awaitable[Any]) -> Any:
        """Awaited on the runtime's loop, in this thread's context; stopping the chain stops it."""
        ctx = current()
        loop = self.runtime._loop().loop
        future = asyncio.run_coroutine_threadsafe(_in_context(copy_context(), awaitable), loop)

        def stop(_: CancelReason) -> None:
            future.cancel()

        ctx.token.on_cancel(stop)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            ctx.check()  # the chain was stopped while its check ran
            raise
        finally:
            ctx.token.remove_callback(stop)
            future.cancel()  # interrupted while waiting: the check is not left running


def _to_end(coro: Any) -> Any:
    """The outcome of a coroutine that never suspends, run to its end in this thread."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError("a composite driven in the caller's thread suspended")


def run_here(
    runtime: Runtime,
    action: object,
    params: Mapping[str, Any],
    context: Mapping[Any, Any],
    opts: Mapping[str, Any],
    key: str | None = None,
    linked: Token | None = None,
) -> dict[str, Any]:
    """Run ``action`` as ``runtime.run`` runs it from this thread (not journaled).

    In this thread when it is a sync action with no time limit, else on its engine (or
    the runtime's loop), waited for here. ``key``: a step's idempotency key; ``linked``:
    the token of a run in this thread (see :func:`~jido._run.inline.run_inline`).
    """
    spec, options = runtime._resolve(action, opts)
    own = dict(context) if context else {}  # an instruction's context is checked already
    return runtime._run_resolved(spec, options, params, own, None, key, linked)


async def _in_context(context: Context, awaitable: Awaitable[Any]) -> Any:
    """``awaitable``'s outcome, awaited with the context variables of ``context``."""
    for var, value in context.items():
        var.set(value)
    return await awaitable
