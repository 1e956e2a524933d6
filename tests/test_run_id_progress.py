"""``run_id=`` names a run; ``jido.current().progress(...)`` reports its progress."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import jido
import jido.telemetry

# a module-level action: importable by child processes
from serving.agent_actions import flaky


@jido.action
def who() -> dict[str, Any]:
    return {"run_id": jido.current().run_id}


@jido.action
async def async_who() -> dict[str, Any]:
    jido.current().progress(50, 100, "half way, token=abc123")
    return {"run_id": jido.current().run_id}


def test_run_id_names_the_run_everywhere() -> None:
    events: list[jido.telemetry.Event] = []
    with jido.telemetry.attached(events.append, events=["run."]):
        assert jido.run(who, run_id="order-42") == {"run_id": "order-42"}
        assert jido.run(who, timeout=0, run_id="inline-1") == {"run_id": "inline-1"}
        ref = jido.run_async(who, run_id="async-7")
        assert ref.run_id == "async-7"
        assert ref.result() == {"run_id": "async-7"}
        assert asyncio.run(jido.arun(async_who, run_id="aio-1")) == {"run_id": "aio-1"}
        with jido.Runtime() as rt:
            assert rt.run(who, run_id="rt-1") == {"run_id": "rt-1"}
            assert rt.run_async(who, run_id="rt-2").result() == {"run_id": "rt-2"}
    named = {e.run_id for e in events}
    assert named == {"order-42", "inline-1", "async-7", "aio-1", "rt-1", "rt-2"}


def test_without_run_id_one_is_generated() -> None:
    first, second = jido.run(who)["run_id"], jido.run(who)["run_id"]
    assert first
    assert first != second


@pytest.mark.parametrize("bad", ["", 42, b"bytes"])
def test_a_bad_run_id_is_a_config_error(bad: Any) -> None:
    with pytest.raises(jido.ConfigError, match="run_id"):
        jido.run(who, run_id=bad)
    with pytest.raises(jido.ConfigError, match="run_id"):
        asyncio.run(jido.arun(who, run_id=bad))
    ref = jido.run_async(who, run_id=bad)
    with pytest.raises(jido.ConfigError, match="run_id"):
        ref.result()


def _progress_events(run: Any) -> list[jido.telemetry.Event]:
    events: list[jido.telemetry.Event] = []
    with jido.telemetry.attached(events.append, events=["progress"]):
        run()
    return events


def test_progress_is_a_telemetry_event_of_its_run() -> None:
    with jido.testing.no_backoff():
        events = _progress_events(lambda: jido.run(flaky, {"steps": 2}, run_id="p-1"))
    assert [(e.run_id, e.action) for e in events] == [("p-1", "flaky")] * 4
    first = events[0]
    assert first.measurements["progress"] == 1.0
    assert first.measurements["total"] == 2.0
    assert first.metadata == {"attempt": 1, "message": "step 1 of 2"}
    assert [e.metadata["attempt"] for e in events] == [1, 1, 2, 2]


def test_progress_from_async_actions_is_redacted() -> None:
    events = _progress_events(lambda: asyncio.run(jido.arun(async_who)))
    assert events[0].measurements["progress"] == 50.0
    assert "abc123" not in events[0].metadata["message"]


def test_progress_without_a_total_or_message() -> None:
    @jido.action
    def count() -> dict[str, Any]:
        jido.current().progress(3)
        return {}

    events = _progress_events(lambda: jido.run(count))
    assert "total" not in events[0].measurements
    assert events[0].metadata == {"attempt": 1}


def test_progress_is_forwarded_from_a_child_process() -> None:
    with jido.testing.no_backoff():
        events = _progress_events(
            lambda: jido.run(flaky, {"steps": 3}, isolation="process", run_id="child-1")
        )
    assert [e.run_id for e in events] == ["child-1"] * 6
    assert [e.measurements["progress"] for e in events] == [1.0, 2.0, 3.0] * 2
    assert [e.metadata["attempt"] for e in events] == [1, 1, 1, 2, 2, 2]


def test_progress_with_nobody_listening_is_a_no_op() -> None:
    with jido.testing.no_backoff():
        assert jido.run(flaky, {"steps": 1000}) == {"attempt": 2}
        assert jido.run(flaky, {"steps": 10}, isolation="process") == {"attempt": 2}


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((-1,), "progress must be"),
        ((float("nan"),), "progress must be"),
        ((True,), "progress must be"),
        (("3",), "progress must be"),
        ((1, 0), "total"),
        ((1, float("inf")), "total"),
        ((1, 2, 3), "message"),
    ],
)
def test_bad_progress_values_are_config_errors(args: tuple[Any, ...], match: str) -> None:
    @jido.action
    def report() -> dict[str, Any]:
        jido.current().progress(*args)
        return {}

    with pytest.raises(jido.ConfigError, match=match):
        jido.run(report, max_retries=0)
