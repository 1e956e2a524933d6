"""A telemetry subscriber that keeps the live state of runs and a summary of finished ones.

Pure state, no I/O: the CLI renders it; tests assert on it.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from jido._observe.telemetry import Event

__all__ = ["Monitor", "RunState", "Summary"]


@dataclass(slots=True)
class RunState:
    """What one run is doing now, or how it ended."""

    run_id: str
    action: str
    status: str = "running"  # running | retrying | done | failed | timed out | cancelled
    attempt: int = 0
    started: float = field(default_factory=time.monotonic)
    retry_at: float | None = None
    duration: float | None = None
    error_type: str | None = None
    stop: str | None = None

    def describe(self, now: float | None = None) -> str:
        """``"retrying in 0.4s"``, ``"timed out (interrupted)"``, ``"done"``..."""
        if self.status == "retrying" and self.retry_at is not None:
            wait = max(0.0, self.retry_at - (now if now is not None else time.monotonic()))
            return f"retrying in {wait:.1f}s"
        if self.status in ("timed out", "cancelled") and self.stop:
            return f"{self.status} ({self.stop})"
        if self.status == "failed" and self.error_type:
            return f"failed ({self.error_type})"
        return self.status

    def elapsed(self, now: float | None = None) -> float:
        if self.duration is not None:
            return self.duration
        return (now if now is not None else time.monotonic()) - self.started


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts and duration percentiles over the finished runs."""

    total: int
    running: int
    done: int
    failed: int
    timed_out: int
    cancelled: int
    retries: int
    attempt_timeouts: int
    p50: float | None
    p95: float | None


class Monitor:
    """Attach with ``jido.telemetry.attach(monitor)``; read ``states()`` and ``summary()``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, RunState] = {}
        self._retries = 0
        self._timeouts = 0

    def __call__(self, event: Event) -> None:
        with self._lock:
            state = self._runs.get(event.run_id)
            if state is None:
                state = self._runs[event.run_id] = RunState(event.run_id, event.action)
            self._apply(state, event)

    def _apply(self, state: RunState, event: Event) -> None:
        meta = event.metadata
        name = event.name
        if name == "attempt.start":
            state.status, state.attempt, state.retry_at = "running", int(meta["attempt"]), None
        elif name == "retry.scheduled":
            self._retries += 1
            state.status = "retrying"
            state.retry_at = time.monotonic() + float(event.measurements.get("delay", 0.0))
        elif name == "timeout":
            self._timeouts += 1
            state.stop = meta.get("stop")
        elif name == "cancel":
            state.stop = meta.get("stop")
        elif name == "run.stop":
            state.duration = float(event.measurements.get("duration", 0.0))
            state.error_type = meta.get("error_type")
            state.status = _final_status(state.error_type, meta.get("outcome"))

    def states(self) -> list[RunState]:
        """Every run seen, in the order they started."""
        with self._lock:
            return list(self._runs.values())

    def summary(self) -> Summary:
        with self._lock:
            runs = list(self._runs.values())
            retries, timeouts = self._retries, self._timeouts
        finished = sorted(r.duration for r in runs if r.duration is not None)
        count = {
            s: sum(1 for r in runs if r.status == s)
            for s in ("done", "failed", "timed out", "cancelled")
        }
        return Summary(
            total=len(runs),
            running=len(runs) - len(finished),
            done=count["done"],
            failed=count["failed"],
            timed_out=count["timed out"],
            cancelled=count["cancelled"],
            retries=retries,
            attempt_timeouts=timeouts,
            p50=_percentile(finished, 0.50),
            p95=_percentile(finished, 0.95),
        )


def _final_status(error_type: str | None, outcome: object) -> str:
    if outcome == "ok":
        return "done"
    if error_type == "timeout":
        return "timed out"
    if error_type == "cancelled":
        return "cancelled"
    return "failed"


def _percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return None
    rank = max(1, math.ceil(q * len(values)))
    return values[rank - 1]
