"""Actions for the engine conformance suite.

Every engine runs them unchanged, so they live at module level in an importable module
(a child process or a Ray worker imports them by module path) and they report what
happened through a :class:`Probe` passed in the context: a directory of small files,
readable from the test whatever process the action ran in.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import time
import types
from pathlib import Path
from typing import Any

import pydantic

import jido


class Probe:
    """What a test observes about an action, through files (so it works across processes).

    It pickles as its path, so it travels in the context to a child process or a Ray
    worker. Time stamps are ``time.monotonic()``, a system-wide clock on one machine.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = os.fspath(directory)
        os.makedirs(self.dir, exist_ok=True)

    def __repr__(self) -> str:
        return f"Probe({self.dir!r})"

    def _path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    # -- the action's side -----------------------------------------------------------------------
    def add(self, name: str, line: object = "") -> None:
        """Append a line to the record ``name`` (one small O_APPEND write: atomic)."""
        with open(self._path(name), "a") as f:
            f.write(f"{line}\n")

    def enter(self) -> None:
        """An attempt starts: record when, and that it started."""
        self.add("attempts", repr(time.monotonic()))
        self.add("pid", os.getpid())

    def beat(self, count: int) -> None:
        """Publish a progress counter (atomically replaced)."""
        tmp = self._path(f"counter.{os.getpid()}.tmp")
        with open(tmp, "w") as f:
            f.write(str(count))
        os.replace(tmp, self._path("counter"))

    # -- the test's side -------------------------------------------------------------------------
    def lines(self, name: str) -> list[str]:
        try:
            text = Path(self._path(name)).read_text()
        except FileNotFoundError:
            return []
        return text.splitlines()

    def has(self, name: str) -> bool:
        return os.path.exists(self._path(name))

    def count(self, name: str) -> int:
        return len(self.lines(name))

    @property
    def attempts(self) -> list[float]:
        return [float(x) for x in self.lines("attempts")]

    def gaps(self) -> list[float]:
        a = self.attempts
        return [y - x for x, y in itertools.pairwise(a)]

    @property
    def pids(self) -> list[int]:
        return [int(x) for x in self.lines("pid")]

    def wait(self, name: str, timeout: float = 5.0, count: int = 1) -> bool:
        """Poll until the record ``name`` has ``count`` lines (or ``timeout`` passes)."""
        deadline = time.monotonic() + timeout
        while self.count(name) < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def started(self, timeout: float = 5.0) -> bool:
        return self.wait("attempts", timeout)

    def finished(self, timeout: float = 5.0) -> bool:
        """True once the action's ``finally`` block has run."""
        return self.wait("finished", timeout)

    def counter(self) -> int:
        try:
            return int(Path(self._path("counter")).read_text() or 0)
        except FileNotFoundError:
            return 0

    def frozen(self, settle: float = 0.2) -> bool:
        """The action's loop is no longer running: its counter does not move."""
        before = self.counter()
        time.sleep(settle)
        return self.counter() == before


def _probe(context: dict[str, Any]) -> Probe:
    probe = context["probe"]
    assert isinstance(probe, Probe)
    return probe


# -- results ---------------------------------------------------------------------------------------
class Echo(jido.Action):
    """Returns the params and context it was given (its schema is open)."""

    name = "echo"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"params": params, "context": dict(context)}


class AsyncEcho(jido.Action):
    name = "async_echo"

    async def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"params": params, "context": dict(context)}


class Point(pydantic.BaseModel):
    x: int
    y: int


RETURNS: dict[str, Any] = {
    "none": None,
    "int": 42,
    "str": "text",
    "pairs": [("a", 1)],
    "list": ["a"],
    "tuple": ("a", 1),
    "set": {"a", "b"},
    "mapping": types.MappingProxyType({"x": 1, "y": 2}),
    "model": Point(x=1, y=2),
    "dict": {"x": 1, "y": 2},
}
"""Return values by name (a MappingProxyType does not pickle: it must be turned into a dict
where the action runs)."""


@jido.action
def returns(kind: str) -> Any:
    return RETURNS[kind]


@jido.action
async def async_returns(kind: str) -> Any:
    await asyncio.sleep(0)
    return RETURNS[kind]


class Totals(pydantic.BaseModel):
    total: int
    unit: str = "eur"


class WithOutput(jido.Action):
    """Its output schema coerces, defaults and keeps unknown keys."""

    name = "with_output"
    output_schema = Totals

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        if "probe" in context:
            _probe(context).enter()
        return {"total": params.get("total", "12"), "note": "extra"}


class AsyncWithOutput(WithOutput):
    name = "async_with_output"

    async def run(  # type: ignore[override]
        self, params: dict[str, Any], context: dict[str, Any]
    ) -> dict[str, Any]:
        await asyncio.sleep(0)
        return WithOutput.run(self, params, context)


class HookParams(pydantic.BaseModel):
    n: int


class HookOutput(pydantic.BaseModel):
    total: int


class Hooked(jido.Action):
    """Every hook adds itself to ``trail`` and depends on what the one before did."""

    name = "hooked"
    schema = HookParams
    output_schema = HookOutput

    def on_before_validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        # "<4>" -> "4": the schema would reject it otherwise
        return {**params, "n": str(params["n"]).strip("<>"), "trail": ["before_params"]}

    def on_after_validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        assert params["n"] == 4  # validated and coerced by now
        return {**params, "n": params["n"] * 10, "trail": [*params["trail"], "after_params"]}

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"total": params["n"] + 1, "trail": [*params["trail"], "run"]}

    def on_before_validate_output(self, output: dict[str, Any]) -> dict[str, Any]:
        # the output schema coerces "41" back to 41
        return {
            **output,
            "total": str(output["total"]),
            "trail": [*output["trail"], "before_output"],
        }

    def on_after_validate_output(self, output: dict[str, Any]) -> dict[str, Any]:
        assert output["total"] == 41
        return {**output, "validated": True, "trail": [*output["trail"], "after_output"]}

    def on_after_run(self, result: dict[str, Any]) -> dict[str, Any]:
        return {**result, "after_run": True, "trail": [*result["trail"], "after_run"]}


class AsyncHooked(Hooked):
    name = "async_hooked"

    async def run(  # type: ignore[override]
        self, params: dict[str, Any], context: dict[str, Any]
    ) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"total": params["n"] + 1, "trail": [*params["trail"], "run"]}


class CountParams(pydantic.BaseModel):
    n: int


class Validated(jido.Action):
    """Records every attempt: a validation error must never reach it."""

    name = "validated"
    schema = CountParams

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        _probe(context).enter()
        return {"n": params["n"]}


class RejectedByHook(Validated):
    name = "rejected_by_hook"

    def on_before_validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        raise jido.ValidationError("rejected by hook", details={"hook": True})


def _describe(fail_first: bool, context: dict[str, Any]) -> dict[str, Any]:
    run = jido.current()
    if "probe" in context:
        _probe(context).add("run_ids", run.run_id)
    if fail_first and run.attempt == 1:
        raise ConnectionError("first attempt fails")
    return {
        "action": run.action,
        "run_id": run.run_id,
        "attempt": run.attempt,
        "max_attempts": run.max_attempts,
        "context": {k: v for k, v in run.context.items() if k != "probe"},
        "cancelled": run.cancelled,
        "remaining": run.remaining(),
        "pid": os.getpid(),
    }


@jido.action
def describe_attempt(context: dict[str, Any], fail_first: bool = True) -> dict[str, Any]:
    """What ``jido.current()`` says; the first attempt fails when ``fail_first``."""
    return _describe(fail_first, context)


@jido.action
async def async_describe_attempt(
    context: dict[str, Any], fail_first: bool = True
) -> dict[str, Any]:
    await asyncio.sleep(0)
    return _describe(fail_first, context)


# -- failures --------------------------------------------------------------------------------------
@jido.action
def always_fail(context: dict[str, Any]) -> dict[str, Any]:
    probe = _probe(context)
    probe.enter()
    raise ConnectionError(f"down (attempt {probe.count('attempts')})")


@jido.action
async def async_always_fail(context: dict[str, Any]) -> dict[str, Any]:
    probe = _probe(context)
    probe.enter()
    await asyncio.sleep(0)
    raise ConnectionError(f"down (attempt {probe.count('attempts')})")


ERRORS: dict[str, Any] = {
    "ExecutionError-retryable-False": lambda: jido.ExecutionError("permanent", retryable=False),
    "ValidationError": lambda: jido.ValidationError("late validation", details={"field": "f"}),
    "ConfigError": lambda: jido.ConfigError("bad config"),
    "InvalidActionError": lambda: jido.InvalidActionError("not an action"),
    "CancelledError": lambda: jido.CancelledError("cancelled by someone"),
    "ConnectionError": lambda: ConnectionError("net"),
    "ValueError": lambda: ValueError("bad value"),
    "KeyError": lambda: KeyError("missing-thing"),
    "RuntimeError": lambda: RuntimeError("try again later"),
    "jido.ExecutionError": lambda: jido.ExecutionError("x", details={"k": 1}),
    "jido.TimeoutError": lambda: jido.TimeoutError("x"),
    "custom": lambda: jido.ExecutionError(
        "upstream busy", details={"upstream": "db", "n": 3}, retryable=False, retry_after=1.5
    ),
}
"""Errors an action raises, by name (built where the action runs)."""


@jido.action
def raises(error: str, context: dict[str, Any]) -> dict[str, Any]:
    if "probe" in context:
        _probe(context).enter()
    raise ERRORS[error]()


@jido.action
async def async_raises(error: str, context: dict[str, Any]) -> dict[str, Any]:
    if "probe" in context:
        _probe(context).enter()
    await asyncio.sleep(0)
    raise ERRORS[error]()


@jido.action
def raise_text(text: str) -> dict[str, Any]:
    raise RuntimeError(text)


@jido.action
def flaky(failures: int, context: dict[str, Any]) -> dict[str, Any]:
    """Fails its first ``failures`` attempts, then succeeds."""
    _probe(context).enter()
    attempt = jido.current().attempt
    if attempt <= failures:
        raise ConnectionError(f"transient ({attempt})")
    return {"attempts": attempt}


@jido.action
def rate_limited(retry_after: list[float], context: dict[str, Any]) -> dict[str, Any]:
    """Fails every attempt with ``retry_after[attempt - 1]`` (the last one repeats)."""
    _probe(context).enter()
    attempt = jido.current().attempt
    raise jido.ExecutionError("busy", retry_after=retry_after[min(attempt, len(retry_after)) - 1])


@jido.action
def record_deadline(context: dict[str, Any]) -> dict[str, Any]:
    """Records its attempt's deadline, then sleeps until it is stopped."""
    probe = _probe(context)
    try:  # a stop may land anywhere once the attempt has started: record inside the try
        probe.enter()
        probe.add("deadlines", repr(jido.current().deadline))
        jido.current().sleep(30)
        return {}
    finally:
        probe.add("finished")


# -- actions that run until they are stopped -------------------------------------------------------
@jido.action
def spin(context: dict[str, Any]) -> dict[str, Any]:
    """CPU-bound, never checks its token, even swallows ``Exception``."""
    probe = _probe(context)
    count = 0
    last = 0.0
    try:
        probe.enter()
        while True:
            with contextlib.suppress(Exception):  # an action that swallows errors is stoppable
                count += 1
                if count % 2000 == 0 and time.monotonic() - last > 0.01:
                    probe.beat(count)
                    last = time.monotonic()
    finally:
        probe.add("finished")


@jido.action
def coop_sleep(seconds: float, context: dict[str, Any]) -> dict[str, Any]:
    """Sleeps with ``jido.current().sleep`` (wakes at once when told to stop in-process)."""
    probe = _probe(context)
    try:
        probe.enter()
        jido.current().sleep(seconds)
        probe.add("completed")
        return {"slept": seconds}
    finally:
        probe.add("finished")


@jido.action
def coop_check(context: dict[str, Any]) -> dict[str, Any]:
    """A busy loop that calls ``jido.current().check()`` on every iteration."""
    probe = _probe(context)
    run = jido.current()
    count = 0
    last = 0.0
    try:
        probe.enter()
        while True:
            run.check()
            count += 1
            if count % 2000 == 0 and time.monotonic() - last > 0.01:
                probe.beat(count)
                last = time.monotonic()
    finally:
        probe.add("finished")


@jido.action
def blocked_sleep(seconds: float, context: dict[str, Any]) -> dict[str, Any]:
    """Blocked in C (``time.sleep``); records ``completed`` only if the sleep returned."""
    probe = _probe(context)
    try:
        probe.enter()
        time.sleep(seconds)
        probe.add("completed")
        return {"slept": seconds}
    finally:
        probe.add("finished")


@jido.action
async def async_sleep(seconds: float, context: dict[str, Any]) -> dict[str, Any]:
    probe = _probe(context)
    try:
        probe.enter()
        await asyncio.sleep(seconds)
        probe.add("completed")
        return {"slept": seconds}
    except asyncio.CancelledError:
        probe.add("cancelled")
        raise
    finally:
        probe.add("finished")


@jido.action
def ignore_stops(context: dict[str, Any]) -> dict[str, Any]:
    """Ignores every soft stop: SIGTERM, jido's interrupt, Ray's KeyboardInterrupt.

    Only a kill stops it; it records ``completed`` if it ever gets out of its loop.
    """
    probe = _probe(context)
    with contextlib.suppress(ValueError):  # not the main thread: no SIGTERM to ignore
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    probe.enter()
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        with contextlib.suppress(BaseException):
            time.sleep(0.01)
    probe.add("completed")
    return {}


class UninterruptibleCoop(jido.Action):
    """``interruptible = False``: told to stop through its token only, which it checks."""

    name = "uninterruptible_coop"
    interruptible = False

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        probe = _probe(context)
        try:
            probe.enter()
            jido.current().sleep(params.get("seconds", 30))
            probe.add("completed")
            return {"done": True}
        finally:
            probe.add("finished")


class UninterruptibleSpin(jido.Action):
    """``interruptible = False`` and ignores its token; records ``completed`` at its own end."""

    name = "uninterruptible_spin"
    interruptible = False

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        probe = _probe(context)
        deadline = time.monotonic() + params.get("seconds", 1.0)
        try:
            probe.enter()
            while time.monotonic() < deadline:
                pass
            probe.add("completed")
            return {"done": True}
        finally:
            probe.add("finished")


@jido.action
def die(code: int = 1, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """The process running the action dies on the first attempt (never run it in-process)."""
    if context and "probe" in context:
        _probe(context).enter()
    if jido.current().attempt == 1:
        os._exit(code)
    return {"pid": os.getpid(), "attempt": jido.current().attempt}


# -- compensation ----------------------------------------------------------------------------------
class Charge(jido.Action):
    """Always fails; its ``on_error`` (which runs in the caller) undoes the work."""

    name = "charge"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        probe = _probe(context)
        probe.enter()
        raise ConnectionError(f"charge failed on attempt {jido.current().attempt}")

    def on_error(
        self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
    ) -> dict[str, Any]:
        probe = _probe(context)
        probe.add("compensations", f"{os.getpid()} {error.type} {error.__cause__}")
        if params.get("crash"):
            raise RuntimeError("cleanup exploded")
        if params.get("slow"):
            time.sleep(params["slow"])
        return {"undone": params.get("order_id")}


class AsyncCharge(Charge):
    name = "async_charge"

    async def run(  # type: ignore[override]
        self, params: dict[str, Any], context: dict[str, Any]
    ) -> dict[str, Any]:
        await asyncio.sleep(0)
        return Charge.run(self, params, context)


class SlowCharge(Charge):
    """Sleeps until stopped (a timeout or a cancel is never compensated)."""

    name = "slow_charge"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        _probe(context).enter()
        jido.current().sleep(30)
        return {}


# -- nesting ---------------------------------------------------------------------------------------
@jido.action
def child_deadline() -> dict[str, Any]:
    return {"deadline": jido.current().deadline}


@jido.action
def parent(child_timeout: float | None, context: dict[str, Any]) -> dict[str, Any]:
    """Runs children on the default runtime of the process it runs in."""
    probe = _probe(context)
    probe.add("deadlines", f"parent {jido.current().deadline!r}")
    seen = jido.run(child_deadline, timeout=child_timeout)["deadline"]
    probe.add("deadlines", f"child {seen!r}")
    child = Probe(os.path.join(probe.dir, "child"))
    return jido.run(coop_sleep, {"seconds": 30}, {"probe": child}, timeout=child_timeout)


@jido.action
def nested_sum(values: list[int]) -> dict[str, Any]:
    """A nested run of another action, in the same process as this one."""
    total = 0
    for v in values:
        total = jido.run(Add, {"value": total, "amount": v}, timeout=1.0)["value"]
    return {"total": total, "pid": os.getpid()}


class AddParams(pydantic.BaseModel):
    value: int
    amount: int = 1


class Add(jido.Action):
    name = "add"
    schema = AddParams

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"value": params["value"] + params["amount"]}


@jido.action
def square(x: int) -> dict[str, Any]:
    return {"x": x * x}


@jido.action
async def async_square(x: int) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"x": x * x}


@jido.action
def where() -> dict[str, Any]:
    return {"pid": os.getpid()}


# -- tracing ---------------------------------------------------------------------------------------
@jido.action
def observe_trace() -> dict[str, Any]:
    """The span context current where the action runs (propagated from the caller)."""
    from opentelemetry import trace

    ctx = trace.get_current_span().get_span_context()
    return {
        "trace_id": format(ctx.trace_id, "032x"),
        "span_id": format(ctx.span_id, "016x"),
        "valid": ctx.is_valid,
        "pid": os.getpid(),
    }


@jido.action
def nap(seconds: float) -> dict[str, Any]:
    time.sleep(seconds)
    return {"pid": os.getpid()}


@jido.action
def raise_given(context: dict[str, Any]) -> dict[str, Any]:
    """Raises the exception passed in ``context["error"]`` (the caller's object in-process)."""
    if "probe" in context:
        _probe(context).enter()
    raise context["error"]


@jido.action
def fails_generic(secret_param: str) -> dict[str, Any]:
    raise RuntimeError("generic failure")


@jido.action
def mutate_context(context: dict[str, Any]) -> dict[str, Any]:
    """Appends to ``context["items"]`` and adds a key: does the caller see it?"""
    context["items"].append("added by the action")
    context["new_key"] = True
    return {"items": list(context["items"])}


@jido.action
def returns_lock() -> dict[str, Any]:
    """A result that cannot be serialized."""
    import threading

    return {"lock": threading.Lock()}


class FlakyHooked(jido.Action):
    """Fails its first two attempts; ``on_after_run`` records each call in the probe."""

    name = "flaky_hooked"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        probe = _probe(context)
        probe.enter()
        if jido.current().attempt < 3:
            raise ConnectionError("flaky")
        return {"ok": True, "probe": probe}

    def on_after_run(self, result: dict[str, Any]) -> dict[str, Any]:
        probe = result.pop("probe")
        probe.add("after_run")
        return result


class ParamHooks(jido.Action):
    """Always fails; its param hook records each call (hooks run once, in the caller)."""

    name = "param_hooks"

    def on_before_validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        params["probe"].add("before_params", os.getpid())
        return params

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        params["probe"].enter()
        raise ConnectionError("again")


class AsyncCompCharge(Charge):
    """Like Charge, with an ``async def on_error``."""

    name = "async_comp_charge"

    async def on_error(  # type: ignore[override]
        self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
    ) -> dict[str, Any]:
        await asyncio.sleep(0)
        return Charge.on_error(self, params, error, context)


class AsyncSlowCharge(Charge):
    name = "async_slow_charge"

    async def run(  # type: ignore[override]
        self, params: dict[str, Any], context: dict[str, Any]
    ) -> dict[str, Any]:
        _probe(context).enter()
        await asyncio.sleep(30)
        return {}


@jido.action
async def async_raise_given(context: dict[str, Any]) -> dict[str, Any]:
    if "probe" in context:
        _probe(context).enter()
    await asyncio.sleep(0)
    raise context["error"]


class Unpicklable(Exception):
    """An exception that cannot be pickled (it holds a lock)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        import threading

        self.lock = threading.Lock()


@jido.action
def raise_unpicklable() -> dict[str, Any]:
    raise Unpicklable("cannot travel")


@jido.action
def call_context_function(context: dict[str, Any]) -> dict[str, Any]:
    return {"value": context["fn"](20)}


@jido.action
def assigned_resources() -> dict[str, Any]:
    import ray

    return {"resources": ray.get_runtime_context().get_assigned_resources(), "pid": os.getpid()}


@jido.action
def kill_self(context: dict[str, Any]) -> dict[str, Any]:
    """SIGKILLs the process running it on the first attempt (never run it in-process)."""
    if "probe" in context:
        _probe(context).enter()
    if jido.current().attempt == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return {"pid": os.getpid(), "attempt": jido.current().attempt}
