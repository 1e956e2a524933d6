"""Subscribers to run events: the handler registry, ``attach``/``detach``, and the one
place a handler is called (whatever it raises is contained)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jido._core.errors import ConfigError
from jido._core.safe import describe, type_name

__all__ = [
    "ENV_PROVIDER",
    "EVENTS",
    "REGISTRY",
    "Event",
    "Handler",
    "HandlerRef",
    "attach",
    "call_handler",
    "detach",
]

log = logging.getLogger("jido")

EVENTS = (
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
)
"""The names of all the events jido emits; ``attach(..., events=...)`` filters on them."""


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened to a run.

    Attributes:
        name: one of ``run.start``, ``run.stop``, ``attempt.start``, ``attempt.stop``,
            ``attempt.exception``, ``retry.scheduled``, ``timeout``, ``cancel``,
            ``compensation.start``, ``compensation.stop``, ``progress``,
            ``journal.checkpoint`` (a durable run's journal write: metadata ``op`` and
            ``step``).
        action: the action's name.
        run_id: the run's id (shared by all its attempts).
        measurements: numbers: ``monotonic_time`` (s, on every event), ``duration``
            (s, on stops), ``delay`` (s, on ``retry.scheduled``), ``progress`` and
            ``total`` (on ``progress``).
        metadata: low-cardinality facts: ``attempt``, ``outcome``, ``error_type``,
            ``retryable``, ``mode``, ``reason``, ``stopped``, ``stop``, ``timeout``,
            ``recovered`` (on ``run.start`` of a durable run resumed by another process)...
            With ``include_values=True`` also ``params``/``context`` (start) and
            ``result`` (stop), redacted.

    Example:
        >>> import jido, jido.telemetry
        >>> @jido.action
        ... def hello() -> dict:
        ...     return {"hi": True}
        >>> events = []
        >>> with jido.telemetry.attached(events.append, events=["run.stop"]):
        ...     _ = jido.run(hello, timeout=0)
        >>> event = events[0]
        >>> event.name, event.action, event.metadata["outcome"], event.metadata["mode"]
        ('run.stop', 'hello', 'ok', 'inline')
        >>> event.measurements["duration"] >= 0
        True
    """

    name: str
    action: str
    run_id: str
    measurements: Mapping[str, float] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)


Handler = Callable[[Event], object]


@dataclass(slots=True, eq=False)
class HandlerRef:
    """An attached handler, as :func:`attach` returns it; pass it to :func:`detach`.

    Attributes:
        handler: the function that receives the events.
        events: the name prefixes it receives (None: all).
        include_values: whether its events carry params, context and results.
    """

    handler: Handler
    events: tuple[str, ...] | None
    include_values: bool
    active: bool = True

    def wants(self, name: str) -> bool:
        return self.active and (self.events is None or any(name.startswith(p) for p in self.events))


class _Registry:
    """Copy-on-write tuple of handlers: emitting never takes a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.handlers: tuple[HandlerRef, ...] = ()
        self.otel: Any = None  # set by jido._observe.otel when instrumentation is on
        self.otel_auto = True


REGISTRY = _Registry()

ENV_PROVIDER = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ
"""OpenTelemetry reads its provider from the environment at start-up; so do we (once)."""


def attach(
    handler: Handler,
    *,
    events: tuple[str, ...] | list[str] | None = None,
    include_values: bool = False,
) -> HandlerRef:
    """Subscribe ``handler(event)`` to events (all, or those whose name starts with a prefix).

    The handler is called synchronously, in the thread where the event happens; keep it
    fast. A handler that raises is detached and a warning is logged; the run is
    unaffected.

    Args:
        handler: called with each :class:`Event`.
        events: name prefixes to receive (``["run.", "retry."]``); None: all events. A
            prefix that matches no event in :data:`EVENTS` raises ``jido.ConfigError``,
            as does a handler that is not callable.
        include_values: also deliver params, context and results, redacted (keys such
            as ``password``, ``token``, ``api_key`` masked, long strings truncated).

    Returns:
        The handle to pass to :func:`detach`.

    Example:
        >>> import jido, jido.telemetry
        >>> @jido.action
        ... def hello() -> dict:
        ...     return {"hi": True}
        >>> seen = []
        >>> ref = jido.telemetry.attach(lambda e: seen.append(e.name), events=["attempt."])
        >>> _ = jido.run(hello, timeout=0)
        >>> jido.telemetry.detach(ref)
        True
        >>> seen
        ['attempt.start', 'attempt.stop']
    """
    if not callable(handler):
        raise ConfigError(f"handler must be callable, got {describe(handler)}")
    prefixes = None if events is None else _prefixes(events)
    if prefixes is not None:
        for prefix in prefixes:
            if not any(name.startswith(prefix) for name in EVENTS):
                raise ConfigError(
                    f"unknown event {describe(prefix)}; known events: {', '.join(EVENTS)}"
                )
    ref = HandlerRef(handler, prefixes, bool(include_values))
    with REGISTRY.lock:
        REGISTRY.handlers = (*REGISTRY.handlers, ref)
    return ref


def _prefixes(events: object) -> tuple[str, ...]:
    if isinstance(events, str):
        return (events,)
    if not isinstance(events, Iterable):
        raise ConfigError(f"events must be a list of event names, got {type_name(events)}")
    try:
        prefixes = tuple(events)
    except Exception as exc:
        raise ConfigError(f"events could not be read: {type_name(exc)}") from exc
    for prefix in prefixes:
        if not isinstance(prefix, str):
            raise ConfigError(f"an event name must be a string, got {describe(prefix)}")
    return prefixes


def detach(ref: HandlerRef | Handler) -> bool:
    """Unsubscribe a handler (by the ref ``attach`` returned, or the handler itself).

    Runs already under way stop calling it too.

    Returns:
        True when something was detached.

    Example:
        >>> import jido.telemetry
        >>> ref = jido.telemetry.attach(print)
        >>> jido.telemetry.detach(ref), jido.telemetry.detach(ref)
        (True, False)
    """
    with REGISTRY.lock:
        gone = [h for h in REGISTRY.handlers if h is ref or h.handler is ref]
        REGISTRY.handlers = tuple(h for h in REGISTRY.handlers if h not in gone)
    for h in gone:
        h.active = False  # runs already under way stop calling it too
    return bool(gone)


def call_handler(ref: HandlerRef, event: Event) -> None:
    """Call one handler; whatever it raises (any ``BaseException``) is contained.

    A handler runs on whatever thread completes the run, often one of the runtime's own:
    its exception never reaches the run or the thread. It is detached and logged. Only a
    ``KeyboardInterrupt`` in the main thread (Ctrl-C) is let through.
    """
    try:
        ref.handler(event)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt) and threading.current_thread() is _MAIN:
            raise
        detach(ref)
        log.warning(
            "jido telemetry handler %s raised on %s and was detached",
            _name_of(ref.handler),
            event.name,
            exc_info=exc,
        )


_MAIN = threading.main_thread()


def _name_of(handler: object) -> str:
    try:
        name = getattr(handler, "__qualname__", None)
    except BaseException:  # a hostile __getattr__
        name = None
    return name if isinstance(name, str) else type(handler).__qualname__
