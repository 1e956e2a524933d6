"""Lifecycle events of runs, fanned out to subscribers, OpenTelemetry and ``logging``.

A run gets a :class:`Tracker` only when something listens (a handler, a configured
OpenTelemetry provider, or the ``jido`` logger at the run's ``log_level``); otherwise
the drivers see ``None`` and emit nothing, which costs one check per run.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jido._core.errors import CancelledError, ConfigError, JidoError, TimeoutError
from jido._core.safe import describe, type_name
from jido._observe.redact import redact, redact_text

if TYPE_CHECKING:
    from jido._action.action import ActionSpec
    from jido._core.options import RunOptions

__all__ = [
    "EVENTS",
    "Event",
    "HandlerRef",
    "Tracker",
    "attach",
    "detach",
    "tracker_for",
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

_ENV_PROVIDER = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ
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


def tracker_for(spec: ActionSpec, run_id: str, opts: RunOptions, mode: str) -> Tracker | None:
    """A tracker for a run, or None when nothing listens (the common, free case)."""
    if opts.silent:
        return None
    handlers = REGISTRY.handlers
    otel = REGISTRY.otel
    if otel is None and REGISTRY.otel_auto and "opentelemetry.trace" in sys.modules:
        otel = _auto_otel()
    logs = log.isEnabledFor(opts.log_level)
    if not handlers and otel is None and not logs:
        return None
    return Tracker(spec.name, run_id, mode, handlers, otel, opts.log_level if logs else None)


def _auto_otel() -> Any:
    """The OpenTelemetry sink once the application has set a global tracer provider."""
    trace = sys.modules["opentelemetry.trace"]
    if getattr(trace, "_TRACER_PROVIDER", None) is None and not _ENV_PROVIDER:
        return None
    from jido._observe import otel

    return otel.auto()


class Tracker:
    """Emits one run's events to handlers, OpenTelemetry and the ``jido`` logger."""

    __slots__ = (
        "_attempt_t0",
        "_handlers",
        "_log_level",
        "_otel",
        "_t0",
        "action",
        "mode",
        "recovered",
        "run_id",
    )

    def __init__(
        self,
        action: str,
        run_id: str,
        mode: str,
        handlers: tuple[HandlerRef, ...],
        otel: Any,
        log_level: int | None,
    ) -> None:
        self.action = action
        self.run_id = run_id
        self.mode = mode
        self._handlers = handlers
        self._otel = otel.begin(action, run_id, mode) if otel is not None else None
        self._log_level = log_level
        self._t0 = time.monotonic()
        self._attempt_t0 = self._t0
        self.recovered = False
        """True for a durable run resumed after its process died (``run.start`` says so)."""

    # -- run ---------------------------------------------------------------------------------------
    def run_start(self, params: Mapping[str, Any], context: Mapping[Any, Any]) -> None:
        self._log(
            logging.DEBUG, "Starting %s (run %s, mode %s)", self.action, self.run_id, self.mode
        )
        meta: dict[str, Any] = {"mode": self.mode}
        if self.recovered:
            meta["recovered"] = True
        self._emit("run.start", {}, meta, lambda: {"params": params, "context": context})
        if self.recovered and self._otel is not None:
            self._otel.event("jido.recovered", {})

    def run_stop(
        self,
        result: Mapping[str, Any] | None,
        error: JidoError | None,
        attempts: int,
        exhausted: bool = False,
    ) -> None:
        meta: dict[str, Any] = {"mode": self.mode, "attempts": attempts}
        if exhausted:
            meta["retries_exhausted"] = True
        _outcome(meta, error)
        duration = time.monotonic() - self._t0
        if error is None:
            self._log(logging.DEBUG, "Finished %s in %.3fs", self.action, duration)
        else:
            self._log(
                logging.INFO,
                "Action %s failed after %d attempt(s): [%s] %s",
                self.action,
                attempts,
                error.type,
                redact_text(error.message),
            )
        self._emit("run.stop", {"duration": duration}, meta, lambda: {"result": result})
        if self._otel is not None:
            self._otel.run_stop(error, attempts, duration, exhausted)

    # -- attempts ----------------------------------------------------------------------------------
    def attempt_start(self, attempt: int) -> None:
        self._attempt_t0 = time.monotonic()
        if self._otel is not None:
            self._otel.attempt_start(attempt)
        self._emit("attempt.start", {}, {"attempt": attempt})

    def attempt_stop(
        self, attempt: int, result: Mapping[str, Any] | None, error: JidoError | None
    ) -> None:
        duration = time.monotonic() - self._attempt_t0
        meta: dict[str, Any] = {"attempt": attempt}
        _outcome(meta, error)
        if error is None:
            self._emit("attempt.stop", {"duration": duration}, meta, lambda: {"result": result})
        else:
            self._emit("attempt.exception", {"duration": duration}, meta)
            if isinstance(error, TimeoutError | CancelledError) and "stopped" in error.details:
                self._stopped(attempt, error)
        if self._otel is not None:
            self._otel.attempt_stop(attempt, error, duration)

    def _stopped(self, attempt: int, error: JidoError) -> None:
        d = error.details
        meta: dict[str, Any] = {
            "attempt": attempt,
            "stopped": d.get("stopped"),
            "stop": d.get("stop"),
        }
        if isinstance(error, TimeoutError):
            meta["timeout"] = d.get("timeout")
            self._log(
                logging.INFO,
                "Action %s attempt %d timed out (stopped=%s, %s)",
                self.action,
                attempt,
                meta["stopped"],
                meta["stop"],
            )
            self._emit("timeout", {}, meta)
        else:
            meta["reason"] = d.get("reason")
            self._log(
                logging.INFO,
                "Action %s cancelled (%s; stopped=%s, %s)",
                self.action,
                meta["reason"],
                meta["stopped"],
                meta["stop"],
            )
            self._emit("cancel", {}, meta)
        if self._otel is not None:
            self._otel.event(
                "jido.timeout" if isinstance(error, TimeoutError) else "jido.cancel", meta
            )

    def retry(self, attempt: int, delay: float, error: JidoError) -> None:
        meta = {"attempt": attempt, "error_type": error.type}
        self._log(
            logging.INFO,
            "Retrying %s (attempt %d failed: [%s]) after %.3fs backoff",
            self.action,
            attempt,
            error.type,
            delay,
        )
        self._emit("retry.scheduled", {"delay": delay}, meta)
        if self._otel is not None:
            self._otel.event("jido.retry.scheduled", {**meta, "delay": delay})

    def progress(self, attempt: int, done: float, total: float | None, message: str | None) -> None:
        """What the action reported through ``jido.current().progress(...)``."""
        if not self._handlers:
            return
        measurements = {"progress": done} if total is None else {"progress": done, "total": total}
        meta: dict[str, Any] = {"attempt": attempt}
        if message is not None:
            meta["message"] = redact_text(message)
        self._emit("progress", measurements, meta)

    # -- durable runs ------------------------------------------------------------------------------
    def checkpoint(self, op: str, step: str) -> None:
        """A journal write of a durable run (``op``: ``attempt_started``, ``step_succeeded``...)."""
        meta = {"op": op, "step": step}
        self._emit("journal.checkpoint", {}, meta)
        if self._otel is not None:
            self._otel.event("jido.checkpoint", meta)

    # -- compensation ------------------------------------------------------------------------------
    def compensation_start(self, error: JidoError) -> None:
        self._emit("compensation.start", {}, {"error_type": error.type})

    def compensation_stop(self, outcome: JidoError) -> None:
        compensated = bool(outcome.details.get("compensation", {}).get("compensated")) or (
            outcome.details.get("compensated") is True
        )
        if not compensated:
            self._log(
                logging.WARNING,
                "Compensation of %s failed: %s",
                self.action,
                redact_text(str(outcome.details.get("compensation_error"))),
            )
        self._emit("compensation.stop", {}, {"compensated": compensated})
        if self._otel is not None:
            self._otel.event("jido.compensation", {"compensated": compensated})

    # -- plumbing ----------------------------------------------------------------------------------
    def scope(self) -> Any:
        """The trace scope the current attempt's work runs in (None without OpenTelemetry)."""
        return self._otel.scope() if self._otel is not None else None

    def _log(self, level: int, msg: str, *args: Any) -> None:
        threshold = self._log_level
        if threshold is not None and level >= threshold and log.isEnabledFor(level):
            log.log(level, msg, *args)

    def _emit(
        self,
        name: str,
        measurements: dict[str, float],
        metadata: dict[str, Any],
        values: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        if not self._handlers:
            return
        measurements["monotonic_time"] = time.monotonic()
        plain = Event(name, self.action, self.run_id, measurements, metadata)
        rich: Event | None = None
        for ref in self._handlers:
            if not ref.wants(name):
                continue
            event = plain
            if ref.include_values and values is not None:
                if rich is None:
                    extra = _redacted(values())
                    rich = Event(
                        name, self.action, self.run_id, measurements, {**metadata, **extra}
                    )
                event = rich
            _call(ref, event)


def _redacted(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values for handlers that asked for them; redaction never breaks a run."""
    try:
        return {k: redact(v) for k, v in values.items() if v is not None}
    except Exception as exc:
        return {"values_error": f"values could not be redacted: {type(exc).__name__}"}


def _outcome(meta: dict[str, Any], error: JidoError | None) -> None:
    if error is None:
        meta["outcome"] = "ok"
    else:
        meta["outcome"] = "error"
        meta["error_type"] = error.type
        meta["retryable"] = error.retryable


def _call(ref: HandlerRef, event: Event) -> None:
    try:
        ref.handler(event)
    except Exception:
        detach(ref)
        log.warning(
            "jido telemetry handler %r raised on %s and was detached",
            ref.handler,
            event.name,
            exc_info=True,
        )
