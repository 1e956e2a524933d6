"""Running a composite (a chain, a plan) as one action of its own.

A composite's driver is a coroutine (:meth:`Job.execute`) run inside an internal async
action with no timeout and no retries. Being an action, it gets everything a run gets
for free: it inherits an enclosing action's deadline, it is cancelled when that action
is, it has a real :class:`~jido.AsyncRef`, and the runtime stops it at shutdown. Its
steps are nested runs, so cancelling the composite cancels the running steps (reason
``parent``); :func:`run_step` then waits until they have stopped.

The three entry points (sync, asyncio, handle) of chains and plans take one path,
:func:`enter`: build the job, start the internal action, unwrap the driver's outcome.
A job reaches its steps through a :class:`Driver`. The sync entry point may instead run
the job in the caller's thread (:class:`Here`, implemented in ``here.py``), without the
hops to the runtime's event loop thread and back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Literal, Protocol

from jido._action.action import Action
from jido._core.cancel import CancelReason
from jido._core.context import current_or_none
from jido._core.errors import ConfigError, JidoError
from jido._core.safe import type_name
from jido._durable.journal import DurableRun
from jido._run.ref import AsyncRef, wait_for
from jido._runtime.config import RunKwargs, new_run_id
from jido._runtime.default import default_runtime
from jido._runtime.durable import check_run_id
from jido._runtime.runtime import Runtime
from jido._workflow import durable

__all__ = [
    "ChainRunner",
    "Driver",
    "Here",
    "How",
    "Job",
    "PlanRunner",
    "Runner",
    "composite_cancelled",
    "enter",
    "failed_ref",
    "pick_runtime",
    "run_step",
    "step_result",
    "stop_all",
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


class Runner(Action, abstract=True):
    """The internal action a composite runs as; its result wraps the job's outcome."""

    async def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        job: Job = params["job"]
        return {"outcome": await job.execute()}


class ChainRunner(Runner):
    """Runs a chain of actions (internal)."""

    name = "chain"


class PlanRunner(Runner):
    """Runs a plan of actions (internal)."""

    name = "plan"


_ONCE: Final[RunKwargs] = {
    "timeout": None,
    "max_retries": 0,
    "total_timeout": None,
    "isolation": "thread",
}
"""How the internal action runs: no time limit, no retries, never in a child process."""


How = Literal["sync", "async", "ref"]
"""How an entry point waits: in this thread, in the calling task, or not at all (a handle)."""


class Here(Protocol):
    """How a sync entry point runs a composite in the caller's thread (see ``here.py``)."""

    def driver(self, runtime: Runtime) -> Driver:
        """The driver the job is built with."""

    def run(
        self, runtime: Runtime, runner: type[Runner], job: Job, run_id: str | None, once: RunKwargs
    ) -> Any:
        """Run ``job`` as ``runner`` would and return its outcome."""


def enter(
    runner: type[Runner],
    how: How,
    runtime: Runtime | None,
    build: Callable[[Driver], Job],
    run_id: str | None = None,
    here: Here | None = None,
) -> Any:
    """The one path behind every composite entry point (``chain``, ``achain``, ...).

    Builds the job (argument errors raise, or go through the handle for ``"ref"``), starts
    the internal action (recording it first on a runtime with a store), and returns its
    outcome (``"sync"``), an awaitable of it (``"async"``) or the :class:`~jido.AsyncRef`
    that delivers it (``"ref"``). With ``here``, the sync entry point on a runtime
    without a store runs the job in the caller's thread.
    """
    try:
        rt = pick_runtime(runtime)
        local = here if how == "sync" and rt._durable is None else None
        job = build(local.driver(rt) if local is not None else Driver(rt))
        once: RunKwargs = {**_ONCE, **_observed(job.opts)}  # type: ignore[typeddict-item]
        if rt._durable is not None:
            return _deliver(how, durable.start(rt, runner, job, run_id, once))  # type: ignore[arg-type]
        if run_id is not None:
            check_run_id(run_id)
    except JidoError as exc:
        if how == "ref":
            return failed_ref(runner, exc, default_runtime())
        raise
    if local is not None:
        return local.run(rt, runner, job, run_id, once)
    params = {"job": job}
    if how == "sync":
        return rt.run(runner, params, run_id=run_id, **once)["outcome"]
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


def failed_ref(runner: type[Runner], error: JidoError, runtime: Runtime) -> AsyncRef:
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

    def start(
        self,
        action: object,
        params: Mapping[str, Any],
        context: Mapping[Any, Any],
        opts: Mapping[str, Any],
        key: str,
        run: DurableRun | None = None,
    ) -> tuple[AsyncRef, durable.StepHook]:
        """Start step ``key`` (see :func:`run_step`); its handle, read with :func:`step_result`."""
        hook = durable.StepHook(key, run)
        return self.runtime._start(action, params, context, None, opts, hook), hook

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
    await _all_settled([ref], timeout)


async def stop_all(refs: list[AsyncRef], timeout: float) -> None:
    """Cancel the runs of ``refs`` (reason ``caller``); wait up to ``timeout`` until they end."""
    for ref in refs:
        control = ref._control
        if control is not None and not ref.done():
            control.cancel(CancelReason.CALLER)
    await _all_settled(refs, timeout)


async def _all_settled(refs: list[AsyncRef], timeout: float) -> None:
    pending = [ref for ref in refs if not ref.done()]
    if not pending:
        return
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    left = [len(pending)]

    def wake(_: AsyncRef) -> None:
        left[0] -= 1  # under the GIL; the last one wakes the loop
        if left[0] == 0:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
                loop.call_soon_threadsafe(_resolve, done)

    for ref in pending:
        ref.add_done_callback(wake)
    await asyncio.wait({done}, timeout=timeout)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def step_result(ref: AsyncRef, hook: durable.StepHook) -> dict[str, Any]:
    """The result of a step's finished run ``ref`` (its error raised)."""
    return hook.check(ref._outcome())  # type: ignore[return-value]


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
    outer._bind(_Forward(inner), inner._loop)
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
