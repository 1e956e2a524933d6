"""Observe runs: in-process events, OpenTelemetry spans and metrics, standard logging.

Events (``run.start``, ``run.stop``, ``attempt.start``, ``attempt.stop``,
``attempt.exception``, ``retry.scheduled``, ``timeout``, ``cancel``,
``compensation.start``, ``compensation.stop``, and ``progress`` from
``jido.current().progress(...)``) are delivered to handlers attached with :func:`attach`.
Each :class:`Event` carries measurements (monotonic seconds) and low-cardinality metadata;
params, context and results only with ``include_values=True``, and then redacted. A
handler that raises is detached and reported, never breaking a run. ``telemetry="silent"``
on a call turns everything off for that run.

OpenTelemetry (``pip install "jido[otel]"``): once the application sets a global tracer
provider, each run becomes a span with a child span per attempt, plus metrics. jido never
sets a provider itself; :func:`instrument` picks explicit providers, :func:`uninstrument`
turns it off.

Logging goes to the ``jido`` logger, gated per call by ``log_level``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from jido._observe.telemetry import EVENTS, Event, HandlerRef, attach, detach

__all__ = [
    "EVENTS",
    "Event",
    "HandlerRef",
    "attach",
    "attached",
    "detach",
    "instrument",
    "uninstrument",
]


@contextlib.contextmanager
def attached(
    handler: Callable[[Event], object],
    *,
    events: tuple[str, ...] | list[str] | None = None,
    include_values: bool = False,
) -> Iterator[HandlerRef]:
    """Attach ``handler`` for the duration of a ``with`` block.

    Example:
        >>> import jido, jido.telemetry
        >>> @jido.action
        ... def hello() -> dict:
        ...     return {"hi": True}
        >>> seen = []
        >>> with jido.telemetry.attached(lambda e: seen.append(e.name), events=["run."]):
        ...     _ = jido.run(hello, timeout=0)
        >>> seen
        ['run.start', 'run.stop']
    """
    ref = attach(handler, events=events, include_values=include_values)
    try:
        yield ref
    finally:
        detach(ref)


def instrument(tracer_provider: Any = None, meter_provider: Any = None) -> None:
    """Emit OpenTelemetry spans and metrics with these providers (default: the global ones).

    Without this call jido follows the global providers automatically once the
    application has configured them. Needs ``pip install "jido[otel]"``.

    Args:
        tracer_provider: an OpenTelemetry ``TracerProvider`` (None: the global one).
        meter_provider: an OpenTelemetry ``MeterProvider`` (None: the global one).

    Example:
        >>> import jido, jido.telemetry
        >>> from opentelemetry.sdk.trace import TracerProvider
        >>> from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        >>> from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        ...     InMemorySpanExporter,
        ... )
        >>> exporter = InMemorySpanExporter()
        >>> provider = TracerProvider()
        >>> provider.add_span_processor(SimpleSpanProcessor(exporter))
        >>> @jido.action
        ... def hello() -> dict:
        ...     return {"hi": True}
        >>> jido.telemetry.instrument(tracer_provider=provider)
        >>> _ = jido.run(hello)
        >>> jido.telemetry.uninstrument()
        >>> [span.name for span in exporter.get_finished_spans()]
        ['jido.attempt hello', 'jido.run hello']
    """
    try:
        from jido._observe import otel
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('OpenTelemetry support needs: pip install "jido[otel]"') from exc
    otel.instrument(tracer_provider, meter_provider)


def uninstrument() -> None:
    """Stop emitting OpenTelemetry spans and metrics (until :func:`instrument`).

    This also stops following the global providers automatically.

    Example:
        >>> import jido.telemetry
        >>> jido.telemetry.uninstrument()
    """
    from jido._observe.handlers import REGISTRY

    with REGISTRY.lock:
        REGISTRY.otel = None
        REGISTRY.otel_auto = False
