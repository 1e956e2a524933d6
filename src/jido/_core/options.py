"""Run options as validated, frozen values, and the layers they are resolved from.

Resolution order, last wins: built-in defaults < ``jido.configure(...)`` <
``Runtime(defaults=...)`` < per-call keyword arguments. Garbage is a
``config_error`` up front, never an endless loop.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, Literal, TypeAlias

from jido._core.errors import ConfigError, JidoError

__all__ = [
    "UNSET",
    "Isolation",
    "RetryOn",
    "RetryPolicy",
    "RunOptions",
    "TelemetryMode",
    "check_seconds",
]

Isolation: TypeAlias = Literal["thread", "process"]
TelemetryMode: TypeAlias = Literal["full", "silent"]
RetryOn: TypeAlias = tuple[type[BaseException], ...] | Callable[[JidoError], bool]

MAX_RETRIES_LIMIT: Final = 10_000
DEFAULT_MAX_BACKOFF: Final = 30.0


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final[Any] = _Unset()
"""Sentinel for "use the default", distinct from ``None`` (which means "no limit")."""


def check_seconds(name: str, value: object, *, allow_none: bool = True) -> float | None:
    """Validate a duration in seconds: a finite number >= 0 (None when allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"{name} must be a number of seconds, got {value!r}",
            details={"option": name},
        )
    if not math.isfinite(value) or value < 0:
        raise ConfigError(
            f"{name} must be a finite number >= 0, got {value!r}", details={"option": name}
        )
    return float(value)


def _check_int(name: str, value: object, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}", details={"option": name})
    if not 0 <= value <= limit:
        raise ConfigError(
            f"{name} must be between 0 and {limit}, got {value!r}", details={"option": name}
        )
    return value


def _check_retry_on(value: object) -> RetryOn | None:
    if value is None or (callable(value) and not isinstance(value, type)):
        return value
    if isinstance(value, type) and issubclass(value, BaseException):
        return (value,)
    if isinstance(value, tuple) and all(
        isinstance(t, type) and issubclass(t, BaseException) for t in value
    ):
        return value
    raise ConfigError(
        f"retry_on must be exception types or a predicate, got {value!r}",
        details={"option": "retry_on"},
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how often a failed attempt is tried again.

    The delay before retry ``k`` (0-based) is ``backoff * 2**k`` capped at
    ``max_backoff``; with ``jitter=True`` it is drawn uniformly from ``[0, backoff * 2**k]``
    and *then* capped. An error's own ``retry_after`` replaces the computed delay.

    Attributes:
        max_retries: retries after the first attempt (so at most ``max_retries + 1`` attempts).
        backoff: the first delay, in seconds.
        max_backoff: the cap on any computed delay, in seconds.
        jitter: full jitter on or off.
        total_timeout: a budget in seconds for the whole run, attempts and delays included.
        retry_on: exception types (matched against the error and its cause) or a predicate
            on the :class:`~jido.JidoError`; narrows what is retried. Errors that are not
            retryable (validation, config, cancelled, ...) are never retried.
        seed: seeds the jitter's random source, for reproducible schedules in tests.

    Example:
        >>> RetryPolicy(max_retries=3, backoff=0.5).delays()
        [0.5, 1.0, 2.0]
    """

    max_retries: int = 1
    backoff: float = 1.0
    max_backoff: float = DEFAULT_MAX_BACKOFF
    jitter: bool = False
    total_timeout: float | None = None
    retry_on: RetryOn | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        setter = object.__setattr__
        setter(self, "max_retries", _check_int("max_retries", self.max_retries, MAX_RETRIES_LIMIT))
        setter(self, "backoff", check_seconds("backoff", self.backoff, allow_none=False))
        setter(
            self, "max_backoff", check_seconds("max_backoff", self.max_backoff, allow_none=False)
        )
        if not isinstance(self.jitter, bool):
            raise ConfigError(
                f"jitter must be a bool, got {self.jitter!r}", details={"option": "jitter"}
            )
        total = check_seconds("total_timeout", self.total_timeout)
        setter(self, "total_timeout", total or None)
        setter(self, "retry_on", _check_retry_on(self.retry_on))
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int)
        ):
            raise ConfigError(f"seed must be an int, got {self.seed!r}", details={"option": "seed"})

    def rng(self) -> random.Random | None:
        """A fresh random source for one run: seeded when ``seed`` is set, else None (global)."""
        return None if self.seed is None else random.Random(self.seed)

    def delay(self, retry_index: int, rng: random.Random | None = None) -> float:
        """The delay before retry number ``retry_index`` (0-based), jitter and cap applied."""
        raw = self.backoff * 2.0 ** min(retry_index, 1000)
        if self.jitter:
            raw = (rng or _GLOBAL_RNG).random() * min(raw, 1e300)
        return min(raw, self.max_backoff)

    def delays(self) -> list[float]:
        """The whole schedule of one run: one delay per possible retry."""
        rng = self.rng()
        return [self.delay(k, rng) for k in range(self.max_retries)]


_GLOBAL_RNG: Final = random.Random()

_LOG_LEVELS: Final = {"debug", "info", "warning", "error", "critical"}


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Everything that controls one run, resolved and validated.

    ``timeout`` is per attempt; ``None`` means no limit (``0`` is accepted and means the same).
    """

    timeout: float | None = 5.0
    retry: RetryPolicy = RetryPolicy()
    isolation: Isolation | None = None
    """None: the runtime's engine (in-process, or its cluster); "thread"/"process": here."""
    telemetry: TelemetryMode = "full"
    log_level: int = logging.INFO
    compensation_timeout: float | None = None
    silent: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        timeout = check_seconds("timeout", self.timeout)
        object.__setattr__(self, "timeout", timeout or None)
        if not isinstance(self.retry, RetryPolicy):
            raise ConfigError(
                f"retry must be a jido.RetryPolicy, got {self.retry!r}", details={"option": "retry"}
            )
        if self.isolation not in (None, "thread", "process"):
            raise ConfigError(
                f"isolation must be None, 'thread' or 'process', got {self.isolation!r}",
                details={"option": "isolation"},
            )
        if self.telemetry not in ("full", "silent"):
            raise ConfigError(
                f"telemetry must be 'full' or 'silent', got {self.telemetry!r}",
                details={"option": "telemetry"},
            )
        object.__setattr__(self, "log_level", _check_log_level(self.log_level))
        object.__setattr__(self, "silent", self.telemetry == "silent")
        check_seconds("compensation_timeout", self.compensation_timeout)

    def merge(self, overrides: Mapping[str, Any]) -> RunOptions:
        """A new RunOptions with ``overrides`` applied (flat retry keys go to ``retry``)."""
        own: dict[str, Any] = {}
        retry: dict[str, Any] = {}
        for key, value in overrides.items():
            if value is UNSET:
                continue
            if key in _RETRY_KEYS:
                retry[key] = value
            elif key in _OWN_KEYS:
                own[key] = value
            else:
                raise ConfigError(f"unknown run option {key!r}", details={"option": key})
        base_retry = own.get("retry", self.retry)
        if retry:
            if not isinstance(base_retry, RetryPolicy):
                raise ConfigError(f"retry must be a jido.RetryPolicy, got {base_retry!r}")
            own["retry"] = replace(base_retry, **retry)
        return replace(self, **own) if own else self


def _check_log_level(value: object) -> int:
    if isinstance(value, str) and value.lower() in _LOG_LEVELS:
        return int(logging.getLevelName(value.upper()))
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ConfigError(
        f"log_level must be a logging level name or number, got {value!r}",
        details={"option": "log_level"},
    )


_RETRY_KEYS: Final = frozenset(f.name for f in fields(RetryPolicy) if not f.name.startswith("_"))
_OWN_KEYS: Final = frozenset(f.name for f in fields(RunOptions) if f.init)
