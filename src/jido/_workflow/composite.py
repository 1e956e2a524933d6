"""Running a composite (a chain, a plan) as one action of its own.

A composite's driver is a coroutine (:meth:`Job.execute`) run inside an internal async
action with no timeout and no retries. Being an action, it gets everything a run gets
for free: it inherits an enclosing action's deadline, it is cancelled when that action
is, it has a real :class:`~jido.AsyncRef`, and the runtime stops it at shutdown. Its
steps are nested runs, so cancelling the composite cancels the running steps (reason
``parent``); :func:`run_step` then waits until they have stopped.

The three entry points (sync, asyncio, handle) of chains and plans take one path,
:func:`enter`: build the job, start the internal action, unwrap the driver's outcome.

A job reaches its steps through a :class:`Driver`. The sync entry point of a chain on a
runtime without a store uses :class:`InThread` instead: the chain's own run is an inline
run in the caller's thread, and each step runs as ``jido.run`` would run it from there
(in that thread when it has no time limit, else on its engine, waited for). The job's
coroutine then never suspends, so it is run to its end without an event loop; it keeps
one copy of the chain's logic for both.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from contextvars import Context, copy_context
from typing import Any, Final, Literal, Protocol

from jido._action.action import Action, ActionSpec, spec_of
from jido._core.cancel import CancelReason, Token
from jido._core.context import RunContext, current, current_or_none
from jido._core.errors import ConfigError, JidoError
from jido._core.options import RunOptions
from jido._core.safe import type_name
from jido._durable.journal import DurableRun
from jido._run.inline import run_inline
from jido._run.ref import AsyncRef
from jido._runtime.config import SETTINGS, RunKwargs, new_run_id
from jido._runtime.default import default_runtime
from jido._runtime.durable import check_run_id
from jido._runtime.runtime import Runtime, wait_for
from jido._workflow import durable

__all__ = [
    "ChainInThread",
    "ChainRunner",
    "Driver",
    "How",
    "InThread",
    "Job",
    "PlanRunner",
    "composite_cancelled",
    "enter",
    "pick_runtime",
    "run_here",
    "run_step",
]


class Job(Protocol):
    """The driver of one composite run; ``opts`` are the run options given for every step."""

    @property
    def opts(self) -> Mapping[str, Any]: ...

    @property
    def driver(self) -> Driver:
        """How it runs its steps."""

    async def execute(self) -> object:
        """Run the composite; return its outcome or raise a JidoError."""


class _Runner(Action, abstract=True):
    """The internal action a composite runs as; its result wraps the job's outcome."""

    async def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        job: Job = params["job"]
        return {"outcome": await job.execute()}


class ChainRunner(_Runner):
    """Runs a chain of actions (internal)."""

    name = "chain"


class PlanRunner(_Runner):
    """Runs a plan of actions (internal)."""

    name = "plan"


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


_ONCE: Final[RunKwargs] = {
    "timeout": None,
    "max_retries": 0,
    "total_timeout": None,
    "isolation": "thread",
}
"""How the internal action runs: no time limit, no retries, never in a child process."""


How = Literal["sync", "async", "ref"]
"""How an entry point waits: in this thread, in the calling task, or not at all (a handle)."""


def enter(
    runner: type[_Runner],
    how: How,
    runtime: Runtime | None,
    build: Callable[[Driver], Job],
    run_id: str | None = None,
    in_thread: type[_InThreadRunner] | None = None,
) -> Any:
    """The one path behind every composite entry point (``chain``, ``achain``, ...).

    Builds the job (argument errors raise, or go through the handle for ``"ref"``), starts
    the internal action (recording it first on a runtime with a store), and returns its
    outcome (``"sync"``), an awaitable of it (``"async"``) or the :class:`~jido.AsyncRef`
    that delivers it (``"ref"``). With ``in_thread``, the sync entry point on a runtime
    without a store runs the job in the caller's thread as that internal action.
    """
    try:
        rt = pick_runtime(runtime)
        here = in_thread is not None and how == "sync" and rt._durable is None
        job = build(InThread(rt, current_or_none() is not None) if here else Driver(rt))
        once: RunKwargs = {**_ONCE, **_observed(job.opts)}  # type: ignore[typeddict-item]
        if rt._durable is not None:
            return _deliver(how, durable.start(rt, runner, job, run_id, once))  # type: ignore[arg-type]
        if run_id is not None:
            check_run_id(run_id)
    except JidoError as exc:
        if how == "ref":
            return failed_ref(runner, exc, default_runtime())
        raise
    params = {"job": job}
    if how == "sync":
        inline = in_thread if here and in_thread is not None else runner
        return rt.run(inline, params, run_id=run_id, **once)["outcome"]
    if how == "async":
        return _outcome(rt.arun(runner, params, run_id=run_id, **once))
    return _relay(rt.run_async(runner, params, run_id=run_id, **once), rt._grace())


def _deliver(how: How, ref: AsyncRef) -> Any:
    if how == "sync":
        return wait_for(ref)
    if how == "async":
        return _awaited(ref)
    return ref


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


async def _in_context(context: Context, awaitable: Awaitable[Any]) -> Any:
    """``awaitable``'s outcome, awaited with the context variables of ``context``."""
    for var, value in context.items():
        var.set(value)
    return await awaitable


def pick_runtime(runtime: object) -> Runtime:
    """``runtime`` when it is a :class:`~jido.Runtime`, the default one for None."""
    if runtime is None:
        return default_runtime()
    if isinstance(runtime, Runtime):
        return runtime
    raise ConfigError(
        f"runtime must be a jido.Runtime or None, got {type_name(runtime)}",
        details={"option": "runtime"},
    )


def _observed(opts: Mapping[str, Any]) -> dict[str, Any]:
    """How the composite's own run is observed: as its steps are (``telemetry``, ``log_level``)."""
    return {k: opts[k] for k in ("telemetry", "log_level") if k in opts}


async def _outcome(run: Awaitable[dict[str, Any]]) -> Any:
    return (await run)["outcome"]


def failed_ref(runner: type[_Runner], error: JidoError, runtime: Runtime) -> AsyncRef:
    """A finished handle carrying ``error`` (errors found before the start go through the ref)."""
    ref = AsyncRef(runner.name, new_run_id(), runtime._grace())
    ref._set_error(error)
    return ref


def composite_cancelled() -> bool:
    """True when the composite running in this task has itself been told to stop."""
    ctx = current_or_none()
    return ctx is not None and ctx.cancelled


# -- steps ----------------------------------------------------------------------------------------
class Driver:
    """How a composite's job runs its steps: as nested runs awaited on its event loop."""

    __slots__ = ("runtime",)

    now: Callable[..., dict[str, Any]] | None = None
    """Runs a step to its end in this thread, as :meth:`step` would (None: await ``step``)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def step(
        self,
        action: object,
        params: Mapping[str, Any],
        context: Mapping[Any, Any],
        opts: Mapping[str, Any],
        key: str,
        run: DurableRun | None = None,
    ) -> dict[str, Any]:
        """Run step ``key`` (see :func:`run_step`)."""
        return await run_step(self.runtime, action, params, context, opts, key, run)

    async def nested(
        self,
        action: object,
        params: Mapping[str, Any],
        context: Mapping[Any, Any],
        opts: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Run a nested run that is not a step (a compensation); its result."""
        return await self.runtime._start(action, params, context, None, opts)

    async def resolve(self, awaitable: Awaitable[Any]) -> Any:
        """What ``awaitable`` (an async interrupt check's verdict) gives."""
        return await awaitable


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
        return _run_resolved(self.runtime, spec, options, params, context, key, self.token)

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
    return _run_resolved(runtime, spec, options, params, context, key, linked)


def _run_resolved(
    runtime: Runtime,
    spec: ActionSpec,
    options: RunOptions,
    params: Mapping[str, Any],
    context: Mapping[Any, Any],
    key: str | None,
    linked: Token | None,
) -> dict[str, Any]:
    mode = runtime._mode(spec, options)
    if mode == "thread" and options.timeout is None and not options.retry.total_timeout:
        mode = "inline"
    own = dict(context) if context else {}  # an instruction's context is checked already
    call = runtime._prepare(spec, options, params, own, mode)
    if key is not None:
        call.key = key
    if mode == "inline":
        return run_inline(call, linked)
    if mode == "async":
        return wait_for(runtime._start_on_loop(call))
    return wait_for(runtime._start_engine(call))


async def run_step(
    runtime: Runtime,
    action: object,
    params: Mapping[str, Any],
    context: Mapping[Any, Any],
    opts: Mapping[str, Any],
    key: str,
    run: DurableRun | None = None,
) -> dict[str, Any]:
    """Run step ``key`` as a nested run; if this task is cancelled, wait until it stopped.

    ``run`` (a durable composite) journals the step's attempts under ``key``.
    """
    hook = durable.StepHook(key, run)
    ref = runtime._start(action, params, context, None, opts, hook)
    try:
        return hook.check(await ref)  # type: ignore[return-value]
    except asyncio.CancelledError:
        await _settled(ref, runtime._grace())
        raise


async def _settled(ref: AsyncRef, timeout: float) -> None:
    if ref.done():
        return
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def wake(_: AsyncRef) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(_resolve, done)

    ref.add_done_callback(wake)
    await asyncio.wait({done}, timeout=timeout)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


# -- the handle -----------------------------------------------------------------------------------
class _Forward:
    """Cancelling the outer handle cancels the internal run (with the same reason)."""

    __slots__ = ("inner",)

    def __init__(self, inner: AsyncRef) -> None:
        self.inner = inner

    def cancel(self, reason: CancelReason) -> None:
        control = self.inner._control
        if control is not None:
            control.cancel(reason)


def _relay(inner: AsyncRef, grace: float) -> AsyncRef:
    outer = AsyncRef(inner.action, inner.run_id, grace)
    outer._bind(_Forward(inner), inner._loop_thread)
    inner.add_done_callback(_deliver_to(outer))
    return outer


def _deliver_to(outer: AsyncRef) -> Callable[[AsyncRef], None]:
    def deliver(inner: AsyncRef) -> None:
        error = inner.exception()
        if error is not None:
            outer._set_error(error)
        else:
            outer._set_result(inner.result(timeout=0)["outcome"])

    return deliver
