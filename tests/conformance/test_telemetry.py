"""Telemetry events and trace context for runs on every engine.

Events are emitted by the driver in the caller's process, whatever the engine, with the
engine's execution mode in ``metadata["mode"]``. The attempt's trace context (W3C
``traceparent``) travels with each attempt: the action sees the attempt span as current.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import jido
import jido.telemetry
import jido.testing
from conformance import actions
from conformance.conftest import TIMED, Engine, engines
from jido._observe.otel import reset_auto
from jido.telemetry import Event
from support import wait_until

KINDS = [pytest.param(False, id="sync"), pytest.param(True, id="async")]
SUCCESS = ["run.start", "attempt.start", "attempt.stop", "run.stop"]
STOPPED = ["run.start", "attempt.start", "attempt.exception"]


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)

    def run(self, action: str) -> list[Event]:
        """The events of the single run of ``action``."""
        with self._lock:
            events = [e for e in self.events if e.action == action]
        assert len({e.run_id for e in events}) == 1, [e.name for e in events]
        return events

    def finished(self, action: str) -> bool:
        with self._lock:
            return any(e.action == action and e.name == "run.stop" for e in self.events)


@pytest.fixture
def rec() -> Iterator[Recorder]:
    recorder = Recorder()
    ref = jido.telemetry.attach(recorder)
    try:
        yield recorder
    finally:
        jido.telemetry.detach(ref)


def names(events: list[Event]) -> list[str]:
    return [e.name for e in events]


def by_name(events: list[Event], name: str) -> list[Event]:
    return [e for e in events if e.name == name]


# -- events ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("is_async", KINDS)
def test_success_sequence(engine: Engine, rec: Recorder, is_async: bool) -> None:
    action = actions.async_square if is_async else actions.square
    assert engine.rt.run(action, {"x": 5}) == {"x": 25}
    events = rec.run(action.name)  # all delivered before a sync run returns
    assert names(events) == SUCCESS
    start, a_start, a_stop, stop = events
    assert start.metadata["mode"] == stop.metadata["mode"] == engine.mode(is_async)
    assert a_start.metadata["attempt"] == a_stop.metadata["attempt"] == 1
    assert a_stop.metadata["outcome"] == "ok"
    assert a_stop.measurements["duration"] >= 0
    assert stop.metadata["attempts"] == 1
    assert stop.metadata["outcome"] == "ok"
    assert stop.metadata.get("error_type") is None
    assert not stop.metadata.get("retries_exhausted", False)
    assert {e.run_id for e in events} == {start.run_id}
    assert all(e.action == action.name for e in events)


def test_run_async_success_sequence(engine: Engine, rec: Recorder) -> None:
    assert jido.await_(engine.rt.run_async(actions.square, {"x": 1}), timeout=30) == {"x": 1}
    assert wait_until(lambda: rec.finished("square"))
    events = rec.run("square")
    assert names(events) == SUCCESS
    # run_async of a sync action never runs inline
    assert events[0].metadata["mode"] == (
        "thread" if engine.name == "inline" else engine.mode(False)
    )


def test_failure_with_retries_sequence(engine: Engine, rec: Recorder) -> None:
    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
        engine.rt.run(actions.always_fail, None, {"probe": engine.probe()}, max_retries=2)
    events = rec.run("always_fail")
    assert names(events) == [
        "run.start",
        "attempt.start",
        "attempt.exception",
        "retry.scheduled",
        "attempt.start",
        "attempt.exception",
        "retry.scheduled",
        "attempt.start",
        "attempt.exception",
        "run.stop",
    ]
    assert [e.metadata["attempt"] for e in by_name(events, "attempt.start")] == [1, 2, 3]
    for n, exc in enumerate(by_name(events, "attempt.exception"), start=1):
        assert exc.metadata["attempt"] == n
        assert exc.metadata["outcome"] == "error"
        assert exc.metadata["error_type"] == "execution_error"
        assert exc.metadata["retryable"] is True
    retries = by_name(events, "retry.scheduled")
    assert [e.metadata["attempt"] for e in retries] == [1, 2]
    assert all(e.metadata["error_type"] == "execution_error" for e in retries)
    stop = events[-1]
    assert stop.metadata["mode"] == engine.mode(False)
    assert stop.metadata["attempts"] == 3
    assert stop.metadata["outcome"] == "error"
    assert stop.metadata["error_type"] == "execution_error"
    assert stop.metadata["retryable"] is True
    assert stop.metadata["retries_exhausted"] is True


def test_validation_failure_emits_no_attempt_events(engine: Engine, rec: Recorder) -> None:
    with pytest.raises(jido.ValidationError):
        engine.rt.run(actions.Validated, {"n": "x"}, {"probe": engine.probe()})
    events = rec.run("validated")
    assert names(events) == ["run.start", "run.stop"]
    stop = events[1]
    assert stop.metadata["outcome"] == "error"
    assert stop.metadata["error_type"] == "validation_error"
    assert stop.metadata["retryable"] is False
    assert stop.metadata["attempts"] == 0
    assert stop.measurements["duration"] >= 0


@engines(*TIMED)
def test_timeout_sequence(engine: Engine, rec: Recorder) -> None:
    engine.warm()
    with pytest.raises(jido.TimeoutError):
        engine.rt.run(
            actions.spin, None, {"probe": engine.probe()}, timeout=engine.short, max_retries=0
        )
    events = rec.run("spin")
    assert names(events) == [*STOPPED, "timeout", "run.stop"]
    assert events[0].metadata["mode"] == engine.mode(False)
    exc = events[2]
    assert exc.metadata["error_type"] == "timeout"
    assert exc.metadata["attempt"] == 1
    assert exc.measurements["duration"] >= engine.short - 0.01
    timeout = events[3]
    assert timeout.metadata["attempt"] == 1
    assert timeout.metadata["timeout"] == engine.short
    assert timeout.metadata["stopped"] is True
    assert timeout.metadata["stop"] == engine.stop("spin")
    stop = events[-1]
    assert stop.metadata["outcome"] == "error"
    assert stop.metadata["error_type"] == "timeout"
    assert stop.metadata["attempts"] == 1


def test_cancel_sequence(engine: Engine, rec: Recorder) -> None:
    probe = engine.probe()
    ref = engine.rt.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)
    assert probe.started(10)
    ref.cancel()
    with pytest.raises(jido.CancelledError):
        ref.result(5)
    assert wait_until(lambda: rec.finished("coop_sleep"))
    events = rec.run("coop_sleep")
    assert names(events) == [*STOPPED, "cancel", "run.stop"]
    assert events[2].metadata["error_type"] == "cancelled"
    assert events[2].metadata["retryable"] is False
    cancel = events[3].metadata
    assert cancel["attempt"] == 1
    assert cancel["reason"] == "caller"
    assert cancel["stopped"] is True
    assert cancel["stop"] == engine.stop("coop")
    stop = events[-1].metadata
    assert stop["outcome"] == "error"
    assert stop["error_type"] == "cancelled"
    assert stop["attempts"] == 1


# -- trace context ---------------------------------------------------------------------------------
@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    """jido instrumented with an SDK provider whose spans are kept in memory."""
    memory = InMemorySpanExporter()
    sdk = TracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(memory))
    sdk.memory = memory  # type: ignore[attr-defined]
    jido.telemetry.instrument(tracer_provider=sdk)
    try:
        yield sdk
    finally:
        jido.telemetry.uninstrument()
        reset_auto()
        sdk.shutdown()


def spans(provider: TracerProvider, name: str) -> list[ReadableSpan]:
    memory: InMemorySpanExporter = provider.memory  # type: ignore[attr-defined]
    return [s for s in memory.get_finished_spans() if s.name == name]


@pytest.mark.parametrize("in_request", [True, False], ids=["in-a-request-span", "no-caller-span"])
def test_the_action_sees_the_attempt_span_wherever_it_runs(
    engine: Engine, provider: TracerProvider, in_request: bool
) -> None:
    if in_request:
        with provider.get_tracer("tests").start_as_current_span("request") as request:
            seen = engine.rt.run(actions.observe_trace, max_retries=0)
        request_ctx = request.get_span_context()
    else:
        seen = engine.rt.run(actions.observe_trace, max_retries=0)
    assert (seen["pid"] != os.getpid()) is engine.remote
    [run] = spans(provider, "jido.run observe_trace")
    [attempt] = spans(provider, "jido.attempt observe_trace")
    assert run.attributes is not None
    assert run.attributes["jido.execution.mode"] == engine.mode(False)
    assert attempt.parent is not None
    assert attempt.parent.span_id == run.context.span_id
    # the action saw the attempt span as current, in its own process
    assert seen["valid"]
    assert seen["trace_id"] == format(attempt.context.trace_id, "032x")
    assert seen["span_id"] == format(attempt.context.span_id, "016x")
    if in_request:  # and the run nests under the caller's span
        assert run.parent is not None
        assert run.parent.span_id == request_ctx.span_id
        assert seen["trace_id"] == format(request_ctx.trace_id, "032x")
    else:
        assert run.parent is None
