"""Run options as validated, frozen values, and the layers they are resolved from.

Resolution order, last wins: built-in defaults < ``jido.configure(...)`` <
``Runtime(defaults=...)`` < per-call keyword arguments. Garbage is a
``config_error`` up front, never an endless loop.
"""

from __future__ import annotations

import logging
import math
import random
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, Literal, TypeAlias

from jido._core.errors import ConfigError, JidoError
from jido._core.safe import describe, type_name

__all__ = [
    "UNSET",
    "Isolation",
    "RetryOn",
    "RetryPolicy",
    "RunOptions",
    "RuntimeSettings",
    "TelemetryMode",
    "cache_key",
    "check_seconds",
    "check_wait",
]

Isolation: TypeAlias = Literal["thread", "process"]
TelemetryMode: TypeAlias = Literal["full", "silent"]
RetryOn: TypeAlias = tuple[type[BaseException], ...] | Callable[[JidoError], bool]

MAX_RETRIES_LIMIT: Final = 10_000
DEFAULT_MAX_BACKOFF: Final = 30.0
MAX_SECONDS: Final = 1e9
"""Durations above this (about 31 years) are clamped to it: no clock or wait overflows."""


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final[Any] = _Unset()
"""Sentinel for "use the default", distinct from ``None`` (which means "no limit")."""


def check_seconds(name: str, value: object, *, allow_none: bool = True) -> float | None:
    """Validate a duration in seconds: a finite number >= 0 (None when allowed).

    Any finite value is accepted; one above :data:`MAX_SECONDS` (an int of any size
    included) is clamped to it, so that no deadline, timer or wait can overflow.

    Example:
        >>> check_seconds("timeout", 2), check_seconds("timeout", 10**400)
        (2.0, 1000000000.0)
    """
    if value is None and allow_none:
        return None
    seconds = _as_float(value)
    if seconds is None:
        raise ConfigError(
            f"{name} must be a number of seconds, got {describe(value)}",
            details={"option": name},
        )
    if not math.isfinite(seconds) or seconds < 0:
        raise ConfigError(
            f"{name} must be a finite number >= 0, got {describe(value)}",
            details={"option": name},
        )
    return min(seconds, MAX_SECONDS)


def check_wait(value: object) -> float | None:
    """A wait's timeout (``await_``, ``ref.result``): seconds >= 0, or None to wait forever.

    Infinity and values beyond what the platform can wait for mean "forever" (None).

    Example:
        >>> check_wait(5), check_wait(None), check_wait(float("inf"))
        (5.0, None, None)
    """
    if value is None:
        return None
    seconds = _as_float(value)
    if seconds is None or math.isnan(seconds) or seconds < 0:
        raise ConfigError(
            f"timeout must be a number of seconds >= 0 or None, got {describe(value)}",
            details={"option": "timeout"},
        )
    return None if seconds >= threading.TIMEOUT_MAX else seconds


def _as_float(value: object) -> float | None:
    """A real number as a float (huge ints clamped), or None for anything else.

    Subclasses of int and float are read by the base type's own methods, so that their
    overridden comparisons or conversions never run.
    """
    number = _as_int(value)
    if number is not None:
        if int.bit_length(number) > 1023:  # beyond float: clamp, keep the sign
            return sys.float_info.max if number > 0 else -sys.float_info.max
        return float(number)
    return float.__float__(value) if isinstance(value, float) else None


def _as_int(value: object) -> int | None:
    """An int (not a bool) as a plain int, or None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return int.__index__(value)


def _check_int(name: str, value: object, limit: int) -> int:
    number = _as_int(value)
    if number is None:
        raise ConfigError(
            f"{name} must be an integer, got {describe(value)}", details={"option": name}
        )
    if not 0 <= number <= limit:
        raise ConfigError(
            f"{name} must be between 0 and {limit}, got {describe(value)}",
            details={"option": name},
        )
    return number


def _choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """``value`` as one of ``choices`` (a plain str); compared without running its ``__eq__``."""
    plain = str.__str__(value) if isinstance(value, str) else None
    if plain in choices:
        assert plain is not None
        return plain
    listed = " or ".join(repr(c) for c in choices)
    raise ConfigError(f"{name} must be {listed}, got {describe(value)}", details={"option": name})


def _check_retry_on(value: object) -> RetryOn | None:
    """None, a predicate, an exception type, or any iterable of exception types."""
    if value is None or (callable(value) and not isinstance(value, type)):
        return value
    types = (value,) if isinstance(value, type) else _type_tuple(value)
    if types is not None and all(_is_exception_type(t) for t in types):
        return types  # type: ignore[return-value]
    raise ConfigError(
        "retry_on must be an exception type, an iterable of exception types or a "
        f"predicate, got {describe(value)}",
        details={"option": "retry_on"},
    )


def _type_tuple(value: object) -> tuple[object, ...] | None:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        return None
    try:
        return tuple(value)
    except Exception:  # an iterable that fails while iterating
        return None


def _is_exception_type(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, BaseException)


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
                f"jitter must be a bool, got {describe(self.jitter)}", details={"option": "jitter"}
            )
        total = check_seconds("total_timeout", self.total_timeout)
        setter(self, "total_timeout", total or None)
        setter(self, "retry_on", _check_retry_on(self.retry_on))
        if self.seed is not None:
            seed = _as_int(self.seed)
            if seed is None:
                raise ConfigError(
                    f"seed must be an int, got {describe(self.seed)}", details={"option": "seed"}
                )
            setter(self, "seed", seed)

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
_MAX_LOG_LEVEL: Final = 1_000_000
"""Levels above this (and above CRITICAL) all mean "log nothing of jido's"."""


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
        setter = object.__setattr__
        timeout = check_seconds("timeout", self.timeout)
        setter(self, "timeout", timeout or None)
        if not isinstance(self.retry, RetryPolicy):
            raise ConfigError(
                f"retry must be a jido.RetryPolicy, got {describe(self.retry)}",
                details={"option": "retry"},
            )
        if self.isolation is not None:
            setter(self, "isolation", _choice("isolation", self.isolation, ("thread", "process")))
        setter(self, "telemetry", _choice("telemetry", self.telemetry, ("full", "silent")))
        setter(self, "log_level", _check_log_level(self.log_level))
        setter(self, "silent", self.telemetry == "silent")
        check_seconds("compensation_timeout", self.compensation_timeout)

    def merge(self, overrides: Mapping[str, Any]) -> RunOptions:
        """A new RunOptions with ``overrides`` applied (flat retry keys go to ``retry``).

        Anything wrong with the overrides is a ``ConfigError``, whatever the values do
        (a ``__hash__``, ``__eq__`` or ``__iter__`` that raises included).
        """
        try:
            return self._merge(overrides)
        except JidoError:
            raise
        except Exception as exc:
            raise ConfigError(
                f"invalid run options: reading them raised {type_name(exc)}",
                details={"exception": type_name(exc)},
            ) from exc

    def _merge(self, overrides: Mapping[str, Any]) -> RunOptions:
        if not isinstance(overrides, Mapping):
            raise ConfigError(
                f"run options must be a mapping, got {type_name(overrides)}",
                details={"type": type_name(overrides)},
            )
        own: dict[str, Any] = {}
        retry: dict[str, Any] = {}
        for key, value in overrides.items():
            if value is UNSET:
                continue
            if type(key) is str and key in _RETRY_KEYS:
                retry[key] = value
            elif type(key) is str and key in _OWN_KEYS:
                own[key] = value
            else:
                label = key if type(key) is str else describe(key)
                raise ConfigError(f"unknown run option {describe(key)}", details={"option": label})
        base_retry = own.get("retry", self.retry)
        if retry:
            if not isinstance(base_retry, RetryPolicy):
                raise ConfigError(
                    f"retry must be a jido.RetryPolicy, got {describe(base_retry)}",
                    details={"option": "retry"},
                )
            own["retry"] = replace(base_retry, **retry)
        return replace(self, **own) if own else self


def cache_key(overrides: Mapping[str, Any]) -> tuple[tuple[Any, ...], tuple[type, ...]] | None:
    """A key to cache resolved options by, or None when a value is not a plain one.

    Only values whose hashing and comparison run no user code (None, bool, int, float,
    str, a RetryPolicy without a predicate, exception types) make a key. The values'
    types are part of it: ``True == 1 == 1.0``, but they are not all valid everywhere.
    """
    values = overrides.values()
    for value in values:
        if type(value) not in _PLAIN and not _plain(value):
            return None
    return tuple(overrides.items()), tuple(map(type, values))


def _plain(value: object) -> bool:
    kind = type(value)
    if kind in _PLAIN:
        return True
    if kind is RetryPolicy:
        return _plain(value.retry_on)  # type: ignore[attr-defined]
    if kind is tuple:
        return all(_is_exception_type(t) for t in value)  # type: ignore[attr-defined]
    return _is_exception_type(value) and type(value) is type


_PLAIN: Final = frozenset({type(None), bool, int, float, str})


def _check_log_level(value: object) -> int:
    if isinstance(value, str) and str.__str__(value).lower() in _LOG_LEVELS:
        return int(logging.getLevelName(str.__str__(value).upper()))
    number = _as_int(value)
    if number is not None and number >= 0:
        return min(number, _MAX_LOG_LEVEL)
    raise ConfigError(
        f"log_level must be a logging level name or number, got {describe(value)}",
        details={"option": "log_level"},
    )


_RETRY_KEYS: Final = frozenset(f.name for f in fields(RetryPolicy) if not f.name.startswith("_"))
_OWN_KEYS: Final = frozenset(f.name for f in fields(RunOptions) if f.init)


@dataclass(frozen=True, slots=True)
class RuntimeSettings:
    """What ``jido.Runtime(...)`` is given, validated: a ``ConfigError`` for anything wrong.

    Example:
        >>> RuntimeSettings(max_threads=4).max_threads
        4
    """

    name: str = "jido"
    max_threads: int = 64
    max_processes: int | None = None
    stop_timeout: float = 0.1
    start_method: str | None = None
    defaults: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        setter = object.__setattr__
        if not isinstance(self.name, str) or not str.__str__(self.name):
            raise ConfigError(
                f"name must be a non-empty string, got {describe(self.name)}",
                details={"option": "name"},
            )
        setter(self, "name", str.__str__(self.name))
        setter(self, "max_threads", _positive("max_threads", self.max_threads))
        if self.max_processes is not None:
            setter(self, "max_processes", _positive("max_processes", self.max_processes))
        stop = _as_float(self.stop_timeout)
        if stop is None or not 0 < stop <= 60:
            raise ConfigError(
                f"stop_timeout must be in (0, 60] seconds, got {describe(self.stop_timeout)}",
                details={"option": "stop_timeout"},
            )
        setter(self, "stop_timeout", stop)
        if self.start_method is not None:
            setter(self, "start_method", _start_method(self.start_method))
        setter(self, "defaults", _defaults(self.defaults))


def _positive(name: str, value: object) -> int:
    number = _as_int(value)
    if number is None or number < 1:
        raise ConfigError(
            f"{name} must be a positive integer, got {describe(value)}", details={"option": name}
        )
    return number


def _start_method(value: object) -> str:
    import multiprocessing

    return _choice("start_method", value, tuple(multiprocessing.get_all_start_methods()))


def _defaults(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"defaults must be a mapping of run options, got {type_name(value)}",
            details={"option": "defaults"},
        )
    try:
        out = dict(value)
    except Exception as exc:
        raise ConfigError(
            f"defaults could not be read: {type_name(exc)}", details={"option": "defaults"}
        ) from exc
    RunOptions().merge(out)
    return out
