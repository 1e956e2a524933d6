"""OpenTelemetry spans and metrics for runs.

Imported only when OpenTelemetry is in use. jido never sets a global provider: it uses
the providers given to ``jido.telemetry.instrument(...)`` or, by default, the global ones
once the application has configured them (until then it does nothing at all).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from jido._core.errors import JidoError
from jido._core.safe import exception_text, type_name
from jido._observe.handlers import REGISTRY
from jido._observe.redact import redact_text

__all__ = ["OtelSink", "Scope", "auto", "instrument", "scope_from_carrier", "uninstrument"]

_VERSION = "0.1.0"
_MAX_STACK = 8192
"""Characters of a stack trace kept in an ``exception`` span event."""


def _configured() -> bool:
    mod = sys.modules.get("opentelemetry.trace")
    if mod is None:
        return False
    provider = getattr(mod, "_TRACER_PROVIDER", None)
    if provider is not None:
        return not isinstance(provider, trace.NoOpTracerProvider)
    return "OTEL_PYTHON_TRACER_PROVIDER" in os.environ


def auto() -> OtelSink | None:
    """The sink over the global providers once the application has set one, else None."""
    if not _configured():
        return None
    with REGISTRY.lock:
        if REGISTRY.otel is None and REGISTRY.otel_auto:
            REGISTRY.otel = OtelSink(trace.get_tracer_provider(), metrics.get_meter_provider())
        sink: OtelSink | None = REGISTRY.otel
    return sink


def instrument(tracer_provider: Any = None, meter_provider: Any = None) -> None:
    """Emit spans and metrics with these providers (default: the global ones)."""
    sink = OtelSink(
        tracer_provider or trace.get_tracer_provider(),
        meter_provider or metrics.get_meter_provider(),
    )
    with REGISTRY.lock:
        REGISTRY.otel = sink
        REGISTRY.otel_auto = False


def uninstrument() -> None:
    """Stop emitting spans and metrics (also turns off automatic detection)."""
    with REGISTRY.lock:
        REGISTRY.otel = None
        REGISTRY.otel_auto = False


def reset_auto() -> None:
    """Back to the default: follow the global providers once they are configured."""
    with REGISTRY.lock:
        REGISTRY.otel = None
        REGISTRY.otel_auto = True


class OtelSink:
    """A tracer and the metric instruments, created once per provider pair."""

    def __init__(self, tracer_provider: Any, meter_provider: Any) -> None:
        self.tracer = tracer_provider.get_tracer("jido", _VERSION)
        meter = meter_provider.get_meter("jido", _VERSION)
        self.runs = meter.create_counter("jido.runs", unit="{run}", description="Finished runs")
        self.attempts = meter.create_counter(
            "jido.attempts", unit="{attempt}", description="Finished attempts"
        )
        self.duration = meter.create_histogram(
            "jido.run.duration", unit="s", description="Run duration, attempts and delays included"
        )
        self.attempt_duration = meter.create_histogram(
            "jido.attempt.duration", unit="s", description="Attempt duration"
        )
        self.timeouts = meter.create_counter(
            "jido.timeouts", unit="{attempt}", description="Attempts that timed out"
        )
        self.cancellations = meter.create_counter(
            "jido.cancellations", unit="{run}", description="Runs cancelled"
        )
        self.exhausted = meter.create_counter(
            "jido.retries.exhausted", unit="{run}", description="Runs that failed after retrying"
        )

    def begin(self, action: str, run_id: str, mode: str) -> OtelRun:
        return OtelRun(self, action, run_id, mode)


class OtelRun:
    """The spans of one run: the run span and one child span per attempt."""

    __slots__ = ("_attempt", "_attrs", "_ctx", "_sink", "_span", "action")

    def __init__(self, sink: OtelSink, action: str, run_id: str, mode: str) -> None:
        self._sink = sink
        self.action = action
        self._attrs = {"jido.action.name": action, "jido.execution.mode": mode}
        self._span: Span = sink.tracer.start_span(
            f"jido.run {action}",
            kind=SpanKind.INTERNAL,
            attributes={**self._attrs, "jido.run.id": run_id},
        )
        self._ctx = trace.set_span_in_context(self._span)
        self._attempt: Span | None = None

    def attempt_start(self, attempt: int) -> None:
        self._attempt = self._sink.tracer.start_span(
            f"jido.attempt {self.action}",
            context=self._ctx,
            kind=SpanKind.INTERNAL,
            attributes={**self._attrs, "jido.attempt": attempt},
        )

    def scope(self) -> Scope | None:
        span = self._attempt or self._span
        return Scope(trace.set_span_in_context(span))

    def attempt_stop(self, attempt: int, error: JidoError | None, duration: float) -> None:
        attrs: dict[str, Any] = {**self._attrs, "jido.outcome": "ok" if error is None else "error"}
        if error is not None:
            attrs["error.type"] = error.type
        span = self._attempt
        if span is not None:
            _finish(span, error)
            self._attempt = None
        self._sink.attempts.add(1, attrs)
        self._sink.attempt_duration.record(duration, attrs)
        if error is not None and error.type == "timeout":
            self._sink.timeouts.add(1, self._attrs)

    def event(self, name: str, attributes: Mapping[str, Any]) -> None:
        span = self._attempt or self._span
        attrs = {f"jido.{k}": v for k, v in attributes.items() if v is not None}
        span.add_event(name, attrs)

    def run_stop(
        self, error: JidoError | None, attempts: int, duration: float, exhausted: bool
    ) -> None:
        attrs: dict[str, Any] = {**self._attrs, "jido.outcome": "ok" if error is None else "error"}
        self._span.set_attribute("jido.attempts", attempts)
        if error is not None:
            attrs["error.type"] = error.type
            if error.type == "cancelled":
                self._sink.cancellations.add(1, self._attrs)
            if exhausted:
                self._sink.exhausted.add(1, self._attrs)
        _finish(self._span, error)
        self._sink.runs.add(1, attrs)
        self._sink.duration.record(duration, attrs)

    def carrier(self) -> dict[str, str]:
        carrier: dict[str, str] = {}
        span = self._attempt or self._span
        propagate.inject(carrier, context=trace.set_span_in_context(span))
        return carrier


def _finish(span: Span, error: JidoError | None) -> None:
    span.set_attribute("jido.outcome", "ok" if error is None else "error")
    if error is None:
        span.set_status(Status(StatusCode.OK))
    else:
        span.set_attribute("error.type", error.type)
        span.set_attribute("jido.error.retryable", error.retryable)
        span.set_status(Status(StatusCode.ERROR, redact_text(error.message)))
        cause = error.__cause__
        if cause is not None:
            span.add_event("exception", exception_attributes(cause))
    span.end()


def exception_attributes(exc: BaseException) -> dict[str, str]:
    """The semantic-convention ``exception`` event of ``exc``, its text redacted.

    What ``Span.record_exception`` records, except that the message and the stack trace
    (which ends with the message) go through the same redaction as every other text.
    """
    kind = type(exc)
    module = getattr(kind, "__module__", "")
    name = type_name(exc)
    try:
        stack = "".join(traceback.format_exception(exc))
    except Exception:  # a traceback that cannot be formatted: the type says enough
        stack = name
    return {
        "exception.type": f"{module}.{name}" if module and module != "builtins" else name,
        "exception.message": redact_text(exception_text(exc)),
        "exception.stacktrace": redact_text(stack, limit=_MAX_STACK),
        "exception.escaped": "False",
    }


class Scope:
    """Makes a span current while the action runs (so its own spans nest under it)."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx

    def enter(self) -> object:
        return otel_context.attach(self._ctx)

    def exit(self, token: object) -> None:
        otel_context.detach(token)  # type: ignore[arg-type]

    def carrier(self) -> dict[str, str]:
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=self._ctx)
        return carrier


def scope_from_carrier(carrier: Mapping[str, str]) -> Scope:
    return Scope(propagate.extract(carrier))
