"""Compensation (``on_error``), contract item 4 and docs/guarantees.md "What a run does", step 5.

Runs once, after the final failed attempt, with its own timeout (``compensation_timeout``,
default 5 s, never the run's timeout), crash-contained; its result lands in
``error.details["compensation"]``; if it fails or times out a CompensationError is raised
with the original error as its cause and in ``details["original_error"]``. Timeouts and
cancellations are not compensated. (Compensation after runs on every engine: see
tests/conformance/test_compensation.py.)
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import jido
import jido.testing
from support import Stopwatch


class Recorder:
    def __init__(self) -> None:
        self.attempts = 0
        self.calls: list[tuple[dict[str, Any], jido.JidoError, dict[str, Any]]] = []
        self.release = threading.Event()


def compensated(
    rec: Recorder,
    *,
    is_async: bool = False,
    on_error: Any = None,
    async_on_error: bool = False,
    comp_timeout: float | None = None,
    run_body: Any = None,
) -> type[jido.Action]:
    """A failing action whose on_error records its calls and returns a dict."""

    def default_on_error(
        self: Any, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
    ) -> dict[str, Any]:
        rec.calls.append((params, error, context))
        return {"undone": params.get("order_id")}

    def fail(params: dict[str, Any]) -> dict[str, Any]:
        rec.attempts += 1
        if run_body is not None:
            return run_body(params)
        raise ConnectionError(f"charge failed on attempt {rec.attempts}")

    body: dict[str, Any] = {"name": "charge"}
    handler = on_error or default_on_error
    if async_on_error and not asyncio.iscoroutinefunction(handler):
        sync_handler = handler

        async def handler_async(self: Any, params: Any, error: Any, context: Any) -> Any:
            await asyncio.sleep(0)
            return sync_handler(self, params, error, context)

        body["on_error"] = handler_async
    else:
        body["on_error"] = handler
    if comp_timeout is not None:
        body["compensation_timeout"] = comp_timeout
    if is_async:

        async def run(self: Any, params: dict[str, Any], context: dict[str, Any]) -> Any:
            await asyncio.sleep(0)
            return fail(params)

    else:

        def run(self: Any, params: dict[str, Any], context: dict[str, Any]) -> Any:  # type: ignore[misc]
            return fail(params)

    body["run"] = run
    return type("Charge", (jido.Action,), body)


def compensation_result(details: dict[str, Any]) -> Any:
    """The on_error return value as reported in details["compensation"].

    docs/guarantees.md says the result "lands in error.details['compensation']"; it may be the value
    itself or a record holding it under "result".
    """
    comp = details["compensation"]
    if isinstance(comp, dict) and "result" in comp:
        return comp["result"]
    return comp


def original_type(original: Any) -> str:
    return original["type"] if isinstance(original, dict) else original.type


# -- once, after the final attempt ---------------------------------------------------------------


def test_async_on_error_is_supported() -> None:
    rec = Recorder()
    action = compensated(rec, async_on_error=True)
    with pytest.raises(jido.ExecutionError) as info:
        jido.run(action, {"order_id": 1}, timeout=0, max_retries=0)
    assert len(rec.calls) == 1
    assert compensation_result(info.value.details) == {"undone": 1}


def test_on_error_gets_validated_params_with_defaults() -> None:
    import pydantic

    class P(pydantic.BaseModel):
        order_id: int
        currency: str = "eur"

    rec = Recorder()
    base = compensated(rec)

    class WithSchema(base):  # type: ignore[valid-type,misc]
        name = "charge_with_schema"
        schema = P

    with pytest.raises(jido.ExecutionError):
        jido.run(WithSchema, {"order_id": "5"}, timeout=0, max_retries=0)
    assert rec.calls[0][0] == {"order_id": 5, "currency": "eur"}


# -- its own timeout -----------------------------------------------------------------------------
def slow_on_error(seconds: float, rec: Recorder) -> Any:
    def on_error(self: Any, params: Any, error: Any, context: Any) -> dict[str, Any]:
        rec.calls.append((params, error, context))
        rec.release.wait(seconds)  # blocks like real cleanup I/O would
        return {"cleaned": True}

    return on_error


def async_slow_on_error(seconds: float, rec: Recorder) -> Any:
    async def on_error(self: Any, params: Any, error: Any, context: Any) -> dict[str, Any]:
        rec.calls.append((params, error, context))
        await asyncio.sleep(seconds)
        return {"cleaned": True}

    return on_error


@pytest.mark.parametrize("timeout", [0, 0.05], ids=["timeout-0", "short-run-timeout"])
def test_compensation_is_not_bound_by_the_run_timeout(timeout: float) -> None:
    rec = Recorder()
    action = compensated(rec, on_error=slow_on_error(0.3, rec))
    with pytest.raises(jido.ExecutionError) as info:
        jido.run(action, timeout=timeout, max_retries=0)
    assert compensation_result(info.value.details) == {"cleaned": True}


@pytest.mark.parametrize("async_on_error", [False, True], ids=["sync-on-error", "async-on-error"])
def test_compensation_timeout_from_the_class(async_on_error: bool) -> None:
    rec = Recorder()
    slow = async_slow_on_error(10, rec) if async_on_error else slow_on_error(10, rec)
    action = compensated(rec, on_error=slow, comp_timeout=0.2)
    try:
        with Stopwatch() as sw, pytest.raises(jido.CompensationError) as info:
            jido.run(action, timeout=5, max_retries=0)
    finally:
        rec.release.set()
    assert sw.elapsed < 2.0
    err = info.value
    assert err.type == "compensation_error"
    assert isinstance(err.__cause__, jido.ExecutionError)  # the original error
    assert original_type(err.details["original_error"]) == "execution_error"
    assert "time" in str(err.details.get("compensation_error", err.message)).lower()


def test_compensation_timeout_per_call_option() -> None:
    rec = Recorder()
    action = compensated(rec, on_error=slow_on_error(10, rec))  # class default: 5 s
    try:
        with Stopwatch() as sw, pytest.raises(jido.CompensationError):
            jido.run(action, timeout=0, max_retries=0, compensation_timeout=0.2)
    finally:
        rec.release.set()
    assert sw.elapsed < 2.0


def test_default_compensation_timeout_is_five_seconds() -> None:
    assert jido.Action.compensation_timeout == 5.0


# -- crash-contained -----------------------------------------------------------------------------


def test_compensation_error_pickles() -> None:
    import pickle

    rec = Recorder()

    def crash(self: Any, params: Any, error: Any, context: Any) -> dict[str, Any]:
        raise RuntimeError("cleanup exploded")

    with pytest.raises(jido.CompensationError) as info:
        jido.run(compensated(rec, on_error=crash), timeout=0, max_retries=0)
    back = pickle.loads(pickle.dumps(info.value))
    assert type(back) is jido.CompensationError
    assert back.details == info.value.details
    assert isinstance(back.__cause__, jido.ExecutionError)


# -- not run for timeouts, cancellations, successes, validation errors ---------------------------
def test_not_run_on_success() -> None:
    rec = Recorder()
    action = compensated(rec, run_body=lambda p: {"ok": True})
    assert jido.run(action, timeout=0) == {"ok": True}
    assert jido.run(action, timeout=1) == {"ok": True}
    assert rec.calls == []


def test_not_run_after_a_success_following_failures() -> None:
    rec = Recorder()

    def body(params: dict[str, Any]) -> dict[str, Any]:
        if rec.attempts < 2:
            raise ConnectionError("flaky")
        return {"ok": True}

    with jido.testing.no_backoff():
        assert jido.run(compensated(rec, run_body=body), timeout=0, max_retries=3) == {"ok": True}
    assert rec.calls == []


def test_not_run_for_validation_errors() -> None:
    import pydantic

    class P(pydantic.BaseModel):
        n: int

    rec = Recorder()

    class Validated(compensated(rec)):  # type: ignore[misc]
        name = "validated_charge"
        schema = P

    with pytest.raises(jido.ValidationError):
        jido.run(Validated, {"n": "x"})
    assert rec.calls == []
    assert rec.attempts == 0


def test_compensation_does_not_delay_the_error_more_than_it_takes() -> None:
    rec = Recorder()
    action = compensated(rec)
    with Stopwatch() as sw, pytest.raises(jido.ExecutionError):
        jido.run(action, timeout=0, max_retries=0)
    assert sw.elapsed < 0.5
