"""OpenTelemetry: spans, span events, metrics and trace-context propagation.

Contract (docs/observability.md, "OpenTelemetry", and issue 3): each run is a
``jido.run <action>`` span with one ``jido.attempt <action>`` child per attempt; retries,
timeouts, cancellations and compensation are span events; failures set status ERROR and
``error.type``; attributes live under ``jido.*``. Metrics: ``jido.runs``, ``jido.attempts``,
``jido.run.duration``, ``jido.attempt.duration``, ``jido.timeouts``, ``jido.cancellations``,
``jido.retries.exhausted``. jido never sets a global provider; it follows one the
application set, or explicit providers given to ``jido.telemetry.instrument``. The attempt
span is current where the action runs (caller's thread, worker thread, asyncio task, child
process), and a run started inside a caller's span nests under it.

Most tests use local SDK providers through ``instrument()``; the global provider is only
ever set in a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import actions
import jido
import jido.telemetry
import jido.testing
from actions import Probe
from jido._observe.otel import reset_auto
from support import wait_until

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"


# -- actions (module level: the process test imports them in a child) -----------------------------
def _observe(context: dict[str, Any]) -> dict[str, Any]:
    """What the action sees as the current span; makes an inner span with a given tracer."""
    seen = trace.get_current_span().get_span_context()
    tracer = context.get("tracer")
    if tracer is not None:
        with tracer.start_as_current_span("inner"):
            pass
    return {"trace_id": seen.trace_id, "span_id": seen.span_id, "valid": seen.is_valid}


@jido.action
def observe(context: dict[str, Any]) -> dict[str, Any]:
    return _observe(context)


@jido.action
async def aobserve(context: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(0)
    return _observe(context)


@jido.action
def flaky_observe(context: dict[str, Any]) -> dict[str, Any]:
    """Fails its first attempt; records the span it saw in each attempt."""
    context["seen"].append(trace.get_current_span().get_span_context().span_id)
    if jido.current().attempt == 1:
        raise ConnectionError("transient")
    return {}


class Compensated(jido.Action):
    name = "otel_compensated"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        raise ConnectionError("down")

    def on_error(
        self, params: dict[str, Any], error: Exception, context: dict[str, Any]
    ) -> dict[str, Any]:
        return {"undone": True}


# -- harness -------------------------------------------------------------------------------------
@dataclass
class Otel:
    tracer_provider: TracerProvider
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    meter_provider: MeterProvider

    @property
    def tracer(self) -> trace.Tracer:
        return self.tracer_provider.get_tracer("tests")

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.name == name]

    def run_span(self, action: str) -> ReadableSpan:
        found = self.named(f"jido.run {action}")
        assert len(found) == 1, [s.name for s in self.spans()]
        return found[0]

    def wait_run(self, action: str, count: int = 1) -> None:
        assert wait_until(lambda: len(self.named(f"jido.run {action}")) >= count, timeout=5.0)

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        pid = parent.context.span_id
        kids = [s for s in self.spans() if s.parent is not None and s.parent.span_id == pid]
        return sorted(kids, key=lambda s: s.start_time or 0)

    def attempts(self, run: ReadableSpan) -> list[ReadableSpan]:
        return [s for s in self.children(run) if s.name.startswith("jido.attempt ")]

    def points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        out: list[Any] = []
        if data is None:
            return out
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name == name:
                        out.extend(metric.data.data_points)
        return out

    def unit(self, name: str) -> str | None:
        data = self.reader.get_metrics_data()
        assert data is not None
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name == name:
                        return metric.unit
        return None

    def total(self, name: str, **attrs: Any) -> float:
        """Sum of a counter's points (or a histogram's counts) whose attributes include attrs."""
        want = {k.replace("__", "."): v for k, v in attrs.items()}
        total = 0.0
        for point in self.points(name):
            if all(point.attributes.get(k) == v for k, v in want.items()):
                total += point.count if hasattr(point, "count") else point.value
        return total


def make_otel() -> Otel:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    return Otel(tracer_provider, exporter, reader, meter_provider)


@pytest.fixture
def otel() -> Iterator[Otel]:
    harness = make_otel()
    jido.telemetry.instrument(
        tracer_provider=harness.tracer_provider, meter_provider=harness.meter_provider
    )
    try:
        yield harness
    finally:
        jido.telemetry.uninstrument()
        reset_auto()  # back to the default: follow a global provider once one is set
        harness.tracer_provider.shutdown()
        harness.meter_provider.shutdown()


def status(span: ReadableSpan) -> StatusCode:
    return span.status.status_code


def trace_events(otel: Otel, run: ReadableSpan) -> list[Any]:
    """Span events on a run span and its attempt spans, in time order."""
    events = list(run.events)
    for attempt in otel.attempts(run):
        events.extend(attempt.events)
    return sorted(events, key=lambda e: e.timestamp)


def jido_attrs(event: Any) -> dict[str, Any]:
    return dict(event.attributes or {})


# -- span tree, names, attributes, status --------------------------------------------------------
def test_success_span_tree(otel: Otel) -> None:
    run_ids: list[str] = []
    with jido.telemetry.attached(lambda e: run_ids.append(e.run_id), events=["run.start"]):
        jido.run(actions.Add, {"value": 1}, timeout=0)
    run = otel.run_span("add")
    attempts = otel.attempts(run)
    assert [s.name for s in attempts] == ["jido.attempt add"]
    assert len(otel.spans()) == 2  # nothing else
    attempt = attempts[0]
    assert attempt.context.trace_id == run.context.trace_id
    assert run.parent is None  # no caller span: a root
    assert run.attributes is not None
    assert attempt.attributes is not None
    assert run.attributes["jido.action.name"] == "add"
    assert run.attributes["jido.run.id"] == run_ids[0]
    assert run.attributes["jido.execution.mode"] == "inline"
    assert run.attributes["jido.attempts"] == 1
    assert attempt.attributes["jido.action.name"] == "add"
    assert attempt.attributes["jido.attempt"] == 1
    assert status(run) == StatusCode.OK
    assert status(attempt) == StatusCode.OK
    assert "error.type" not in run.attributes
    assert "error.type" not in attempt.attributes
    # the run span encloses its attempt
    assert run.start_time is not None
    assert run.end_time is not None
    assert attempt.start_time is not None
    assert attempt.end_time is not None
    assert run.start_time <= attempt.start_time <= attempt.end_time <= run.end_time


@pytest.mark.parametrize(
    ("action", "timeout", "mode"),
    [
        pytest.param(actions.square, 0, "inline", id="inline"),
        pytest.param(actions.square, 2.0, "thread", id="thread"),
        pytest.param(actions.async_square, 2.0, "async", id="async"),
    ],
)
def test_execution_mode_attribute(otel: Otel, action: Any, timeout: float, mode: str) -> None:
    jido.run(action, {"x": 2}, timeout=timeout)
    name = "async_square" if mode == "async" else "square"
    run = otel.run_span(name)
    assert run.attributes is not None
    assert run.attributes["jido.execution.mode"] == mode
    assert len(otel.attempts(run)) == 1


def test_outcome_attribute_on_spans(otel: Otel) -> None:
    """docs/observability.md lists ``jido.outcome`` among the span attributes."""
    jido.run(actions.Add, {"value": 1}, timeout=0)
    with pytest.raises(jido.ExecutionError):
        jido.run(actions.raise_value_error, timeout=0, max_retries=0)
    ok = otel.run_span("add")
    bad = otel.run_span("raise_value_error")
    assert ok.attributes is not None
    assert bad.attributes is not None
    assert ok.attributes.get("jido.outcome") == "ok"
    assert bad.attributes.get("jido.outcome") == "error"


def test_failure_with_retries_span_tree(otel: Otel) -> None:
    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
        jido.run(actions.always_fail, None, {"probe": Probe()}, timeout=0, max_retries=2)
    run = otel.run_span("always_fail")
    attempts = otel.attempts(run)
    assert [s.name for s in attempts] == ["jido.attempt always_fail"] * 3
    assert [s.attributes["jido.attempt"] for s in attempts if s.attributes] == [1, 2, 3]
    for span in (run, *attempts):
        assert status(span) == StatusCode.ERROR
        assert span.attributes is not None
        assert span.attributes["error.type"] == "execution_error"
        assert span.attributes["jido.error.retryable"] is True
    assert run.attributes is not None
    assert run.attributes["jido.attempts"] == 3
    retries = [e for e in trace_events(otel, run) if "retry" in e.name]
    assert len(retries) == 2
    assert all(e.name.startswith("jido.") for e in retries)
    assert [jido_attrs(e).get("jido.attempt") for e in retries] == [1, 2]
    assert all(jido_attrs(e).get("jido.delay") == 0.0 for e in retries)


def test_retry_event_carries_the_delay(otel: Otel) -> None:
    with pytest.raises(jido.ExecutionError):
        jido.run(
            actions.always_fail, None, {"probe": Probe()}, timeout=0, max_retries=2, backoff=0.005
        )
    retries = [e for e in trace_events(otel, otel.run_span("always_fail")) if "retry" in e.name]
    assert [jido_attrs(e)["jido.delay"] for e in retries] == pytest.approx([0.005, 0.01])
    assert all(jido_attrs(e)["jido.error_type"] == "execution_error" for e in retries)


def test_success_after_retry_is_ok(otel: Otel) -> None:
    seen: list[int] = []
    jido.run(flaky_observe, None, {"seen": seen}, timeout=0, backoff=0.001)
    run = otel.run_span("flaky_observe")
    first, second = otel.attempts(run)
    assert status(first) == StatusCode.ERROR
    assert status(second) == StatusCode.OK
    assert status(run) == StatusCode.OK
    assert run.attributes is not None
    assert "error.type" not in run.attributes
    # each attempt's action saw its own attempt span as current
    assert seen == [first.context.span_id, second.context.span_id]


def test_validation_failure_has_no_attempt_spans(otel: Otel) -> None:
    with pytest.raises(jido.ValidationError):
        jido.run(actions.Add, {"value": "x"}, timeout=0)
    run = otel.run_span("add")
    assert otel.attempts(run) == []
    assert status(run) == StatusCode.ERROR
    assert run.attributes is not None
    assert run.attributes["error.type"] == "validation_error"


def test_timeout_span_event_and_status(otel: Otel) -> None:
    with pytest.raises(jido.TimeoutError):
        jido.run(actions.spin, None, {"probe": Probe()}, timeout=0.2, max_retries=0)
    run = otel.run_span("spin")
    (attempt,) = otel.attempts(run)
    assert status(attempt) == StatusCode.ERROR
    assert attempt.attributes is not None
    assert attempt.attributes["error.type"] == "timeout"
    assert run.attributes is not None
    assert run.attributes["error.type"] == "timeout"
    timeouts = [e for e in trace_events(otel, run) if "timeout" in e.name]
    assert len(timeouts) == 1
    attrs = jido_attrs(timeouts[0])
    assert attrs["jido.stopped"] is True
    assert attrs["jido.stop"] == "interrupted"
    assert attrs["jido.timeout"] == 0.2
    assert otel.total("jido.timeouts", jido__action__name="spin") == 1


def test_cancel_span_event_and_status(otel: Otel) -> None:
    probe = Probe()
    ref = jido.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe})
    assert probe.started.wait(5.0)
    ref.cancel()
    with pytest.raises(jido.CancelledError):
        jido.await_(ref, timeout=5.0)
    otel.wait_run("coop_sleep")
    run = otel.run_span("coop_sleep")
    assert status(run) == StatusCode.ERROR
    assert run.attributes is not None
    assert run.attributes["error.type"] == "cancelled"
    cancels = [e for e in trace_events(otel, run) if "cancel" in e.name]
    assert len(cancels) == 1
    attrs = jido_attrs(cancels[0])
    assert attrs["jido.reason"] == "caller"
    assert attrs["jido.stopped"] is True
    assert otel.total("jido.cancellations", jido__action__name="coop_sleep") == 1


def test_compensation_span_event(otel: Otel) -> None:
    with pytest.raises(jido.ExecutionError):
        jido.run(Compensated, timeout=0, max_retries=0)
    run = otel.run_span("otel_compensated")
    events = [e for e in trace_events(otel, run) if "compensation" in e.name]
    assert len(events) == 1
    assert jido_attrs(events[0])["jido.compensated"] is True


# -- metrics -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workload() -> Iterator[Otel]:
    """One success, one exhausted failure, one timeout, one cancellation: then uninstrument."""
    harness = make_otel()
    jido.telemetry.instrument(
        tracer_provider=harness.tracer_provider, meter_provider=harness.meter_provider
    )
    try:
        jido.run(actions.Add, {"value": 1}, timeout=0)
        jido.run(actions.Add, {"value": 2}, timeout=0)
        with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
            jido.run(actions.always_fail, None, {"probe": Probe()}, timeout=2.0, max_retries=2)
        with pytest.raises(jido.TimeoutError):
            jido.run(actions.spin, None, {"probe": Probe()}, timeout=0.1, max_retries=1, backoff=0)
        probe = Probe()
        ref = jido.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe})
        assert probe.started.wait(5.0)
        ref.cancel()
        with pytest.raises(jido.CancelledError):
            jido.await_(ref, timeout=5.0)
        harness.wait_run("coop_sleep")
        assert wait_until(lambda: harness.total("jido.runs", jido__action__name="coop_sleep") == 1)
    finally:
        jido.telemetry.uninstrument()
        reset_auto()
    yield harness
    harness.tracer_provider.shutdown()
    harness.meter_provider.shutdown()


def test_runs_counter(workload: Otel) -> None:
    t = workload.total
    assert t("jido.runs", jido__action__name="add", jido__outcome="ok") == 2
    assert t("jido.runs", jido__action__name="add", jido__outcome="error") == 0
    assert t("jido.runs", jido__action__name="always_fail", jido__outcome="error") == 1
    assert t("jido.runs", jido__action__name="always_fail", error__type="execution_error") == 1
    assert t("jido.runs", jido__action__name="spin", error__type="timeout") == 1
    assert t("jido.runs", jido__action__name="coop_sleep", error__type="cancelled") == 1
    assert t("jido.runs") == 5
    add = [p for p in workload.points("jido.runs") if p.attributes["jido.action.name"] == "add"]
    assert dict(add[0].attributes) == {
        "jido.action.name": "add",
        "jido.execution.mode": "inline",
        "jido.outcome": "ok",
    }


def test_attempts_counter(workload: Otel) -> None:
    t = workload.total
    assert t("jido.attempts", jido__action__name="add", jido__outcome="ok") == 2
    assert t("jido.attempts", jido__action__name="always_fail", jido__outcome="error") == 3
    assert t("jido.attempts", jido__action__name="spin", error__type="timeout") == 2
    assert t("jido.attempts", jido__action__name="coop_sleep") == 1


def test_duration_histograms(workload: Otel) -> None:
    t = workload.total
    assert t("jido.run.duration", jido__action__name="add") == 2  # counts
    assert t("jido.run.duration", jido__action__name="always_fail") == 1
    assert t("jido.attempt.duration", jido__action__name="always_fail") == 3
    assert t("jido.attempt.duration", jido__action__name="spin") == 2
    assert workload.unit("jido.run.duration") == "s"
    assert workload.unit("jido.attempt.duration") == "s"
    spin = [
        p
        for p in workload.points("jido.run.duration")
        if p.attributes["jido.action.name"] == "spin"
    ]
    assert len(spin) == 1
    assert spin[0].sum >= 0.19  # two 0.1 s attempts, in seconds
    assert spin[0].sum < 30
    assert all(p.min >= 0 for p in workload.points("jido.attempt.duration"))


def test_timeouts_cancellations_exhausted_counters(workload: Otel) -> None:
    t = workload.total
    assert t("jido.timeouts", jido__action__name="spin") == 2  # per timed-out attempt
    assert t("jido.timeouts") == 2
    assert t("jido.cancellations", jido__action__name="coop_sleep") == 1
    assert t("jido.cancellations") == 1
    assert t("jido.retries.exhausted", jido__action__name="always_fail") == 1
    assert t("jido.retries.exhausted", jido__action__name="spin") == 1
    assert t("jido.retries.exhausted", jido__action__name="add") == 0
    assert t("jido.retries.exhausted", jido__action__name="coop_sleep") == 0


# -- on/off --------------------------------------------------------------------------------------
def test_silent_run_makes_no_spans(otel: Otel) -> None:
    jido.run(actions.Add, {"value": 1}, timeout=0, telemetry="silent")
    jido.run(actions.Add, {"value": 1}, timeout=2.0, telemetry="silent")
    assert otel.spans() == []
    assert otel.total("jido.runs") == 0


def test_uninstrument_stops_spans(otel: Otel) -> None:
    jido.run(actions.Add, {"value": 1}, timeout=0)
    assert len(otel.spans()) == 2
    jido.telemetry.uninstrument()
    jido.run(actions.Add, {"value": 1}, timeout=0)
    assert len(otel.spans()) == 2


def test_no_spans_without_instrument_or_global_provider() -> None:
    """In this process no global provider is set: nothing is emitted, nothing is set."""
    harness = make_otel()  # a provider that exists but is neither global nor instrumented
    try:
        jido.run(actions.Add, {"value": 1}, timeout=0)
        assert harness.spans() == []
        assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    finally:
        harness.tracer_provider.shutdown()
        harness.meter_provider.shutdown()


# -- propagation ---------------------------------------------------------------------------------
def _run_inline(ctx: dict[str, Any]) -> dict[str, Any]:
    return jido.run(observe, None, ctx, timeout=0)


def _run_thread(ctx: dict[str, Any]) -> dict[str, Any]:
    return jido.run(observe, None, ctx, timeout=2.0)


def _run_async_thread(ctx: dict[str, Any]) -> dict[str, Any]:
    return jido.await_(jido.run_async(observe, None, ctx), timeout=5.0)


def _run_async_action_sync(ctx: dict[str, Any]) -> dict[str, Any]:
    return jido.run(aobserve, None, ctx, timeout=2.0)


def _run_async_from_sync(ctx: dict[str, Any]) -> dict[str, Any]:
    return jido.await_(jido.run_async(aobserve, None, ctx), timeout=5.0)


def _arun_async(ctx: dict[str, Any]) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        return await jido.arun(aobserve, None, ctx, timeout=2.0)

    return asyncio.run(main())


def _arun_sync(ctx: dict[str, Any]) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        return await jido.arun(observe, None, ctx, timeout=2.0)

    return asyncio.run(main())


def _run_async_in_loop(ctx: dict[str, Any]) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        return await jido.run_async(aobserve, None, ctx)

    return asyncio.run(main())


def _run_async_task_in_loop(ctx: dict[str, Any]) -> dict[str, Any]:
    """The run is started from an asyncio task the caller created inside the span."""

    async def main() -> dict[str, Any]:
        async def inner() -> dict[str, Any]:
            return await jido.arun(aobserve, None, ctx, timeout=2.0)

        return await asyncio.create_task(inner())

    return asyncio.run(main())


RUNNERS = [
    pytest.param(_run_inline, "observe", id="inline"),
    pytest.param(_run_thread, "observe", id="worker-thread"),
    pytest.param(_run_async_thread, "observe", id="run_async-sync-action"),
    pytest.param(_run_async_action_sync, "aobserve", id="run-async-action-loop-thread"),
    pytest.param(_run_async_from_sync, "aobserve", id="run_async-async-action-from-sync"),
    pytest.param(_arun_async, "aobserve", id="arun-task"),
    pytest.param(_arun_sync, "observe", id="arun-sync-action"),
    pytest.param(_run_async_in_loop, "aobserve", id="run_async-task-in-loop"),
    pytest.param(_run_async_task_in_loop, "aobserve", id="arun-in-create_task"),
]


@pytest.mark.parametrize(("runner", "action"), RUNNERS)
def test_action_spans_nest_under_the_attempt_and_run_under_the_caller(
    otel: Otel, runner: Any, action: str
) -> None:
    with otel.tracer.start_as_current_span("request") as request:
        seen = runner({"tracer": otel.tracer})
    otel.wait_run(action)
    run = otel.run_span(action)
    (attempt,) = otel.attempts(run)
    # the run nests under the caller's span
    assert run.parent is not None
    assert run.parent.span_id == request.get_span_context().span_id
    assert run.context.trace_id == request.get_span_context().trace_id
    # the action saw the attempt span as current
    assert seen["valid"]
    assert seen["trace_id"] == attempt.context.trace_id
    assert seen["span_id"] == attempt.context.span_id
    # and a span it created is a child of the attempt span
    (inner,) = otel.named("inner")
    assert inner.parent is not None
    assert inner.parent.span_id == attempt.context.span_id
    assert inner.context.trace_id == request.get_span_context().trace_id


def test_caller_context_is_restored_after_the_run(otel: Otel) -> None:
    with otel.tracer.start_as_current_span("request") as request:
        jido.run(observe, None, {}, timeout=0)
        assert trace.get_current_span() is request
        jido.run(observe, None, {}, timeout=2.0)
        assert trace.get_current_span() is request
    assert not trace.get_current_span().get_span_context().is_valid


# -- the global provider, in a subprocess ---------------------------------------------------------
def _python(script: str, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(script))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(TESTS)])}
    env.pop("OTEL_PYTHON_TRACER_PROVIDER", None)
    proc = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=str(tmp_path),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


GLOBAL_SCRIPT = """
    import json
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import jido


    @jido.action
    def hello() -> dict:
        ctx = trace.get_current_span().get_span_context()
        return {"span_id": ctx.span_id}


    if __name__ == "__main__":
        out = {}
        jido.run(hello, timeout=0)  # no provider yet: jido must not install one
        out["provider_before"] = type(trace.get_tracer_provider()).__name__

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

        seen = [jido.run(hello, timeout=0), jido.run(hello, timeout=2.0)]
        spans = exporter.get_finished_spans()
        out["spans"] = [
            {
                "name": s.name,
                "span_id": s.context.span_id,
                "parent": s.parent.span_id if s.parent else None,
            }
            for s in spans
        ]
        out["seen"] = [r["span_id"] for r in seen]
        runs = 0
        data = reader.get_metrics_data()
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    if m.name == "jido.runs":
                        runs += sum(p.value for p in m.data.data_points)
        out["runs_metric"] = runs
        print(json.dumps(out))
"""


def test_global_provider_is_picked_up_automatically(tmp_path: Path) -> None:
    out = _python(GLOBAL_SCRIPT, tmp_path)
    assert out["provider_before"] == "ProxyTracerProvider"
    spans = out["spans"]
    runs = [s for s in spans if s["name"] == "jido.run hello"]
    attempts = [s for s in spans if s["name"] == "jido.attempt hello"]
    assert len(runs) == 2  # the run before the provider was set made nothing
    assert len(attempts) == 2
    run_ids = {s["span_id"] for s in runs}
    assert all(a["parent"] in run_ids for a in attempts)
    assert sorted(out["seen"]) == sorted(a["span_id"] for a in attempts)
    assert out["runs_metric"] == 2


NEVER_SETS_SCRIPT = """
    import json
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import jido
    import jido.telemetry


    @jido.action
    def hello() -> dict:
        return {}


    if __name__ == "__main__":
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        meters = MeterProvider(metric_readers=[InMemoryMetricReader()])
        jido.telemetry.instrument(tracer_provider=provider, meter_provider=meters)
        jido.run(hello, timeout=0)
        jido.run(hello, timeout=2.0)
        out = {
            "local_spans": len(exporter.get_finished_spans()),
            "tracer_provider": type(trace.get_tracer_provider()).__name__,
            "meter_provider": type(metrics.get_meter_provider()).__name__,
        }
        jido.telemetry.uninstrument()
        jido.run(hello, timeout=0)
        out["after_uninstrument"] = len(exporter.get_finished_spans())
        print(json.dumps(out))
"""


def test_instrument_never_sets_the_global_provider(tmp_path: Path) -> None:
    out = _python(NEVER_SETS_SCRIPT, tmp_path)
    assert out["local_spans"] == 4
    assert out["tracer_provider"] == "ProxyTracerProvider"
    assert "Proxy" in out["meter_provider"]
    assert out["after_uninstrument"] == 4
