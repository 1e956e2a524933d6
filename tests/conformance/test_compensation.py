"""Compensation (``on_error``) on every engine: once, after the final failed attempt,
crash-contained, never for timeouts or cancellations.

On every engine ``on_error`` runs in the caller's process, on the instance the caller
validated the params with (docs/cluster.md: "compensation (on_error) runs in the caller's
process"); only the attempts run on the engine.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

import jido
import jido.testing
from conformance import actions
from conformance.conftest import TIMED, Engine, engines

KINDS = [pytest.param(False, id="sync"), pytest.param(True, id="async")]


def charge(is_async: bool) -> Any:
    return actions.AsyncCharge if is_async else actions.Charge


@pytest.mark.parametrize("is_async", KINDS)
def test_on_error_runs_once_after_the_final_attempt(engine: Engine, is_async: bool) -> None:
    probe = engine.probe()
    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError) as info:
        engine.rt.run(charge(is_async), {"order_id": 7}, {"probe": probe}, max_retries=2)
    assert probe.count("attempts") == 3
    [call] = probe.lines("compensations")
    pid, error_type, cause = call.split(" ", 2)
    assert int(pid) == os.getpid()  # in the caller's process, whatever the engine
    assert error_type == "execution_error"
    assert "attempt 3" in cause  # the error of the final attempt
    err = info.value
    assert err.type == "execution_error"  # the original error, compensated
    assert err.details["compensation"] == {"compensated": True, "result": {"undone": 7}}
    assert err.details["attempts"] == 3


def test_on_error_via_run_async_and_arun(engine: Engine) -> None:
    probe = engine.probe()
    with pytest.raises(jido.ExecutionError) as info:
        jido.await_(
            engine.rt.run_async(actions.Charge, {"order_id": 2}, {"probe": probe}, max_retries=0),
            timeout=30,
        )
    assert info.value.details["compensation"]["result"] == {"undone": 2}
    with pytest.raises(jido.ExecutionError) as info:
        asyncio.run(
            engine.rt.arun(actions.Charge, {"order_id": 3}, {"probe": probe}, max_retries=0)
        )
    assert info.value.details["compensation"]["result"] == {"undone": 3}
    assert probe.count("compensations") == 2


@pytest.mark.parametrize("is_async", KINDS)
@pytest.mark.parametrize("async_on_error", [False, True], ids=["sync-on-error", "async-on-error"])
def test_crashing_compensation_is_contained(
    engine: Engine, is_async: bool, async_on_error: bool
) -> None:
    action = actions.AsyncCompCharge if async_on_error else charge(is_async)
    probe = engine.probe()
    with pytest.raises(jido.CompensationError) as info:
        engine.rt.run(action, {"crash": True}, {"probe": probe}, max_retries=1, backoff=0)
    err = info.value
    assert probe.count("compensations") == 1  # once, even with a retry
    assert probe.count("attempts") == 2  # the retry happened; compensation only after it
    assert isinstance(err.__cause__, jido.ExecutionError)
    assert err.details["original_error"]["type"] == "execution_error"
    assert "cleanup exploded" in (err.message + repr(err.details))


@engines(*TIMED)
@pytest.mark.parametrize("is_async", KINDS)
def test_not_run_for_timeouts(engine: Engine, is_async: bool) -> None:
    probe = engine.probe()
    action = actions.AsyncSlowCharge if is_async else actions.SlowCharge
    engine.warm()
    with pytest.raises(jido.TimeoutError) as info:
        engine.rt.run(
            action, None, {"probe": probe}, timeout=engine.short, max_retries=1, backoff=0
        )
    assert probe.count("attempts") == 2
    assert probe.count("compensations") == 0
    assert "compensation" not in info.value.details


def test_not_run_for_cancellation(engine: Engine) -> None:
    probe = engine.probe()
    ref = engine.rt.run_async(actions.SlowCharge, None, {"probe": probe}, timeout=30)
    assert probe.started(10)
    ref.cancel()
    with pytest.raises(jido.CancelledError):
        ref.result(5)
    assert probe.count("compensations") == 0  # the error is final: it would have run before
