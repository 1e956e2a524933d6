"""In-process telemetry events: exact sequences, metadata, measurements, handlers.

Contract (docs/observability.md, "Events", and issue 3): every run emits ``run.start``
... ``run.stop`` with ``attempt.start`` / ``attempt.stop`` | ``attempt.exception`` per attempt,
``retry.scheduled`` (with the delay) between attempts, ``timeout`` / ``cancel`` (with
``stopped``/``stop``) for a stopped attempt and ``compensation.start`` / ``.stop`` around
``on_error``. A validation failure emits ``run.start`` and ``run.stop`` but no attempt
events. Every event has ``measurements["monotonic_time"]``; durations are monotonic.
Params, context and results appear only with ``include_values=True``, redacted. A handler
that raises is detached, a warning is logged, and the run is unaffected.
``telemetry="silent"`` emits nothing for that run. The basic sequences (success,
retries, validation failure, timeout, cancel) on every engine are in
tests/conformance/test_telemetry.py.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import actions
import jido
import jido.telemetry
import jido.testing
from actions import Probe
from jido.telemetry import Event
from support import wait_until

MASK = "[REDACTED]"


class Recorder:
    """A handler that keeps every event it is given (from any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def snapshot(self) -> list[Event]:
        with self._lock:
            return list(self.events)

    def runs(self, action: str) -> dict[str, list[Event]]:
        """The events of each run of ``action``, by run id, in emission order."""
        out: dict[str, list[Event]] = {}
        for event in self.snapshot():
            if event.action == action:
                out.setdefault(event.run_id, []).append(event)
        return out

    def run(self, action: str) -> list[Event]:
        """The events of the single run of ``action`` (fails if there is not exactly one)."""
        runs = self.runs(action)
        assert len(runs) == 1, f"expected one run of {action!r}, got {len(runs)}"
        return next(iter(runs.values()))

    def finished(self, action: str, count: int = 1) -> bool:
        """True once ``count`` runs of ``action`` have emitted ``run.stop``."""
        return (
            sum(1 for e in self.snapshot() if e.action == action and e.name == "run.stop") >= count
        )


def names(events: list[Event]) -> list[str]:
    return [e.name for e in events]


def by_name(events: list[Event], name: str) -> list[Event]:
    return [e for e in events if e.name == name]


def one(events: list[Event], name: str) -> Event:
    found = by_name(events, name)
    assert len(found) == 1, f"expected one {name!r}, got {names(events)}"
    return found[0]


@pytest.fixture
def rec() -> Iterator[Recorder]:
    recorder = Recorder()
    ref = jido.telemetry.attach(recorder)
    try:
        yield recorder
    finally:
        jido.telemetry.detach(ref)


SUCCESS = ["run.start", "attempt.start", "attempt.stop", "run.stop"]


# -- actions local to this file ------------------------------------------------------------------
class Compensated(jido.Action):
    """Always fails; its ``on_error`` undoes the work."""

    name = "compensated"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        raise ConnectionError("down")

    def on_error(
        self, params: dict[str, Any], error: Exception, context: dict[str, Any]
    ) -> dict[str, Any]:
        return {"undone": True}


class CompensationFails(jido.Action):
    """Always fails, and so does its ``on_error``."""

    name = "compensation_fails"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        raise ConnectionError("down")

    def on_error(
        self, params: dict[str, Any], error: Exception, context: dict[str, Any]
    ) -> dict[str, Any]:
        raise RuntimeError("cannot undo")


@jido.action
def napper(seconds: float) -> dict[str, Any]:
    """Sleeps (cooperatively) for ``seconds``."""
    jido.current().sleep(seconds)
    return {"slept": seconds}


@jido.action
def retry_after_once(context: dict[str, Any]) -> dict[str, Any]:
    """Fails its first attempt with ``retry_after=0.05``, then succeeds."""
    if jido.current().attempt == 1:
        raise jido.ExecutionError("busy", retry_after=0.05)
    return {"ok": True}


# -- success in every execution mode -------------------------------------------------------------
def _assert_success(events: list[Event], mode: str) -> None:
    assert names(events) == SUCCESS
    start, a_start, a_stop, stop = events
    assert start.metadata["mode"] == mode
    assert a_start.metadata["attempt"] == 1
    assert a_stop.metadata["attempt"] == 1
    assert a_stop.metadata["outcome"] == "ok"
    assert stop.metadata["mode"] == mode
    assert stop.metadata["attempts"] == 1
    assert stop.metadata["outcome"] == "ok"
    assert stop.metadata.get("error_type") is None
    assert not stop.metadata.get("retries_exhausted", False)
    assert {e.run_id for e in events} == {start.run_id}
    assert all(e.action == start.action for e in events)


def test_success_arun_sequence(rec: Recorder) -> None:
    async def main() -> dict[str, Any]:
        return await jido.arun(actions.async_square, {"x": 4}, timeout=2.0)

    assert asyncio.run(main()) == {"x": 16}
    _assert_success(rec.run("async_square"), "async")


def test_all_events_delivered_before_a_sync_run_returns(rec: Recorder) -> None:
    jido.run(actions.Add, {"value": 1}, timeout=2.0)
    assert names(rec.run("add")) == SUCCESS  # no waiting: already complete


def test_concurrent_runs_have_distinct_run_ids_and_complete_sequences(rec: Recorder) -> None:
    refs = [jido.run_async(actions.Add, {"value": i}) for i in range(8)]
    assert [jido.await_(r, timeout=10.0) for r in refs] == [{"value": i + 1} for i in range(8)]
    assert wait_until(lambda: rec.finished("add", 8))
    runs = rec.runs("add")
    assert len(runs) == 8
    assert set(runs) == {r.run_id for r in refs}
    for events in runs.values():
        _assert_success(events, "thread")


# -- failures and retries ------------------------------------------------------------------------


def test_retry_delay_measurements_follow_the_backoff_schedule(rec: Recorder) -> None:
    with pytest.raises(jido.ExecutionError):
        jido.run(
            actions.always_fail, None, {"probe": Probe()}, timeout=0, max_retries=3, backoff=0.005
        )
    delays = [e.measurements["delay"] for e in by_name(rec.run("always_fail"), "retry.scheduled")]
    assert delays == pytest.approx([0.005, 0.01, 0.02])


def test_retry_delay_is_zero_under_no_backoff(rec: Recorder) -> None:
    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
        jido.run(actions.always_fail, None, {"probe": Probe()}, timeout=0, backoff=10.0)
    delays = [e.measurements["delay"] for e in by_name(rec.run("always_fail"), "retry.scheduled")]
    assert delays == [0.0]


def test_retry_delay_reports_retry_after(rec: Recorder) -> None:
    assert jido.run(retry_after_once, timeout=0, backoff=10.0) == {"ok": True}
    events = rec.run("retry_after_once")
    assert names(events) == [
        "run.start",
        "attempt.start",
        "attempt.exception",
        "retry.scheduled",
        "attempt.start",
        "attempt.stop",
        "run.stop",
    ]
    assert one(events, "retry.scheduled").measurements["delay"] == pytest.approx(0.05)
    assert events[-1].metadata["outcome"] == "ok"
    assert events[-1].metadata["attempts"] == 2


def test_non_retryable_failure_has_no_retry_events(rec: Recorder) -> None:
    with pytest.raises(jido.ExecutionError):
        jido.run(actions.raise_jido_error, timeout=0, max_retries=3)
    events = rec.run("raise_jido_error")
    assert names(events) == ["run.start", "attempt.start", "attempt.exception", "run.stop"]
    assert events[2].metadata["retryable"] is False
    stop = events[-1]
    assert stop.metadata["attempts"] == 1
    assert stop.metadata["retryable"] is False
    assert not stop.metadata.get("retries_exhausted", False)


def test_validation_failure_via_run_async_emits_no_attempt_events(rec: Recorder) -> None:
    ref = jido.run_async(actions.Add, {"value": "x"})
    with pytest.raises(jido.ValidationError):
        jido.await_(ref, timeout=5.0)
    assert wait_until(lambda: rec.finished("add"))
    assert names(rec.run("add")) == ["run.start", "run.stop"]


# -- timeouts ------------------------------------------------------------------------------------


def test_timeout_then_retry_sequence(rec: Recorder) -> None:
    with pytest.raises(jido.TimeoutError):
        jido.run(actions.spin, None, {"probe": Probe()}, timeout=0.1, max_retries=1, backoff=0.01)
    events = rec.run("spin")
    assert names(events) == [
        "run.start",
        "attempt.start",
        "attempt.exception",
        "timeout",
        "retry.scheduled",
        "attempt.start",
        "attempt.exception",
        "timeout",
        "run.stop",
    ]
    assert [e.metadata["attempt"] for e in by_name(events, "timeout")] == [1, 2]
    assert one(events, "retry.scheduled").metadata["error_type"] == "timeout"
    assert events[-1].metadata["attempts"] == 2
    assert events[-1].metadata["retries_exhausted"] is True


def test_timeout_of_blocked_thread_reports_abandoned(rt: jido.Runtime, rec: Recorder) -> None:
    probe = Probe()
    with pytest.raises(jido.TimeoutError):
        rt.run(
            actions.blocked_sleep, {"seconds": 0.6}, {"probe": probe}, timeout=0.1, max_retries=0
        )
    timeout = one(rec.run("blocked_sleep"), "timeout")
    assert timeout.metadata["stopped"] is False
    assert timeout.metadata["stop"] == "abandoned"


# -- cancellation --------------------------------------------------------------------------------


def test_cancel_sequence_async(rec: Recorder) -> None:
    probe = Probe()
    ref = jido.run_async(actions.async_sleep, {"seconds": 30}, {"probe": probe})
    assert probe.started.wait(5.0)
    jido.cancel(ref)
    with pytest.raises(jido.CancelledError):
        jido.await_(ref, timeout=5.0)
    assert wait_until(lambda: rec.finished("async_sleep"))
    events = rec.run("async_sleep")
    assert names(events) == [
        "run.start",
        "attempt.start",
        "attempt.exception",
        "cancel",
        "run.stop",
    ]
    assert events[0].metadata["mode"] == "async"
    cancel = events[3]
    assert cancel.metadata["reason"] == "caller"
    assert cancel.metadata["stopped"] is True
    assert cancel.metadata["stop"] == "cancelled"


def test_await_timeout_cancels_with_a_reason(rec: Recorder) -> None:
    probe = Probe()
    ref = jido.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe})
    with pytest.raises(jido.TimeoutError):
        jido.await_(ref, timeout=0.2)
    assert wait_until(lambda: rec.finished("coop_sleep"))
    events = rec.run("coop_sleep")
    stopped = [e for e in events if e.name in ("cancel", "timeout")]
    assert len(stopped) == 1
    meta = stopped[0].metadata
    assert meta["stopped"] is True
    if stopped[0].name == "cancel":
        assert meta["reason"]  # says why: the await timed out


# -- compensation --------------------------------------------------------------------------------
def test_compensation_sequence(rec: Recorder) -> None:
    with pytest.raises(jido.ExecutionError) as info:
        jido.run(Compensated, timeout=0, max_retries=0)
    assert info.value.details["compensation"]["compensated"] is True
    events = rec.run("compensated")
    assert names(events) == [
        "run.start",
        "attempt.start",
        "attempt.exception",
        "compensation.start",
        "compensation.stop",
        "run.stop",
    ]
    assert events[3].metadata["error_type"] == "execution_error"
    assert events[4].metadata["compensated"] is True
    assert events[-1].metadata["error_type"] == "execution_error"


def test_compensation_after_retries_runs_once(rec: Recorder) -> None:
    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
        jido.run(Compensated, timeout=2.0, max_retries=1)
    events = rec.run("compensated")
    assert names(events) == [
        "run.start",
        "attempt.start",
        "attempt.exception",
        "retry.scheduled",
        "attempt.start",
        "attempt.exception",
        "compensation.start",
        "compensation.stop",
        "run.stop",
    ]


def test_failed_compensation_sequence(rec: Recorder) -> None:
    with pytest.raises(jido.CompensationError):
        jido.run(CompensationFails, timeout=0, max_retries=0)
    events = rec.run("compensation_fails")
    assert names(events) == [
        "run.start",
        "attempt.start",
        "attempt.exception",
        "compensation.start",
        "compensation.stop",
        "run.stop",
    ]
    assert events[4].metadata["compensated"] is False
    assert events[-1].metadata["outcome"] == "error"
    assert events[-1].metadata["error_type"] == "compensation_error"


def test_timeouts_are_not_compensated(rec: Recorder) -> None:
    class SpinCompensated(jido.Action):
        name = "spin_compensated"

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            while True:
                pass

        def on_error(
            self, params: dict[str, Any], error: Exception, context: dict[str, Any]
        ) -> dict[str, Any]:
            return {}

    with pytest.raises(jido.TimeoutError):
        jido.run(SpinCompensated, timeout=0.1, max_retries=0)
    assert not [e for e in rec.run("spin_compensated") if e.name.startswith("compensation.")]


# -- measurements --------------------------------------------------------------------------------
def test_every_event_has_a_monotonic_time_within_the_run(rec: Recorder) -> None:
    before = time.monotonic()
    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
        jido.run(actions.always_fail, None, {"probe": Probe()}, timeout=2.0, max_retries=1)
    after = time.monotonic()
    events = rec.run("always_fail")
    stamps = [e.measurements["monotonic_time"] for e in events]
    assert all(before <= t <= after for t in stamps)
    assert stamps == sorted(stamps)


def test_durations_are_nonnegative_and_consistent(rec: Recorder) -> None:
    before = time.monotonic()
    jido.run(napper, {"seconds": 0.05}, timeout=2.0)
    elapsed = time.monotonic() - before
    events = rec.run("napper")
    attempt = one(events, "attempt.stop").measurements["duration"]
    run = one(events, "run.stop").measurements["duration"]
    assert 0.05 <= attempt <= run <= elapsed
    for event in events:
        for key, value in event.measurements.items():
            assert isinstance(value, float), (event.name, key)
            assert value >= 0, (event.name, key)


def test_failed_attempt_durations(rec: Recorder) -> None:
    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
        jido.run(actions.always_fail, None, {"probe": Probe()}, timeout=0, max_retries=2)
    events = rec.run("always_fail")
    durations = [e.measurements["duration"] for e in by_name(events, "attempt.exception")]
    assert len(durations) == 3
    assert all(d >= 0 for d in durations)
    assert one(events, "run.stop").measurements["duration"] >= sum(durations)
    assert "duration" not in one(events, "run.start").measurements


# -- silent, prefixes, handler failures ----------------------------------------------------------
@pytest.mark.parametrize("timeout", [0, 2.0], ids=["inline", "thread"])
def test_silent_emits_nothing(rec: Recorder, timeout: float) -> None:
    assert jido.run(actions.Add, {"value": 1}, timeout=timeout, telemetry="silent") == {"value": 2}
    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
        jido.run(actions.always_fail, None, {"probe": Probe()}, timeout=timeout, telemetry="silent")
    with pytest.raises(jido.ValidationError):
        jido.run(actions.Add, {"value": "x"}, timeout=timeout, telemetry="silent")
    assert rec.snapshot() == []
    jido.run(actions.Add, {"value": 1}, timeout=timeout)  # other runs are unaffected
    assert names(rec.run("add")) == SUCCESS


def test_silent_run_async_emits_nothing(rec: Recorder) -> None:
    probe = Probe()
    ref = jido.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, telemetry="silent")
    assert probe.started.wait(5.0)
    ref.cancel()
    with pytest.raises(jido.CancelledError):
        jido.await_(ref, timeout=5.0)
    assert jido.await_(jido.run_async(actions.async_square, {"x": 2}, telemetry="silent")) == {
        "x": 4
    }
    assert rec.snapshot() == []


def test_prefix_filtering() -> None:
    runs, attempts_and_retries, exact = Recorder(), Recorder(), Recorder()
    refs = [
        jido.telemetry.attach(runs, events=["run."]),
        jido.telemetry.attach(attempts_and_retries, events=("attempt.", "retry.")),
        jido.telemetry.attach(exact, events=["retry.scheduled"]),
    ]
    try:
        with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
            jido.run(actions.always_fail, None, {"probe": Probe()}, timeout=0, max_retries=1)
    finally:
        for ref in refs:
            jido.telemetry.detach(ref)
    assert names(runs.run("always_fail")) == ["run.start", "run.stop"]
    assert names(attempts_and_retries.run("always_fail")) == [
        "attempt.start",
        "attempt.exception",
        "retry.scheduled",
        "attempt.start",
        "attempt.exception",
    ]
    assert names(exact.run("always_fail")) == ["retry.scheduled"]


def test_raising_handler_is_detached_and_reported(
    rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    def broken(event: Event) -> None:
        calls.append(event.name)
        raise RuntimeError("handler bug")

    jido.telemetry.attach(broken)
    try:
        with caplog.at_level(logging.WARNING, logger="jido"):
            assert jido.run(actions.Add, {"value": 1}, timeout=0) == {"value": 2}
            assert jido.run(actions.Add, {"value": 2}, timeout=0) == {"value": 3}
        # the other handler saw everything, for both runs
        assert len(rec.runs("add")) == 2
        for events in rec.runs("add").values():
            assert names(events) == SUCCESS
        # the broken one was called once, then never again (not even later in the same run)
        assert calls == ["run.start"]
        warnings = [
            r for r in caplog.records if r.name.startswith("jido") and r.levelno == logging.WARNING
        ]
        assert len(warnings) == 1
        assert "detached" in warnings[0].getMessage()
    finally:
        jido.telemetry.detach(broken)


def test_raising_handler_does_not_break_threaded_or_failing_runs(rec: Recorder) -> None:
    def broken(event: Event) -> None:
        raise ValueError("nope")

    jido.telemetry.attach(broken)
    try:
        assert jido.run(actions.Add, {"value": 1}, timeout=2.0) == {"value": 2}
        with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError) as info:
            jido.run(actions.always_fail, None, {"probe": Probe()}, timeout=2.0, max_retries=1)
        assert info.value.details["attempts"] == 2
    finally:
        jido.telemetry.detach(broken)
    assert names(rec.run("add")) == SUCCESS


# -- include_values and redaction ----------------------------------------------------------------
def _echo_with_secrets() -> tuple[dict[str, Any], dict[str, Any]]:
    params = {"x": 1, "tag": "t", "api_key": "s3cr3t-param", "password": "hunter2"}
    context = {"user": "ada", "token": "s3cr3t-ctx", "authorization": "Bearer abc.def"}
    return params, context


def test_values_absent_by_default(rec: Recorder) -> None:
    params, context = _echo_with_secrets()
    jido.run(actions.Echo, params, context, timeout=0)
    with pytest.raises(jido.ValidationError):
        jido.run(actions.Echo, {"x": "not an int", "password": "hunter2"}, timeout=0)
    events = [e for evs in rec.runs("echo").values() for e in evs]
    assert events
    for event in events:
        assert not {"params", "context", "result"} & set(event.metadata), event


def test_include_values_redacts_params_context_and_result() -> None:
    rich, plain = Recorder(), Recorder()
    params, context = _echo_with_secrets()
    with (
        jido.telemetry.attached(rich, include_values=True),
        jido.telemetry.attached(plain),
    ):
        jido.run(actions.Echo, params, context, timeout=0)
    events = rich.run("echo")
    assert names(events) == SUCCESS
    start = events[0]
    assert start.metadata["params"]["x"] == 1
    assert start.metadata["params"]["api_key"] == MASK
    assert start.metadata["params"]["password"] == MASK
    assert start.metadata["context"]["user"] == "ada"
    assert start.metadata["context"]["token"] == MASK
    assert start.metadata["context"]["authorization"] == MASK
    assert start.metadata["mode"] == "inline"  # the usual metadata is still there
    for stop in (events[2], events[3]):
        result = stop.metadata["result"]
        assert result["params"]["api_key"] == MASK  # nested secrets are masked too
        assert result["context"]["token"] == MASK
        assert result["context"]["user"] == "ada"
    text = repr([(e.metadata, e.measurements) for e in events])
    for secret in ("s3cr3t-param", "hunter2", "s3cr3t-ctx", "abc.def"):
        assert secret not in text
    # the handler without include_values gets none of it, even from the same run
    for event in plain.run("echo"):
        assert not {"params", "context", "result"} & set(event.metadata)
    # and the caller's own data is untouched
    assert params["api_key"] == "s3cr3t-param"
    assert context["token"] == "s3cr3t-ctx"


def test_include_values_truncates_long_strings() -> None:
    rich = Recorder()
    long = "x" * 10_000
    with jido.telemetry.attached(rich, include_values=True):
        jido.run(actions.Echo, {"x": 1, "tag": long}, timeout=0)
    start = rich.run("echo")[0]
    tag = start.metadata["params"]["tag"]
    assert isinstance(tag, str)
    assert len(tag) < 1000
    assert tag.startswith("x" * 100)


def test_include_values_on_validation_failure_is_redacted() -> None:
    rich = Recorder()
    with jido.telemetry.attached(rich, include_values=True), pytest.raises(jido.ValidationError):
        jido.run(actions.Echo, {"x": "nope", "secret": "hunter2"}, timeout=0)
    events = rich.run("echo")
    assert names(events) == ["run.start", "run.stop"]
    assert "hunter2" not in repr(events[0].metadata)
    assert "result" not in events[1].metadata or events[1].metadata["result"] is None


def test_include_values_never_breaks_a_run() -> None:
    """A context value whose repr raises (a lazy ORM object...) must not break the run."""

    class BrokenRepr:
        def __repr__(self) -> str:
            raise RuntimeError("repr is broken")

    rich = Recorder()
    with jido.telemetry.attached(rich, include_values=True):
        assert jido.run(actions.Add, {"value": 1}, {"db": BrokenRepr()}, timeout=0) == {"value": 2}
    assert names(rich.run("add")) == SUCCESS


# -- attach / detach / attached ------------------------------------------------------------------
def test_detach_by_ref() -> None:
    recorder = Recorder()
    ref = jido.telemetry.attach(recorder)
    jido.run(actions.Add, {"value": 1}, timeout=0)
    jido.telemetry.detach(ref)
    jido.run(actions.Add, {"value": 1}, timeout=0)
    assert len(recorder.runs("add")) == 1


def test_detach_by_function() -> None:
    recorder = Recorder()
    jido.telemetry.attach(recorder, events=["run."])
    jido.run(actions.Add, {"value": 1}, timeout=0)
    jido.telemetry.detach(recorder)
    jido.run(actions.Add, {"value": 1}, timeout=0)
    assert len(recorder.runs("add")) == 1


def test_detach_leaves_other_handlers_attached(rec: Recorder) -> None:
    other = Recorder()
    ref = jido.telemetry.attach(other)
    jido.telemetry.detach(ref)
    jido.run(actions.Add, {"value": 1}, timeout=0)
    assert other.snapshot() == []
    assert names(rec.run("add")) == SUCCESS


def test_attached_context_manager() -> None:
    recorder = Recorder()
    jido.run(actions.Add, {"value": 0}, timeout=0)
    with jido.telemetry.attached(recorder, events=["run.stop"]) as ref:
        assert isinstance(ref, jido.telemetry.HandlerRef)
        jido.run(actions.Add, {"value": 1}, timeout=0)
    jido.run(actions.Add, {"value": 2}, timeout=0)
    assert names(recorder.run("add")) == ["run.stop"]


def test_attached_detaches_when_the_block_raises() -> None:
    recorder = Recorder()
    with pytest.raises(KeyError), jido.telemetry.attached(recorder):
        raise KeyError("boom")
    jido.run(actions.Add, {"value": 1}, timeout=0)
    assert recorder.snapshot() == []


def test_event_fields_and_names() -> None:
    recorder = Recorder()
    with jido.telemetry.attached(recorder), jido.testing.no_backoff():
        jido.run(actions.Add, {"value": 1}, timeout=0)
    for event in recorder.run("add"):
        assert event.name in jido.telemetry.EVENTS
        assert event.action == "add"
        assert isinstance(event.run_id, str)
        assert event.run_id
        assert "monotonic_time" in event.measurements
        with pytest.raises(AttributeError):
            event.name = "changed"  # type: ignore[misc]
    assert set(jido.telemetry.EVENTS) == {
        "run.start",
        "run.stop",
        "attempt.start",
        "attempt.stop",
        "attempt.exception",
        "retry.scheduled",
        "timeout",
        "cancel",
        "compensation.start",
        "compensation.stop",
        "journal.checkpoint",
        "progress",
    }
