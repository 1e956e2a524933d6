"""Lifecycle events of runs, fanned out to subscribers, OpenTelemetry and ``logging``.

A run gets a :class:`Tracker` only when something listens (a handler, a configured
OpenTelemetry provider, or the ``jido`` logger at the run's ``log_level``); otherwise
the drivers see ``None`` and emit nothing, which costs one check per run.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from jido._core.errors import CancelledError, JidoError, TimeoutError
from jido._observe.handlers import (
    ENV_PROVIDER,
    EVENTS,
    REGISTRY,
    Event,
    HandlerRef,
    attach,
    call_handler,
    detach,
)
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
    if getattr(trace, "_TRACER_PROVIDER", None) is None and not ENV_PROVIDER:
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
        self,
        attempt: int,
        result: Mapping[str, Any] | None,
        error: JidoError | None,
        queued: float = 0.0,
    ) -> None:
        duration = time.monotonic() - self._attempt_t0
        meta: dict[str, Any] = {"attempt": attempt}
        _outcome(meta, error)
        measurements = {"duration": duration}
        if queued:
            measurements["queued"] = queued
        if error is None:
            self._emit("attempt.stop", measurements, meta, lambda: {"result": result})
        else:
            self._emit("attempt.exception", measurements, meta)
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
            call_handler(ref, event)


def _redacted(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values for handlers that asked for them; redaction never breaks a run."""
    try:
        return {k: redact(v) for k, v in values.items() if v is not None}
    except BaseException as exc:  # a value whose __repr__ raises anything at all
        return {"values_error": f"values could not be redacted: {type(exc).__name__}"}


def _outcome(meta: dict[str, Any], error: JidoError | None) -> None:
    if error is None:
        meta["outcome"] = "ok"
    else:
        meta["outcome"] = "error"
        meta["error_type"] = error.type
        meta["retryable"] = error.retryable
