"""Chains: run actions in sequence, each result merged into the params of the next.

The driver is one coroutine (:class:`_ChainJob`); :func:`chain`, :func:`achain` and
:func:`chain_async` run it as an internal action (see ``composite.py``), so a chain
nests, times out and cancels like a single action. :func:`chain` runs it in the
caller's thread (on a runtime without a store), its steps as ``jido.run`` runs them.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Unpack

from jido._action.action import describe
from jido._core.errors import ConfigError, ExecutionError, JidoError, ValidationError, derive
from jido._core.normalize import normalize_params
from jido._core.safe import describe as describe_value
from jido._core.safe import type_name
from jido._durable.definition import encode_options
from jido._durable.journal import DurableRun
from jido._run.ref import AsyncRef
from jido._runtime.config import RunKwargs
from jido._runtime.runtime import Runtime
from jido._workflow import here
from jido._workflow.composite import ChainRunner, Driver, How, composite_cancelled, enter
from jido._workflow.durable import step_entry
from jido._workflow.instruction import Instruction, check_options, normalize
from jido._workflow.saga import Completed, compensate

__all__ = ["ChainInterrupted", "achain", "chain", "chain_async"]

log = logging.getLogger("jido")

InterruptCheck = Callable[[], object]


class ChainInterrupted(dict[str, Any]):
    """What a chain returns when its interrupt check stopped it: the params so far.

    It is the dict of accumulated params (the initial params merged with every
    completed step's params and result), so it can be used like a normal result; test
    for it with ``isinstance(result, ChainInterrupted)``.

    Attributes:
        index: the position of the first step that did not run (= steps completed).
        action: the name of that step's action.

    Example:
        >>> import jido
        >>> from jido.workflow import ChainInterrupted
        >>> @jido.action
        ... def inc(value: int) -> dict:
        ...     return {"value": value + 1}
        >>> checks = iter([False, True])
        >>> out = jido.chain([inc, inc], {"value": 0}, interrupt_check=lambda: next(checks))
        >>> isinstance(out, ChainInterrupted), out, out.index, out.action
        (True, ChainInterrupted({'value': 1}, index=1, action='inc'), 1, 'inc')
    """

    __slots__ = ("action", "index")

    def __init__(self, params: Mapping[str, Any], *, index: int, action: str) -> None:
        super().__init__(params)
        self.index = index
        self.action = action

    def __repr__(self) -> str:
        return (
            f"ChainInterrupted({dict.__repr__(self)}, index={self.index}, action={self.action!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (dict(self), self.index, self.action))


def _rebuild(params: dict[str, Any], index: int, action: str) -> ChainInterrupted:
    return ChainInterrupted(params, index=index, action=action)


# -- entry points ---------------------------------------------------------------------------------
def chain(
    steps: Iterable[object],
    /,
    params: object = None,
    context: object = None,
    *,
    interrupt_check: InterruptCheck | None = None,
    compensate: bool = False,
    runtime: Runtime | None = None,
    run_id: str | None = None,
    **opts: Unpack[RunKwargs],
) -> dict[str, Any]:
    """Run ``steps`` in order; each step gets the params so far merged with its own.

    Step ``i`` runs with ``{**params_so_far, **step.params}``; afterwards the params so
    far are ``{**those_params, **result}``, so a step's own params persist for later
    steps. The final params are returned.

    Args:
        steps: a list of instruction forms: an action, ``(action, params)``,
            ``(action, params, context)``, ``(action, params, context, opts)`` or an
            :class:`~jido.Instruction`.
        params: the initial params.
        context: a context shared by every step, merged over each step's own context.
        interrupt_check: called before every step (never after the last); when it
            returns true the chain stops and returns a :class:`ChainInterrupted`.
            It runs in the thread driving the chain (the caller's for :func:`chain`,
            an event loop's otherwise): keep it fast. It may be ``async``.
        compensate: when a step fails, undo the completed steps (their ``on_error``),
            newest first; the outcome is in the error's ``details["saga"]``.
        runtime: the :class:`~jido.Runtime` to run on (default: the default runtime).
        run_id: names the chain's run; on a runtime with a store it is the durable run's
            id and idempotency key (a second start with the same id joins the first).
        **opts: run options (``timeout``, ``max_retries``, ...) for every step; a step's
            own options win.

    Returns:
        The final params, or a :class:`ChainInterrupted` holding the params so far.

    Raises:
        jido.JidoError: the first step error, unchanged in type, with ``details["step"]``
            (its index), ``details["step_action"]`` and ``details["completed_steps"]``;
            a ``ValidationError`` for malformed steps, a ``ConfigError`` for bad options.

    Example:
        >>> import jido
        >>> @jido.action
        ... def add(value: int, amount: int = 1) -> dict:
        ...     return {"value": value + amount}
        >>> @jido.action
        ... def double(value: int) -> dict:
        ...     return {"value": value * 2}
        >>> jido.chain([add, (add, {"amount": 10}), double], {"value": 1})
        {'value': 24, 'amount': 10}
    """
    return _enter(  # type: ignore[no-any-return]
        "sync", steps, params, context, interrupt_check, compensate, runtime, run_id, opts
    )


async def achain(
    steps: Iterable[object],
    /,
    params: object = None,
    context: object = None,
    *,
    interrupt_check: InterruptCheck | None = None,
    compensate: bool = False,
    runtime: Runtime | None = None,
    run_id: str | None = None,
    **opts: Unpack[RunKwargs],
) -> dict[str, Any]:
    """Like :func:`chain`, awaited inside asyncio; cancelling the task cancels the chain.

    Example:
        >>> import asyncio, jido
        >>> from jido.workflow import achain
        >>> @jido.action
        ... async def inc(value: int) -> dict:
        ...     return {"value": value + 1}
        >>> asyncio.run(achain([inc, inc], {"value": 0}))
        {'value': 2}
    """
    return await _enter(  # type: ignore[no-any-return]
        "async", steps, params, context, interrupt_check, compensate, runtime, run_id, opts
    )


def chain_async(
    steps: Iterable[object],
    /,
    params: object = None,
    context: object = None,
    *,
    interrupt_check: InterruptCheck | None = None,
    compensate: bool = False,
    runtime: Runtime | None = None,
    run_id: str | None = None,
    **opts: Unpack[RunKwargs],
) -> AsyncRef:
    """Start a chain and return its :class:`~jido.AsyncRef` at once.

    ``jido.await_(ref)``, ``ref.result()`` and ``await ref`` give what :func:`chain`
    returns. ``jido.cancel(ref)`` stops the running step (it waits until the step has
    stopped) and no further step runs. Errors in the arguments are delivered by the ref.

    Example:
        >>> import jido
        >>> from jido.workflow import chain_async
        >>> @jido.action
        ... def inc(value: int) -> dict:
        ...     return {"value": value + 1}
        >>> ref = chain_async([inc, inc, inc], {"value": 0})
        >>> jido.await_(ref)
        {'value': 3}
    """
    return _enter(  # type: ignore[no-any-return]
        "ref", steps, params, context, interrupt_check, compensate, runtime, run_id, opts
    )


def _enter(
    how: How,
    steps: Iterable[object],
    params: object,
    context: object,
    interrupt_check: object,
    compensate: object,
    runtime: Runtime | None,
    run_id: str | None,
    opts: Mapping[str, Any],
) -> Any:
    return enter(
        ChainRunner,
        how,
        runtime,
        lambda driver: _job(steps, params, context, interrupt_check, compensate, opts, driver),
        run_id,
        here.CHAIN,
    )


# -- the driver -----------------------------------------------------------------------------------
@dataclass(slots=True, repr=False)  # not frozen: built for every chain, never changed
class _ChainJob:
    steps: tuple[Instruction, ...]
    params: dict[str, Any]
    opts: dict[str, Any]
    interrupt_check: InterruptCheck | None
    compensate: bool
    driver: Driver
    durable: DurableRun | None = None

    def __repr__(self) -> str:  # never params or context (telemetry may show it)
        return f"<chain of {len(self.steps)} steps>"

    async def execute(self) -> dict[str, Any]:
        acc = self.params
        completed: list[Completed] = []  # kept only to compensate them
        run = self.durable
        done = run.completed if run is not None else {}
        check, now, compensating = self.interrupt_check, self.driver.now, self.compensate
        for index, step in enumerate(self.steps):
            if check is not None and await self._interrupted(index, step):
                return ChainInterrupted(acc, index=index, action=step.name)
            own, own_opts = step.params, step.opts  # read-only mappings: unpacked slowly
            params = {**acc, **own} if own else {**acc}
            opts = {**self.opts, **own_opts} if own_opts else self.opts
            key = str(index)
            try:
                if key in done:
                    result = done[key]
                elif now is not None:  # no coroutine per step when it runs in this thread
                    result = now(step.action, params, step.context, opts, key)
                else:
                    result = await self.driver.step(
                        step.action, params, step.context, opts, key, run
                    )
            except JidoError as error:
                raise await self._failed(error, index, step, completed) from error
            if compensating:
                completed.append(Completed(index, step, params, opts, result))
            acc = {**params, **result}
        return acc

    # -- durable runs ------------------------------------------------------------------------------
    def definition(self) -> tuple[dict[str, Any], Any]:
        """What a durable chain records (every step, by reference) and its fingerprint's shape."""
        if self.interrupt_check is not None:
            raise ValidationError(
                "a durable chain cannot take an interrupt_check (a resumed run could not call "
                "it); cancel the run instead (rt.runs.cancel(run_id))",
                details={"option": "interrupt_check"},
            )
        steps = [step_entry(step, f"step {i}") for i, step in enumerate(self.steps)]
        definition = {
            "steps": steps,
            "opts": encode_options(self.opts, "chain options"),
            "compensate": self.compensate,
        }
        shape = {
            "kind": "chain",
            "steps": [[s["action"], s["version"], s["schema"]] for s in steps],
        }
        return definition, shape

    def first_step(self) -> str | None:
        return "0" if self.steps else None

    def with_run(self, run: DurableRun) -> _ChainJob:
        # each step's success also records the next step's first attempt: one commit a step
        run.successors.update({str(i): str(i + 1) for i in range(len(self.steps) - 1)})
        return dataclasses.replace(self, durable=run)

    def encode_outcome(self, outcome: Any) -> Any:
        return dict(outcome)

    async def _interrupted(self, index: int, step: Instruction) -> bool:
        check = self.interrupt_check
        if check is None:
            return False
        try:
            verdict = check()
            if inspect.isawaitable(verdict):
                verdict = await self.driver.resolve(verdict)
        except Exception as exc:
            raise ExecutionError(
                f"Chain interrupt_check failed before step {index} ({step.name}): {describe(exc)}",
                details={"step": index, "step_action": step.name},
                retryable=False,
            ) from exc
        if verdict:
            log.info("Chain interrupted before step %d (%s)", index, step.name)
        return bool(verdict)

    async def _failed(
        self, error: JidoError, index: int, step: Instruction, completed: list[Completed]
    ) -> JidoError:
        """The chain's error: the step's, saying which step failed; the saga when asked."""
        failed = derive(
            error,
            f"Chain step {index} ({step.name}) failed: {error.message}",
            {**error.details, "step": index, "step_action": step.name, "completed_steps": index},
        )
        if self.compensate and completed and not composite_cancelled():
            failed.details["saga"] = await compensate(self.driver, completed, failed)
        return failed


def _job(
    steps: Iterable[object],
    params: object,
    context: object,
    interrupt_check: object,
    compensate: object,
    opts: Mapping[str, Any],
    driver: Driver,
) -> _ChainJob:
    if interrupt_check is not None and not callable(interrupt_check):
        raise ConfigError(
            "interrupt_check must be a callable returning a bool, "
            f"got {describe_value(interrupt_check)}",
            details={"option": "interrupt_check"},
        )
    if not isinstance(compensate, bool):
        raise ConfigError(
            f"compensate must be a bool, got {describe_value(compensate)}",
            details={"option": "compensate"},
        )
    return _ChainJob(
        tuple(normalize(_step_list(steps), context)),
        normalize_params(params),
        check_options(opts, "chain options"),
        interrupt_check,
        compensate,
        driver,
    )


def _step_list(steps: object) -> list[object]:
    if isinstance(steps, list):
        return steps
    if isinstance(steps, tuple):
        raise ValidationError(
            "chain steps must be a list, got a tuple (for one step with params, "
            "write [(action, params)])",
            details={"type": "tuple"},
        )
    if isinstance(steps, Iterable) and not isinstance(steps, str | bytes | Mapping):
        try:
            return list(steps)
        except Exception as exc:  # an iterable that fails while iterating
            raise ValidationError(
                f"chain steps could not be read: iterating them raised {type_name(exc)}",
                details={"type": type_name(steps), "exception": type_name(exc)},
            ) from exc
    raise ValidationError(
        f"chain steps must be a list of instructions, got {type_name(steps)}",
        details={"type": type_name(steps)},
    )
