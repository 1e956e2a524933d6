"""jido.run, in-process specifics: where inline runs happen, the error classes, jido.current()
and the jido.testing helpers.

The run contract itself (results, return shapes, hooks, output schemas, errors and their
causes, validation before dispatch) is held by every engine in tests/conformance/.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import actions
import jido
import jido.testing
import jido.workflow
from actions import Add

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


# -- results -------------------------------------------------------------------------------------


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


# -- jido.current() ------------------------------------------------------------------------------
def test_current_outside_an_action_raises() -> None:
    with pytest.raises(RuntimeError):
        jido.current()


def test_current_works_deep_in_the_call_stack() -> None:
    def helper() -> str:
        return jido.current().action

    @jido.action
    def deep() -> dict[str, Any]:
        return {"name": helper()}

    assert jido.run(deep) == {"name": "deep"}


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
