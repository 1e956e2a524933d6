"""Results, return shapes, hooks, output schemas, ``jido.current()``, validation before dispatch,
and the three ways to run (``run``, ``arun``, ``run_async``), on every engine."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import pytest

import jido
import jido.testing
from conformance import actions
from conformance.conftest import REMOTE, TIMED, Engine, engines

KINDS = [pytest.param(False, id="sync"), pytest.param(True, id="async")]


def pick(is_async: bool, sync: Any, async_: Any) -> Any:
    return async_ if is_async else sync


# -- results ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("is_async", KINDS)
def test_result_dict_is_returned(engine: Engine, is_async: bool) -> None:
    action = pick(is_async, actions.Echo, actions.AsyncEcho)
    out = engine.rt.run(action, {"a": 1}, {"c": 2})
    assert out == {"params": {"a": 1}, "context": {"c": 2}}


@pytest.mark.parametrize("is_async", KINDS)
def test_run_arun_and_run_async_all_work(engine: Engine, is_async: bool) -> None:
    # on_after_run is called whichever way the action is run
    action = pick(is_async, actions.Hooked, actions.AsyncHooked)
    rt = engine.rt
    assert rt.run(action, {"n": 4})["after_run"] is True
    assert asyncio.run(rt.arun(action, {"n": 4}))["after_run"] is True
    ref = rt.run_async(action, {"n": 4})
    assert jido.await_(ref, timeout=30)["after_run"] is True
    assert ref.result()["after_run"] is True  # kept: waiting twice gives the same

    async def awaited() -> dict[str, Any]:
        return await rt.run_async(action, {"n": 4})

    assert asyncio.run(awaited())["after_run"] is True


@pytest.mark.parametrize("is_async", KINDS)
def test_hooks_order_and_effects(engine: Engine, is_async: bool) -> None:
    action = pick(is_async, actions.Hooked, actions.AsyncHooked)
    out = engine.rt.run(action, {"n": "<4>"})
    assert out.pop("trail") == [
        "before_params",
        "after_params",
        "run",
        "before_output",
        "after_output",
        "after_run",
    ]
    assert out == {"total": 41, "validated": True, "after_run": True}


@pytest.mark.parametrize("is_async", KINDS)
@pytest.mark.parametrize("kind", ["none", "int", "str", "pairs", "list", "tuple", "set"])
def test_non_mapping_return_is_an_execution_error(
    engine: Engine, is_async: bool, kind: str
) -> None:
    action = pick(is_async, actions.returns, actions.async_returns)
    with pytest.raises(jido.ExecutionError) as info:
        engine.rt.run(action, {"kind": kind}, max_retries=0)
    assert info.value.type == "execution_error"


@pytest.mark.parametrize("is_async", KINDS)
@pytest.mark.parametrize("kind", ["mapping", "model", "dict"])
def test_mapping_and_model_returns_become_a_dict(engine: Engine, is_async: bool, kind: str) -> None:
    action = pick(is_async, actions.returns, actions.async_returns)
    out = engine.rt.run(action, {"kind": kind})
    assert type(out) is dict
    assert out == {"x": 1, "y": 2}


@pytest.mark.parametrize("is_async", KINDS)
def test_output_schema_validates_coerces_defaults_and_keeps_unknown(
    engine: Engine, is_async: bool
) -> None:
    action = pick(is_async, actions.WithOutput, actions.AsyncWithOutput)
    assert engine.rt.run(action) == {"total": 12, "unit": "eur", "note": "extra"}


@pytest.mark.parametrize("is_async", KINDS)
def test_output_schema_failure_is_a_validation_error_not_retried(
    engine: Engine, is_async: bool
) -> None:
    action = pick(is_async, actions.WithOutput, actions.AsyncWithOutput)
    probe = engine.probe()
    with jido.testing.no_backoff(), pytest.raises(jido.ValidationError) as info:
        engine.rt.run(action, {"total": "many"}, {"probe": probe}, max_retries=3)
    assert info.value.type == "validation_error"
    assert probe.count("attempts") == 1


def test_on_after_run_not_called_on_failure_and_once_per_success(engine: Engine) -> None:
    probe = engine.probe()
    with jido.testing.no_backoff():
        assert engine.rt.run(actions.FlakyHooked, None, {"probe": probe}, max_retries=5) == {
            "ok": True
        }
    assert probe.count("attempts") == 3
    assert probe.count("after_run") == 1


def test_param_hooks_run_once_in_the_caller_even_with_retries(engine: Engine) -> None:
    probe = engine.probe()
    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
        engine.rt.run(actions.ParamHooks, {"probe": probe}, max_retries=2)
    assert probe.lines("before_params") == [str(os.getpid())]  # once, here
    assert probe.count("attempts") == 3


# -- validation before dispatch --------------------------------------------------------------------
def test_validation_error_never_reaches_the_engine(engine: Engine) -> None:
    probe = engine.probe()
    rt = engine.rt
    with pytest.raises(jido.ValidationError) as info:
        rt.run(actions.Validated, {"n": "x"}, {"probe": probe}, max_retries=3)
    assert info.value.details["field"] == "n"
    with pytest.raises(jido.ValidationError):
        asyncio.run(rt.arun(actions.Validated, {"n": "x"}, {"probe": probe}))
    ref = rt.run_async(actions.Validated, {"n": "x"}, {"probe": probe})
    assert ref.done()  # delivered by the ref at once, never dispatched
    assert isinstance(ref.exception(), jido.ValidationError)
    with pytest.raises(jido.ValidationError) as info:
        rt.run(actions.RejectedByHook, {"n": 1}, {"probe": probe})
    assert info.value.message == "rejected by hook"
    assert info.value.details["hook"] is True
    with pytest.raises(jido.ValidationError):
        rt.run(actions.Validated, "not params", {"probe": probe})
    assert probe.attempts == []  # the action never ran
    assert rt.run(actions.Validated, {"n": "3"}, {"probe": probe}) == {"n": 3}  # coerced


def test_bad_options_are_config_errors_before_dispatch(engine: Engine) -> None:
    probe = engine.probe()
    for opts in ({"max_retries": -1}, {"timeout": "5"}, {"no_such_option": 1}):
        with pytest.raises(jido.ConfigError):
            engine.rt.run(actions.Validated, {"n": 1}, {"probe": probe}, **opts)
        with pytest.raises(jido.ConfigError):
            engine.rt.run_async(actions.Validated, {"n": 1}, {"probe": probe}, **opts).result(5)
    assert probe.attempts == []


def test_context_is_the_callers_in_process_and_a_copy_remotely(engine: Engine) -> None:
    # docs/guarantees.md: in-process "context values are passed through as they are (no copy)"; on
    # another process they are serialized, so changes made there are not seen here.
    items = ["from the caller"]
    context = {"items": items}
    out = engine.rt.run(actions.mutate_context, None, context)
    assert out == {"items": ["from the caller", "added by the action"]}
    if engine.remote:
        assert items == ["from the caller"]
    else:
        assert items == ["from the caller", "added by the action"]
    assert "new_key" not in context  # the run's context is a copy of the mapping itself


def test_unserializable_context_is_a_validation_error_only_off_process(engine: Engine) -> None:
    lock = threading.Lock()
    context = {"lock": lock}
    if not engine.remote:
        assert engine.rt.run(actions.Echo, None, context)["context"]["lock"] is lock
        return
    probe = engine.probe()
    with pytest.raises(jido.ValidationError) as info:
        engine.rt.run(actions.Validated, {"n": 1}, {"probe": probe, "lock": lock})
    assert "serializable" in info.value.message
    assert probe.attempts == []  # raised before anything was sent


def test_a_function_in_the_context_travels_only_with_cloudpickle(engine: Engine) -> None:
    # A lambda is passed as is in-process; Ray serializes it by value (cloudpickle); a
    # child process receives pickles, which hold functions by reference only.
    context = {"fn": lambda x: x + 1}
    if engine.name == "process":
        with pytest.raises(jido.ValidationError) as info:
            engine.rt.run(actions.call_context_function, None, context)
        assert "serializable" in info.value.message
    else:
        assert engine.rt.run(actions.call_context_function, None, context) == {"value": 21}


@engines(*REMOTE)
def test_unserializable_result_is_an_error_not_a_hang(engine: Engine) -> None:
    with pytest.raises(jido.JidoError) as info:
        engine.rt.run(actions.returns_lock, max_retries=0, timeout=10)
    assert not isinstance(info.value, jido.TimeoutError)  # reported, not hung
    assert engine.rt.run(actions.square, {"x": 3}) == {"x": 9}  # and the engine is usable


# -- jido.current() --------------------------------------------------------------------------------
@pytest.mark.parametrize("is_async", KINDS)
def test_current_describes_the_attempt(engine: Engine, is_async: bool) -> None:
    action = pick(is_async, actions.describe_attempt, actions.async_describe_attempt)
    probe = engine.probe()
    with jido.testing.no_backoff():
        out = engine.rt.run(action, None, {"k": "v", "probe": probe}, max_retries=2)
    assert out["action"] == action.name
    assert out["attempt"] == 2
    assert out["max_attempts"] == 3
    assert out["context"] == {"k": "v"}
    assert out["cancelled"] is False
    if engine.name == "inline":
        assert out["remaining"] is None
    else:
        assert 0 < out["remaining"] <= 5.0
    first, second = probe.lines("run_ids")
    assert first == second == out["run_id"]  # one run, two attempts
    other = engine.rt.run(action, {"fail_first": False}, {})
    assert other["run_id"] != out["run_id"]
    assert (out["pid"] != os.getpid()) is engine.remote


@engines(*TIMED)
def test_default_timeout_is_five_seconds_per_attempt(engine: Engine) -> None:
    out = engine.rt.run(actions.describe_attempt, {"fail_first": False}, {})
    assert 4.0 < out["remaining"] <= 5.0


# -- every error code comes out of a real run ------------------------------------------------------
def test_every_code_is_produced_by_a_real_run(engine: Engine) -> None:
    rt = engine.rt
    seen: dict[str, jido.JidoError] = {}

    def record(fn: Any) -> None:
        try:
            fn()
        except jido.JidoError as exc:
            seen[exc.type] = exc

    record(lambda: rt.run(actions.Add, {"value": "x"}))
    record(lambda: rt.run(object()))
    record(lambda: rt.run(actions.raises, {"error": "ValueError"}, max_retries=0))
    probe = engine.probe()
    engine.warm()
    record(
        lambda: rt.run(
            actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=0.5, max_retries=0
        )
    )

    def cancelled() -> None:
        ref = rt.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": engine.probe()})
        ref.cancel()
        ref.result(5)

    record(cancelled)
    record(lambda: jido.await_("garbage"))  # type: ignore[arg-type]
    record(lambda: rt.run(actions.Charge, {"crash": True}, {"probe": probe}, max_retries=0))
    record(lambda: rt.run(actions.Add, {"value": 1}, max_retries=-1))
    assert set(seen) == {
        "validation_error",
        "invalid_action",
        "execution_error",
        "timeout",
        "cancelled",
        "invalid_async_ref",
        "compensation_error",
        "config_error",
    }
