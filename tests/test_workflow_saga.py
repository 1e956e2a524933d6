"""Sagas: completed steps of a failed chain or plan are compensated, newest first."""

from __future__ import annotations

import time

import pytest

import jido
from jido.workflow import Plan, chain
from workflow_actions import (
    Add,
    BrokenUndo,
    Charge,
    FailWithUndo,
    Log,
    Reserve,
    SlowUndo,
    fail,
    slow,
)


def test_chain_compensates_completed_steps_in_reverse_order() -> None:
    log = Log()
    with pytest.raises(jido.ExecutionError) as info:
        chain(
            [(Reserve, {"item": "book"}), Charge, Add, (fail, {"message": "no courier"})],
            {"value": 1},
            {"log": log},
            compensate=True,
        )
    saga = info.value.details["saga"]
    assert saga == [
        {"step": 2, "action": "add", "status": "skipped"},
        {"step": 1, "action": "charge", "status": "compensated", "result": {"refunded": True}},
        {"step": 0, "action": "reserve", "status": "compensated", "result": {"released": "book"}},
    ]
    assert log.names() == ["reserve", "charge", "add", "refund", "release"]
    # on_error got the params the step ran with and its result (validated: defaults
    # applied), and the error
    release = log.items[-1]
    assert release[1] == {"item": "book", "quantity": 1, "value": 1, "reservation": "R-book"}
    assert ("refund", "C-1") in log.items  # Charge's on_error saw its own result
    assert release[2] == "execution_error"


def test_without_compensate_nothing_is_undone() -> None:
    log = Log()
    with pytest.raises(jido.ExecutionError) as info:
        chain([(Reserve, {"item": "book"}), fail], None, {"log": log}, max_retries=0)
    assert "saga" not in info.value.details
    assert log.names() == ["reserve"]


def test_failed_compensations_are_recorded_and_the_saga_goes_on() -> None:
    log = Log()
    started = time.monotonic()
    with pytest.raises(jido.ExecutionError) as info:
        chain(
            [(Reserve, {"item": "pen"}), BrokenUndo, SlowUndo, fail],
            None,
            {"log": log},
            compensate=True,
        )
    assert time.monotonic() - started < 2.0  # SlowUndo was stopped at its 0.2 s budget
    slow_undo, broken, reserve = info.value.details["saga"]
    assert slow_undo["status"] == "failed"
    assert "timed out" in slow_undo["error"]
    assert broken["status"] == "failed"
    assert "undo exploded" in broken["error"]
    assert reserve["status"] == "compensated"


def test_the_failing_steps_own_compensation_runs_once() -> None:
    log = Log()
    with pytest.raises(jido.ExecutionError) as info:
        chain(
            [(Reserve, {"item": "cup"}), FailWithUndo],
            None,
            {"log": log},
            compensate=True,
            max_retries=2,
        )
    assert log.names().count("own-undo") == 1  # the core's on_error, after the last attempt
    assert info.value.details["compensation"]["compensated"] is True
    assert [r["action"] for r in info.value.details["saga"]] == ["reserve"]


def test_a_timed_out_step_triggers_the_saga() -> None:
    log = Log()
    with pytest.raises(jido.TimeoutError) as info:
        chain(
            [(Reserve, {"item": "mug"}), (slow, {"seconds": 1.0})],
            None,
            {"log": log},
            compensate=True,
            timeout=0.05,
            max_retries=0,
        )
    assert info.value.details["saga"][0]["status"] == "compensated"


def test_plan_compensates_completed_steps_newest_first() -> None:
    log = Log()
    plan = (
        Plan(context={"log": log})
        .add("reserve", Reserve, {"item": "lamp"})
        .add("charge", Charge, depends_on="reserve")
        .add("ship", fail, {"message": "no courier"}, depends_on="charge")
        .add("slowpoke", slow, {"label": "slowpoke"})
    )
    with pytest.raises(jido.ExecutionError) as info:
        plan.run(compensate=True)
    details = info.value.details
    assert details["cancelled"] == ["slowpoke"]
    assert [(r["step"], r["status"]) for r in details["saga"]] == [
        ("charge", "compensated"),
        ("reserve", "compensated"),
    ]
    assert log.names()[-2:] == ["refund", "release"]


def test_the_compensation_timeout_follows_the_configured_defaults() -> None:
    with jido.Runtime(name="saga-test", defaults={"compensation_timeout": 0.05}) as runtime:
        started = time.monotonic()
        with pytest.raises(jido.ExecutionError) as info:
            chain([SlowUndo, fail], compensate=True, runtime=runtime)
        assert "timed out after 0.05s" in info.value.details["saga"][0]["error"]
        assert time.monotonic() - started < 1.0
