"""jido.run: results, error types, exceptions raised by actions, return shapes, hooks, output.

Execution modes are parametrized where the contract promises the same behaviour for all of
them: inline (sync, timeout=0), thread (sync, timeout>0), async (``async def``).
"""

from __future__ import annotations

import asyncio
import threading
import types
from collections.abc import Callable
from typing import Any

import pydantic
import pytest

import actions
import jido
import jido.testing
import jido.workflow
from actions import Add, Probe

ERROR_CODES = {
    jido.ValidationError: "validation_error",
    jido.InvalidActionError: "invalid_action",
    jido.ExecutionError: "execution_error",
    jido.TimeoutError: "timeout",
    jido.CancelledError: "cancelled",
    jido.InvalidAsyncRefError: "invalid_async_ref",
    jido.CompensationError: "compensation_error",
    jido.ConfigError: "config_error",
    jido.InternalError: "internal_error",
}


def make(body: Callable[..., Any], *, is_async: bool) -> type[jido.Action]:
    """A class action whose run calls ``body(params, context)``, sync or async."""
    if is_async:

        class AsyncBody(jido.Action):
            name = "body"

            async def run(self, params: dict[str, Any], context: dict[str, Any]) -> Any:
                await asyncio.sleep(0)
                return body(params, context)

        return AsyncBody

    class SyncBody(jido.Action):
        name = "body"

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> Any:
            return body(params, context)

    return SyncBody


MODES = [
    pytest.param(False, 0, id="inline"),
    pytest.param(False, 2.0, id="thread"),
    pytest.param(True, 2.0, id="async"),
    pytest.param(True, 0, id="async-no-timeout"),
]


# -- results -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("is_async", "timeout"), MODES)
def test_result_dict_is_returned(is_async: bool, timeout: float) -> None:
    action = make(lambda p, c: {"got": p, "ctx": c}, is_async=is_async)
    out = jido.run(action, {"a": 1}, {"c": 2}, timeout=timeout)
    assert out == {"got": {"a": 1}, "ctx": {"c": 2}}


def test_workflow_module_alias() -> None:
    assert jido.workflow.run(Add, {"value": 1}) == {"value": 2}
    ref = jido.workflow.run_async(Add, {"value": 2})
    assert jido.workflow.await_(ref) == {"value": 3}
    jido.workflow.cancel(ref)
    assert asyncio.run(jido.workflow.arun(Add, {"value": 3})) == {"value": 4}


def test_inline_runs_in_the_callers_thread_and_timeout_uses_a_worker() -> None:
    @jido.action
    def where() -> dict[str, Any]:
        return {"thread": threading.get_ident()}

    me = threading.get_ident()
    assert jido.run(where, timeout=0)["thread"] == me
    assert jido.run(where, timeout=None)["thread"] == me
    assert jido.run(where, timeout=1.0)["thread"] != me
    assert jido.run(where)["thread"] != me  # default timeout 5 s: a worker thread


# -- error types and codes -----------------------------------------------------------------------
def test_error_classes_and_codes() -> None:
    for cls, code in ERROR_CODES.items():
        assert issubclass(cls, jido.JidoError)
        assert cls.type == code
        err = cls("msg")
        assert err.type == code
        assert err.message == "msg"
        assert str(err) == "msg"
        assert err.details == {}


def test_every_code_is_produced_by_a_real_run(rt: jido.Runtime) -> None:
    seen: dict[str, BaseException] = {}

    def record(fn: Callable[[], Any]) -> None:
        try:
            fn()
        except jido.JidoError as exc:
            seen[exc.type] = exc

    probe = Probe()
    record(lambda: rt.run(Add, {"value": "x"}))
    record(lambda: rt.run(object()))
    record(lambda: rt.run(actions.raise_value_error, timeout=0, max_retries=0))
    record(
        lambda: rt.run(
            actions.coop_sleep, {"seconds": 5}, {"probe": probe}, timeout=0.05, max_retries=0
        )
    )

    def cancelled() -> None:
        ref = rt.run_async(actions.coop_sleep, {"seconds": 5}, {"probe": Probe()}, timeout=5)
        ref.cancel()
        ref.result(1)

    record(cancelled)
    record(lambda: jido.await_("garbage"))  # type: ignore[arg-type]

    class Comp(jido.Action):
        name = "comp"

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            raise ValueError("fails")

        def on_error(
            self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
        ) -> dict[str, Any]:
            raise RuntimeError("compensation fails too")

    record(lambda: rt.run(Comp, timeout=0, max_retries=0))
    record(lambda: rt.run(Add, {"value": 1}, max_retries=-1))
    assert set(seen) == set(ERROR_CODES.values()) - {"internal_error"}
    for code, exc in seen.items():
        assert type(exc) is next(c for c, v in ERROR_CODES.items() if v == code)


def test_unknown_option_is_a_config_error() -> None:
    with pytest.raises(jido.ConfigError):
        jido.run(Add, {"value": 1}, timeuot=1.0)  # type: ignore[call-arg]


# -- exceptions raised by actions ----------------------------------------------------------------
@pytest.mark.parametrize(("is_async", "timeout"), MODES)
def test_exception_becomes_execution_error_with_cause(is_async: bool, timeout: float) -> None:
    original = KeyError("missing-thing")

    def body(p: Any, c: Any) -> Any:
        raise original

    with pytest.raises(jido.ExecutionError) as info:
        jido.run(make(body, is_async=is_async), timeout=timeout, max_retries=0)
    err = info.value
    assert err.type == "execution_error"
    assert err.__cause__ is original
    assert err.retryable is True  # raised exceptions are retryable
    assert err.details["attempts"] == 1
    assert "KeyError" in err.message or "missing-thing" in err.message


def test_exception_in_a_child_process_keeps_its_cause(rt: jido.Runtime) -> None:
    with pytest.raises(jido.ExecutionError) as info:
        rt.run(
            actions.raise_value_error, {"message": "in child"}, isolation="process", max_retries=0
        )
    cause = info.value.__cause__
    assert isinstance(cause, ValueError)
    assert str(cause) == "in child"


@pytest.mark.parametrize(("is_async", "timeout"), MODES)
@pytest.mark.parametrize(
    "make_error",
    [
        lambda: jido.ExecutionError("custom", details={"k": 1}, retryable=False),
        lambda: jido.ValidationError("bad input found late", details={"field": "f"}),
        lambda: jido.ConfigError("misconfigured"),
    ],
    ids=["ExecutionError", "ValidationError", "ConfigError"],
)
def test_jido_error_raised_by_action_is_kept_as_is(
    make_error: Callable[[], jido.JidoError], is_async: bool, timeout: float
) -> None:
    error = make_error()
    calls: list[int] = []

    def body(p: Any, c: Any) -> Any:
        calls.append(1)
        raise error

    with jido.testing.no_backoff(), pytest.raises(jido.JidoError) as info:
        jido.run(make(body, is_async=is_async), timeout=timeout, max_retries=3)
    assert info.value is error
    assert type(info.value) is type(error)
    assert info.value.message == error.message
    assert len(calls) == 1  # none of these is retryable


@pytest.mark.parametrize(("is_async", "timeout"), MODES)
def test_jido_error_raised_by_action_has_no_cause_cycle(is_async: bool, timeout: float) -> None:
    # An error that is its own __cause__ breaks traceback printing and pickling (issue point 8).
    error = jido.ExecutionError("custom", retryable=False)

    def body(p: Any, c: Any) -> Any:
        raise error

    with pytest.raises(jido.ExecutionError) as info:
        jido.run(make(body, is_async=is_async), timeout=timeout, max_retries=0)
    assert info.value is error
    assert info.value.__cause__ is not error
    assert info.value.__cause__ is None  # nothing caused it: the action raised it itself


def test_execution_error_message_never_contains_params_or_context() -> None:
    @jido.action
    def fails(secret_param: str, context: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("generic failure")

    with pytest.raises(jido.ExecutionError) as info:
        jido.run(
            fails,
            {"secret_param": "PARAM-VALUE-123"},
            {"ctx": "CTX-VALUE-456"},
            timeout=0,
            max_retries=0,
        )
    text = info.value.message + repr(info.value.details)
    assert "PARAM-VALUE-123" not in text
    assert "CTX-VALUE-456" not in text


def test_timeout_error_never_contains_params_or_context() -> None:
    probe = Probe()
    with pytest.raises(jido.TimeoutError) as info:
        jido.run(
            actions.coop_sleep,
            {"seconds": 10, "marker": "PARAM-VALUE-123"},
            {"probe": probe, "ctx": "CTX-VALUE-456"},
            timeout=0.05,
            max_retries=0,
        )
    text = info.value.message + repr(info.value.details)
    assert "PARAM-VALUE-123" not in text
    assert "CTX-VALUE-456" not in text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login failed: password=hunter2", "hunter2"),
        ("call failed api_key=sk-live-abcdef123", "sk-live-abcdef123"),
        ("HTTP 401 with header Authorization: Bearer sk-abc123XYZ", "sk-abc123XYZ"),
        ("upstream said: token: tok_98765", "tok_98765"),
    ],
)
@pytest.mark.parametrize("timeout", [0, 1.0], ids=["inline", "thread"])
def test_secrets_are_redacted_in_error_messages(text: str, secret: str, timeout: float) -> None:
    def body(p: Any, c: Any) -> Any:
        raise RuntimeError(text)

    with pytest.raises(jido.ExecutionError) as info:
        jido.run(make(body, is_async=False), timeout=timeout, max_retries=0)
    assert secret not in info.value.message
    assert secret not in repr(info.value.details)
    assert "[REDACTED]" in info.value.message


# -- return shapes -------------------------------------------------------------------------------
@pytest.mark.parametrize(("is_async", "timeout"), MODES)
@pytest.mark.parametrize(
    "value", [None, 42, "text", [("a", 1)], ["a"], ("a", 1), {"a", "b"}], ids=repr
)
def test_non_mapping_return_is_an_execution_error(
    value: Any, is_async: bool, timeout: float
) -> None:
    with pytest.raises(jido.ExecutionError) as info:
        jido.run(make(lambda p, c: value, is_async=is_async), timeout=timeout, max_retries=0)
    assert info.value.type == "execution_error"


class Point(pydantic.BaseModel):
    x: int
    y: int


@pytest.mark.parametrize(("is_async", "timeout"), MODES)
@pytest.mark.parametrize(
    "value",
    [types.MappingProxyType({"x": 1, "y": 2}), Point(x=1, y=2), {"x": 1, "y": 2}],
    ids=["mapping", "model", "dict"],
)
def test_mapping_and_model_returns_become_a_dict(
    value: Any, is_async: bool, timeout: float
) -> None:
    out = jido.run(make(lambda p, c: value, is_async=is_async), timeout=timeout)
    assert type(out) is dict
    assert out == {"x": 1, "y": 2}


# -- hooks ---------------------------------------------------------------------------------------
class HookParams(pydantic.BaseModel):
    n: int


class HookOutput(pydantic.BaseModel):
    total: int


def hooked(log: list[str], *, is_async: bool) -> type[jido.Action]:
    class Hooks(jido.Action, abstract=True):
        name = "hooked"
        schema = HookParams
        output_schema = HookOutput

        def on_before_validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
            log.append("before_params")
            return {**params, "n": str(params["n"]).strip()}  # " 4 " -> "4"

        def on_after_validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
            log.append("after_params")
            assert params["n"] == 4  # validated and coerced by now
            return {**params, "n": params["n"] * 10}

        def on_before_validate_output(self, output: dict[str, Any]) -> dict[str, Any]:
            log.append("before_output")
            return {**output, "total": str(output["total"])}  # output schema coerces it back

        def on_after_validate_output(self, output: dict[str, Any]) -> dict[str, Any]:
            log.append("after_output")
            assert output["total"] == 41
            return {**output, "validated": True}

        def on_after_run(self, result: dict[str, Any]) -> dict[str, Any]:
            log.append("after_run")
            return {**result, "after_run": True}

    if is_async:

        class AsyncHooked(Hooks):
            async def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
                log.append("run")
                return {"total": params["n"] + 1}

        return AsyncHooked

    class SyncHooked(Hooks):
        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            log.append("run")
            return {"total": params["n"] + 1}

    return SyncHooked


@pytest.mark.parametrize(("is_async", "timeout"), MODES)
def test_hooks_order_and_effects(is_async: bool, timeout: float) -> None:
    log: list[str] = []
    out = jido.run(hooked(log, is_async=is_async), {"n": " 4 "}, timeout=timeout)
    assert out == {"total": 41, "validated": True, "after_run": True}
    assert log == [
        "before_params",
        "after_params",
        "run",
        "before_output",
        "after_output",
        "after_run",
    ]


def test_on_after_run_is_called_through_run_async_and_arun() -> None:
    log: list[str] = []
    action = hooked(log, is_async=False)
    assert jido.await_(jido.run_async(action, {"n": 4}))["after_run"] is True
    assert asyncio.run(jido.arun(action, {"n": 4}))["after_run"] is True
    assert log.count("after_run") == 2


def test_on_after_run_not_called_on_failure_and_once_per_success() -> None:
    log: list[str] = []
    attempts: list[int] = []

    class FlakyHooked(jido.Action):
        name = "flaky_hooked"

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            attempts.append(1)
            if len(attempts) < 3:
                raise ConnectionError("flaky")
            return {"ok": True}

        def on_after_run(self, result: dict[str, Any]) -> dict[str, Any]:
            log.append("after_run")
            return result

    with jido.testing.no_backoff():
        assert jido.run(FlakyHooked, timeout=0, max_retries=5) == {"ok": True}
    assert len(attempts) == 3
    assert log == ["after_run"]


def test_param_hooks_run_once_even_with_retries() -> None:
    log: list[str] = []

    class Retried(jido.Action):
        name = "retried"

        def on_before_validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
            log.append("before_params")
            return params

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            log.append("run")
            raise ConnectionError("again")

    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
        jido.run(Retried, timeout=0, max_retries=2)
    assert log == ["before_params", "run", "run", "run"]


def test_param_hook_jido_error_is_returned_as_is_and_action_not_run() -> None:
    ran: list[int] = []

    class Rejects(jido.Action):
        name = "rejects"

        def on_before_validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
            raise jido.ValidationError("rejected by hook", details={"hook": True})

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            ran.append(1)
            return {}

    with pytest.raises(jido.ValidationError) as info:
        jido.run(Rejects, {"a": 1})
    assert info.value.message == "rejected by hook"
    assert info.value.details["hook"] is True
    assert ran == []


# -- output schema -------------------------------------------------------------------------------
class Totals(pydantic.BaseModel):
    total: int
    unit: str = "eur"


@pytest.mark.parametrize(("is_async", "timeout"), MODES)
def test_output_schema_validates_coerces_defaults_and_keeps_unknown(
    is_async: bool, timeout: float
) -> None:
    action = make(lambda p, c: {"total": "12", "note": "extra"}, is_async=is_async)

    class WithOutput(action):  # type: ignore[valid-type,misc]
        name = "with_output"
        output_schema = Totals

    assert jido.run(WithOutput, timeout=timeout) == {"total": 12, "unit": "eur", "note": "extra"}


@pytest.mark.parametrize(("is_async", "timeout"), MODES)
def test_output_schema_failure_is_a_validation_error_not_retried(
    is_async: bool, timeout: float
) -> None:
    calls: list[int] = []

    def body(p: Any, c: Any) -> Any:
        calls.append(1)
        return {"total": "many"}

    class BadOutput(make(body, is_async=is_async)):  # type: ignore[misc]
        name = "bad_output"
        output_schema = Totals

    with jido.testing.no_backoff(), pytest.raises(jido.ValidationError) as info:
        jido.run(BadOutput, timeout=timeout, max_retries=3)
    assert info.value.type == "validation_error"
    assert len(calls) == 1


# -- jido.current() ------------------------------------------------------------------------------
def test_current_outside_an_action_raises() -> None:
    with pytest.raises(RuntimeError):
        jido.current()


@pytest.mark.parametrize(("is_async", "timeout"), MODES)
def test_current_describes_the_attempt(is_async: bool, timeout: float) -> None:
    seen: list[jido.RunContext] = []

    def body(p: Any, c: Any) -> Any:
        run = jido.current()
        seen.append(run)
        if run.attempt == 1:
            raise ConnectionError("first attempt fails")
        return {
            "action": run.action,
            "attempt": run.attempt,
            "max_attempts": run.max_attempts,
            "context": run.context,
            "cancelled": run.cancelled,
            "remaining": run.remaining(),
        }

    with jido.testing.no_backoff():
        out = jido.run(
            make(body, is_async=is_async), None, {"k": "v"}, timeout=timeout, max_retries=2
        )
    assert out["action"] == "body"
    assert out["attempt"] == 2
    assert out["max_attempts"] == 3
    assert out["context"] == {"k": "v"}
    assert out["cancelled"] is False
    if timeout:
        assert 0 < out["remaining"] <= timeout
    else:
        assert out["remaining"] is None
    assert seen[0].run_id == seen[1].run_id  # one run, two attempts
    other = jido.run(make(lambda p, c: {"id": jido.current().run_id}, is_async=is_async))
    assert other["id"] != seen[0].run_id


def test_current_works_deep_in_the_call_stack() -> None:
    def helper() -> str:
        return jido.current().action

    @jido.action
    def deep() -> dict[str, Any]:
        return {"name": helper()}

    assert jido.run(deep) == {"name": "deep"}


def test_default_timeout_is_five_seconds_per_attempt() -> None:
    @jido.action
    def remaining() -> dict[str, Any]:
        return {"left": jido.current().remaining()}

    assert 4.0 < jido.run(remaining)["left"] <= 5.0


# -- jido.testing helpers ------------------------------------------------------------------------
def test_testing_call_validates_and_unwraps_exceptions() -> None:
    assert jido.testing.call(Add, {"value": "2"}) == {"value": 3}
    assert jido.testing.call(actions.async_square, {"x": 3}) == {"x": 9}
    with pytest.raises(ValueError, match="raw"):
        jido.testing.call(actions.raise_value_error, {"message": "raw"})
    with pytest.raises(jido.ValidationError):
        jido.testing.call(Add, {"value": "x"})


def test_testing_run_context_makes_current_work() -> None:
    with jido.testing.run_context("unit", context={"a": 1}) as ctx:
        assert jido.current() is ctx
        assert jido.current().context == {"a": 1}
        jido.current().check()  # not cancelled: no raise
        ctx.token.cancel(jido.CancelReason.CALLER)
        assert jido.current().cancelled
        with pytest.raises(jido.Interrupted):
            jido.current().check()
        with pytest.raises(jido.Interrupted):
            jido.current().sleep(5)
    with pytest.raises(RuntimeError):
        jido.current()


def test_interrupted_is_not_an_exception() -> None:
    # so that ``except Exception`` in action code does not swallow it
    assert issubclass(jido.Interrupted, BaseException)
    assert not issubclass(jido.Interrupted, Exception)
