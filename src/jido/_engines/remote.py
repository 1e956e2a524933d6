"""Running an attempt in another process: what is sent, and the receiving side.

Shared by the process engine and cluster engines: the caller sends the action (by
reference), its validated params, the context, and the attempt's facts (run id,
attempt number, remaining time, trace context); the other side rebuilds the run
context, runs the attempt with the same code as in-process, and returns the outcome.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from jido._action.action import ActionSpec, describe, spec_of
from jido._core.cancel import Token, _Injected
from jido._core.context import RunContext
from jido._core.errors import ExecutionError, JidoError, ValidationError
from jido._run.attempt import TaskLink, call_async, call_sync
from jido._run.call import Call
from jido._run.outcome import Outcome, Stopped

__all__ = [
    "ACTIVE",
    "INTERRUPTIBLE",
    "REPORTER",
    "ProgressNote",
    "check_importable",
    "exit_error",
    "interactive_refs",
    "make_payload",
    "safe_describe",
    "serve",
    "unsendable",
]

ACTIVE: Token | None = None
"""The token of the attempt this process is running (read by signal handlers)."""
INTERRUPTIBLE = True
"""Whether that attempt's action may be interrupted (``Action.interruptible``)."""

Payload = tuple[Any, dict[str, Any], dict[Any, Any], tuple[Any, ...]]


class ProgressNote(NamedTuple):
    """A ``jido.current().progress(...)`` report on its way back to the caller."""

    run_id: str
    attempt: int
    done: float
    total: float | None
    message: str | None


REPORTER: Callable[[ProgressNote], None] | None = None
"""Where this process sends an attempt's ``jido.current().progress(...)`` (None: nowhere)."""


def make_payload(call: Call, rctx: RunContext) -> Payload:
    remaining = None if rctx.deadline is None else rctx.deadline - time.monotonic()
    carrier = rctx._scope.carrier() if rctx._scope is not None else None
    meta = (
        rctx.run_id,
        rctx.attempt,
        rctx.max_attempts,
        remaining,
        carrier,
        rctx.idempotency_key,
        rctx._report is not None,  # someone listens: send progress back
    )
    return (call.spec.target, call.params, call.context, meta)


def unsendable(call: Call, where: str, exc: BaseException) -> JidoError:
    return ValidationError(
        f"Action '{call.spec.name}' cannot run with {where}: its params and context must be "
        f"serializable and the action importable by module path ({safe_describe(exc)})",
        details={"action": call.spec.name, "engine": where},
    )


def safe_describe(exc: BaseException) -> str:
    """:func:`describe`, or the type's name when the exception cannot even be shown."""
    try:
        return describe(exc)
    except Exception:
        return type(exc).__name__


# -- what a fresh process cannot import ----------------------------------------------------------
def _main_is_importable() -> bool:
    """Whether a fresh process can import this one's ``__main__`` (a script, or ``-m``).

    ``multiprocessing`` re-imports it in the child by path or by module name; an
    interactive session (the REPL, a notebook, ``python -c``) has neither.
    """
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None):
        return True
    path = getattr(main, "__file__", None)
    return isinstance(path, str) and os.path.isfile(path)


def _defined_interactively(target: object) -> bool:
    if getattr(target, "__module__", None) != "__main__":
        return False
    if not _main_is_importable():
        return True
    defined_in = _code_file(target)
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if defined_in is None or not isinstance(main_file, str):
        return False  # cannot tell here: the child says so if it cannot load it
    return os.path.abspath(defined_in) != os.path.abspath(main_file)


def _code_file(target: object) -> str | None:
    """The file the action's own code was compiled from (``<stdin>``, a notebook cell...)."""
    fn = getattr(target, "_fn", None)
    if fn is not None:
        candidates: list[object] = [fn]
    elif isinstance(target, type):
        candidates = list(vars(target).values())
    else:
        candidates = [target]
    for candidate in candidates:
        code = getattr(candidate, "__code__", None)
        if code is not None:
            return str(code.co_filename)
    return None


def check_importable(spec: ActionSpec, where: str) -> None:
    """Raise a ValidationError if another process could not import ``spec``'s action.

    An action defined in an interactive session (a notebook, the REPL) pickles by
    reference in this process but cannot be found in a fresh one.
    """
    if _defined_interactively(spec.target):
        raise ValidationError(
            f"Action '{spec.name}' cannot run with {where}: it is defined in an interactive "
            "session (a notebook or the REPL), which a child process cannot import; define "
            "it in a module (a .py file importable by the child)",
            details={"action": spec.name, "engine": where, "module": "__main__"},
        )


def interactive_refs(data: bytes) -> list[str]:
    """Names in pickled ``data`` that refer to ``__main__`` when it cannot be imported."""
    if b"__main__" not in data or _main_is_importable():
        return []
    import pickletools

    found: list[str] = []
    strings: list[str] = []
    for op, arg, _ in pickletools.genops(data):
        if isinstance(arg, str):
            strings.append(arg)
        if op.name == "GLOBAL" and isinstance(arg, str) and arg.startswith("__main__ "):
            found.append(arg.split(" ", 1)[1])
        elif op.name == "STACK_GLOBAL" and len(strings) >= 2 and strings[-2] == "__main__":
            found.append(strings[-1])
    return found


def serve(payload: Payload) -> Outcome:
    """Run one attempt here; never raises (the outcome carries the error)."""
    global ACTIVE, INTERRUPTIBLE
    outcome: Outcome = (False, Stopped("interrupted"))
    try:
        target, params, context, meta = payload
        run_id, attempt, max_attempts, remaining, carrier, key, report = meta
        spec = spec_of(target)
        token = Token()
        deadline = None if remaining is None else time.monotonic() + remaining
        rctx = RunContext(spec.name, run_id, attempt, max_attempts, deadline, context, token, key)
        if report and REPORTER is not None:
            rctx._report = _reporter(REPORTER, run_id)
        if carrier:
            rctx._scope = _scope_from(carrier)
        ACTIVE, INTERRUPTIBLE = token, spec.interruptible
        try:
            outcome = (True, _attempt(spec, params, context, rctx))
        finally:
            ACTIVE, INTERRUPTIBLE = None, True
    except _Injected:  # jido's own stop (SIGTERM in a child, an interrupt on a cluster)
        outcome = (False, Stopped("interrupted"))
    except (SystemExit, KeyboardInterrupt, GeneratorExit) as exc:
        outcome = (False, exit_error(payload, exc))
    except BaseException as exc:
        outcome = (False, exc)
    return outcome


def _reporter(
    send: Callable[[ProgressNote], None], run_id: str
) -> Callable[[int, float, float | None, str | None], None]:
    def report(attempt: int, done: float, total: float | None, message: str | None) -> None:
        send(ProgressNote(run_id, attempt, done, total, message))

    return report


def exit_error(payload: Payload, exc: BaseException) -> JidoError:
    """The run's error when the action raised ``SystemExit``/``KeyboardInterrupt``/...

    Off the caller's thread such an exception fails the run (never retried) and leaves
    the worker running, as in every mode but inline.
    """
    name = getattr(getattr(payload[0], "__jido_action__", None), "name", None) or "?"
    err = ExecutionError(
        f"Action '{name}' raised {safe_describe(exc)}",
        details={"action": name, "exception": type(exc).__qualname__},
        retryable=False,
    )
    err.__cause__ = exc
    return err


def _attempt(
    spec: ActionSpec, params: dict[str, Any], context: dict[Any, Any], rctx: RunContext
) -> dict[str, Any]:
    instance = spec.make_instance()
    if spec.is_async:
        return asyncio.run(_run_async(spec, instance, params, context, rctx))
    return call_sync(spec, instance, params, context, rctx)


async def _run_async(
    spec: ActionSpec,
    instance: Any,
    params: dict[str, Any],
    context: dict[Any, Any],
    rctx: RunContext,
) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    link = TaskLink(asyncio.get_running_loop(), task)
    return await call_async(spec, instance, params, context, rctx, link)


def _scope_from(carrier: dict[str, str]) -> Any:
    try:
        from jido._observe.otel import scope_from_carrier
    except ImportError:  # OpenTelemetry is not installed on this side
        return None
    return scope_from_carrier(carrier)


def pickled_payload(call: Call, rctx: RunContext, where: str) -> bytes:
    """The pickled attempt; everything that cannot reach a child is refused here."""
    try:
        data: bytes = pickle.dumps(make_payload(call, rctx))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise unsendable(call, where, exc) from exc
    names = interactive_refs(data)
    if names:
        raise unsendable(
            call,
            where,
            ValueError(
                f"{', '.join(sorted(set(names)))} defined in an interactive session (a notebook "
                "or the REPL) cannot be imported by another process; define it in a module"
            ),
        )
    return data
