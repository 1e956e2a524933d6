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

from jido._private.telemetry import EVENTS, Event, HandlerRef, attach, detach

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
    application has configured them.
    """
    try:
        from jido._private import otel
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('OpenTelemetry support needs: pip install "jido[otel]"') from exc
    otel.instrument(tracer_provider, meter_provider)


def uninstrument() -> None:
    """Stop emitting OpenTelemetry spans and metrics (until :func:`instrument`)."""
    from jido._private.telemetry import REGISTRY

    with REGISTRY.lock:
        REGISTRY.otel = None
        REGISTRY.otel_auto = False
