"""The error tree: one root, a stable ``type`` code per class, retry semantics as data.

Every error survives pickling with its type, message, details, retryability,
``retry_after`` and cause, so an error raised in a child process or on a cluster
arrives in the caller unchanged.
"""

from __future__ import annotations

import builtins
import math
import pickle
import traceback
from collections.abc import Mapping
from typing import Any, ClassVar

from jido._core.safe import describe, type_name

__all__ = [
    "CancelledError",
    "CompensationError",
    "ConfigError",
    "ExecutionError",
    "InternalError",
    "InvalidActionError",
    "InvalidAsyncRefError",
    "JidoError",
    "RemoteError",
    "TimeoutError",
    "ValidationError",
    "derive",
    "error_from_dict",
]


def _check_retry_after(value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise builtins.TypeError(f"retry_after must be a number of seconds, got {describe(value)}")
    if isinstance(value, int):  # read by int's own methods (a subclass may override them)
        number = int.__index__(value)
        seconds = math.inf if int.bit_length(number) > 1023 else float(number)
    else:
        seconds = float.__float__(value)
    if seconds < 0 or not math.isfinite(seconds):
        raise builtins.ValueError(f"retry_after must be finite and >= 0, got {describe(value)}")
    return seconds


class JidoError(Exception):
    """Root of every error jido raises.

    Attributes:
        type: a stable string code (``"validation_error"``, ``"timeout"``, ...).
        message: a human-readable message that never contains params or context.
        details: structured, low-cardinality facts about the failure.
        retryable: whether the retry policy may try again after this error.
        retry_after: an optional delay in seconds the error asks for before a retry.

    Example:
        >>> try:
        ...     raise ExecutionError("upstream busy", retry_after=2.0)
        ... except JidoError as e:
        ...     (e.type, e.retryable, e.retry_after)
        ('execution_error', True, 2.0)
    """

    type: ClassVar[str] = "internal_error"
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str = "",
        *,
        details: Mapping[str, Any] | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details) if details else {}
        self.retryable = self.default_retryable if retryable is None else bool(retryable)
        self.retry_after = _check_retry_after(retry_after)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        """The message and a summary of the details: containers show their size only.

        A repr lands in logs and tracebacks, so it never shows the values an error
        carries for the program (a failed plan's step results, a compensation's result).
        """
        message = describe(self.message, 300)
        return f"{type(self).__name__}({message}, details={_brief(self.details)})"

    def __reduce__(self) -> tuple[Any, ...]:
        state = (self.message, self.details, self.retryable, self.retry_after)
        return (_rebuild, (type(self), state, _portable_cause(self.__cause__)))

    def with_details(self, **extra: Any) -> JidoError:
        """Return this error with ``extra`` merged into its details (mutates and returns self)."""
        self.details.update(extra)
        return self

    def to_dict(self) -> dict[str, Any]:
        """A plain view: ``type``, ``message``, ``details``, ``retryable``, ``retry_after``."""
        return {
            "type": self.type,
            "message": self.message,
            "details": self.details,
            "retryable": self.retryable,
            "retry_after": self.retry_after,
        }


class ValidationError(JidoError):
    """Params, context or output did not match what the action declares. Never retried."""

    type = "validation_error"


class InvalidActionError(JidoError):
    """The thing given as an action is not one, or its definition is broken."""

    type = "invalid_action"


class ExecutionError(JidoError):
    """The action failed while running. Retryable unless it says otherwise."""

    type = "execution_error"
    default_retryable = True


class TimeoutError(JidoError, builtins.TimeoutError):
    """An attempt, a deadline or an await ran out of time.

    ``details["stopped"]`` says whether the work was confirmed stopped (``True``)
    or is still running, abandoned (``False``). It is also a builtin ``TimeoutError``.
    """

    type = "timeout"
    default_retryable = True

    def __str__(self) -> str:
        return self.message


class CancelledError(JidoError):
    """The run was cancelled; ``details["reason"]`` says why. Never retried."""

    type = "cancelled"


class InvalidAsyncRefError(JidoError):
    """Something that is not an :class:`~jido.AsyncRef` was given to ``await_`` or ``cancel``."""

    type = "invalid_async_ref"


class CompensationError(JidoError):
    """The action failed and its compensation (``on_error``) failed too."""

    type = "compensation_error"


class ConfigError(JidoError):
    """jido was misused: an invalid option, a bad configuration, a closed runtime."""

    type = "config_error"


class InternalError(JidoError):
    """A failure inside jido itself (a bug, or a broken environment)."""

    type = "internal_error"


class RemoteError(Exception):
    """Stands in for an exception that could not travel between processes.

    Keeps the original type name, message and formatted traceback.
    """

    def __init__(self, type_name: str, message: str, traceback_text: str = "") -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.remote_message = message
        self.traceback_text = traceback_text

    def __reduce__(self) -> tuple[Any, ...]:
        return (RemoteError, (self.type_name, self.remote_message, self.traceback_text))


_BY_TYPE: dict[str, type[JidoError]] = {
    cls.type: cls
    for cls in (
        ValidationError,
        InvalidActionError,
        ExecutionError,
        TimeoutError,
        CancelledError,
        InvalidAsyncRefError,
        CompensationError,
        ConfigError,
        InternalError,
    )
}


def derive(error: JidoError, message: str, details: Mapping[str, Any]) -> JidoError:
    """A new error of ``error``'s class and retry semantics, with ``error`` as its cause.

    For a composite (a chain, a plan) that reports a step's failure as its own: the
    step's error stays as it was, and is the ``__cause__`` of the one raised.
    """
    cls = type(error)
    new = cls.__new__(cls)
    Exception.__init__(new, message)
    new.message = message
    new.details = dict(details)
    new.retryable = error.retryable
    new.retry_after = error.retry_after
    new.__cause__ = error
    return new


def _brief(details: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{describe(k)}: {_brief_value(v)}" for k, v in details.items()) + "}"


def _brief_value(value: object) -> str:
    if value is None or isinstance(value, bool | int | float | str):
        return describe(value, 60)
    if type(value) in (dict, list, tuple, set, frozenset):
        return f"<{type_name(value)} of {len(value)}>"  # type: ignore[arg-type]
    return f"<{type_name(value)}>"


def error_from_dict(data: Mapping[str, Any]) -> JidoError:
    """Rebuild an error from :meth:`JidoError.to_dict` output."""
    cls = _BY_TYPE.get(str(data.get("type")), InternalError)
    return cls(
        str(data.get("message", "")),
        details=data.get("details") or {},
        retryable=data.get("retryable"),
        retry_after=data.get("retry_after"),
    )


def _portable_cause(cause: BaseException | None) -> BaseException | None:
    """The cause itself when it pickles, otherwise a :class:`RemoteError` stand-in."""
    if cause is None:
        return None
    try:
        pickle.dumps(cause)
    except Exception:
        text = "".join(traceback.format_exception(cause))
        return RemoteError(type(cause).__qualname__, str(cause), text)
    return cause


def _rebuild(
    cls: type[JidoError],
    state: tuple[str, dict[str, Any], bool, float | None],
    cause: BaseException | None,
) -> JidoError:
    message, details, retryable, retry_after = state
    err = cls(message, details=details, retryable=retryable, retry_after=retry_after)
    err.__cause__ = cause
    return err
