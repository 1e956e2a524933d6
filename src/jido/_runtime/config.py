"""Global run defaults (``jido.configure``), the per-call option names, and run ids."""

from __future__ import annotations

import itertools
import os
import threading
from typing import Any, TypedDict, Unpack

from jido._core.options import Isolation, RetryOn, RetryPolicy, RunOptions, TelemetryMode

__all__ = ["SETTINGS", "RunKwargs", "configure", "new_run_id"]


class RunKwargs(TypedDict, total=False):
    """Per-call options accepted by ``run``, ``arun`` and ``run_async``."""

    timeout: float | None
    max_retries: int
    backoff: float
    max_backoff: float
    jitter: bool
    total_timeout: float | None
    retry_on: RetryOn | None
    retry: RetryPolicy
    isolation: Isolation | None
    telemetry: TelemetryMode
    log_level: int | str
    compensation_timeout: float | None


class _Settings:
    """The defaults set with ``jido.configure``; ``version`` changes with every update."""

    __slots__ = ("_lock", "_values", "version")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, Any] = {}
        self.version = 0

    def snapshot(self) -> tuple[int, dict[str, Any]]:
        with self._lock:
            return self.version, dict(self._values)

    def update(self, values: dict[str, Any]) -> None:
        with self._lock:
            self._values = dict(values)
            self.version += 1


SETTINGS = _Settings()
_ids = itertools.count(1)
_id_prefix = os.urandom(4).hex()


def configure(**defaults: Unpack[RunKwargs]) -> None:
    """Set global defaults for every run (per-call options still win).

    Example:
        >>> import jido
        >>> jido.configure(timeout=2.0, max_retries=3, backoff=0.25)
        >>> jido.configure(timeout=5.0, max_retries=1, backoff=1.0)   # back to the defaults
    """
    merged = {**SETTINGS.snapshot()[1], **defaults}
    RunOptions().merge(merged)  # validate before anything changes
    SETTINGS.update(merged)


def new_run_id() -> str:
    """A run id unique in this process and, with its random prefix, across processes."""
    return f"{_id_prefix}-{next(_ids)}"
