"""Global run defaults (``jido.configure``), the per-call option names, and run ids."""

from __future__ import annotations

import threading
from typing import Any, TypedDict, Unpack

from jido._core.errors import ConfigError
from jido._core.ids import new_run_id
from jido._core.options import UNSET, Isolation, RetryOn, RetryPolicy, RunOptions, TelemetryMode

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

    __slots__ = ("_lock", "_values", "store", "version")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, Any] = {}
        self.version = 0
        self.store: Any = UNSET
        """The default runtime's store URL (``jido.configure(store=...)``), or UNSET."""

    def snapshot(self) -> tuple[int, dict[str, Any]]:
        with self._lock:
            return self.version, dict(self._values)

    def update(self, values: dict[str, Any]) -> None:
        with self._lock:
            self._values = dict(values)
            self.version += 1


SETTINGS = _Settings()


def configure(*, store: str | None = UNSET, **defaults: Unpack[RunKwargs]) -> None:
    """Set global defaults for every run (per-call options still win).

    Args:
        store: the store URL of the default runtime (durable runs; ``None``: no store).
            The default runtime in use is replaced by a new one on its next use (runs in
            flight on the old one finish there).
        **defaults: run options (``timeout``, ``max_retries``, ``backoff``...).

    Example:
        >>> import jido
        >>> jido.configure(timeout=2.0, max_retries=3, backoff=0.25)
        >>> jido.configure(timeout=5.0, max_retries=1, backoff=1.0)   # back to the defaults
    """
    if store is not UNSET and store is not None and not isinstance(store, str):
        raise ConfigError(f"store must be a store URL string or None, got {type(store).__name__}")
    merged = {**SETTINGS.snapshot()[1], **defaults}
    RunOptions().merge(merged)  # validate before anything changes
    SETTINGS.update(merged)
    if store is not UNSET and store != SETTINGS.store:
        SETTINGS.store = store
        from jido._runtime.default import retire_default

        retire_default()
