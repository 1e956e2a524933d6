"""What a running action can ask about itself, from anywhere in its call stack."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from jido._core.cancel import CancelReason, Interrupted, Token
from jido._core.errors import ConfigError

__all__ = ["ProgressReport", "RunContext", "current", "current_or_none"]

ProgressReport = Callable[[int, float, float | None, str | None], None]
"""Where ``RunContext.progress`` goes: ``report(attempt, done, total, message)``."""


class RunContext:
    """The running attempt, as seen from inside the action.

    Obtained with :func:`jido.current`. Works the same in sync and async actions,
    in worker threads and in child processes.

    Attributes:
        action: the action's name.
        run_id: a unique id for the run (shared by all its attempts).
        attempt: the attempt number, starting at 1.
        max_attempts: the most attempts this run may make.
        deadline: the attempt's deadline on the ``time.monotonic()`` clock, or None.
        context: the context mapping the run was given.
        idempotency_key: a key that stays the same when this work runs again (a retry,
            or a durable run resumed after a crash): pass it to a payment or e-mail API
            as its idempotency key. ``"<run_id>"`` for a single action,
            ``"<run_id>/<index>"`` for the step at that 0-based index of a chain,
            ``"<run_id>/<name>"`` for a plan's named step.

    Example:
        >>> import jido
        >>> @jido.action
        ... def crunch(n: int) -> dict:
        ...     total = 0
        ...     for i in range(n):
        ...         if i % 10_000 == 0:
        ...             jido.current().check()   # stop promptly when cancelled or timed out
        ...         total += i
        ...     return {"total": total}
    """

    __slots__ = (
        "_report",
        "_scope",
        "_token",
        "action",
        "attempt",
        "context",
        "deadline",
        "idempotency_key",
        "max_attempts",
        "run_id",
    )

    def __init__(
        self,
        action: str,
        run_id: str,
        attempt: int,
        max_attempts: int,
        deadline: float | None,
        context: dict[Any, Any],
        token: Token | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        self.action = action
        self.run_id = run_id
        self.attempt = attempt
        self.max_attempts = max_attempts
        self.deadline = deadline
        self.context = context
        self._token = token
        self._scope: Any = None
        self._report: ProgressReport | None = None
        self.idempotency_key = run_id if idempotency_key is None else idempotency_key

    def __repr__(self) -> str:
        return (
            f"RunContext(action={self.action!r}, run_id={self.run_id!r}, "
            f"attempt={self.attempt}, cancelled={self.cancelled})"
        )

    @property
    def token(self) -> Token:
        """The attempt's cancellation token."""
        token = self._token
        if token is None:
            token = self._token = Token()
        return token

    @property
    def cancelled(self) -> bool:
        """True once the attempt has been told to stop (timeout, cancel, shutdown, parent)."""
        token = self._token
        if token is None or token.reason is None:
            return False
        token.observed = True
        return True

    @property
    def cancel_reason(self) -> CancelReason | None:
        """Why the attempt was told to stop, or None."""
        token = self._token
        return None if token is None else token.reason

    def remaining(self) -> float | None:
        """Seconds left before the attempt's deadline (never negative), or None without one."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    def check(self) -> None:
        """Raise :class:`jido.Interrupted` if the attempt has been told to stop."""
        token = self._token
        if token is not None and token.reason is not None:
            token.observed = True
            raise Interrupted(token.reason)

    def sleep(self, seconds: float) -> None:
        """Sleep that wakes up at once when the attempt is told to stop (then raises).

        Use it instead of ``time.sleep`` in sync actions: a cancel or timeout is
        observed within microseconds instead of when the sleep ends.
        """
        token = self.token
        if token.wait(max(0.0, seconds)):
            token.observed = True
            raise Interrupted(token.reason)

    def progress(self, done: float, total: float | None = None, message: str | None = None) -> None:
        """Report how far the action has got, as a ``progress`` telemetry event of its run.

        Costs a few checks when nothing listens. An MCP client that asked for progress
        receives it as a progress notification (never going backwards).

        Args:
            done: the work done so far (a finite number >= 0: items, bytes, percent...).
            total: the work there is in all, if known (a finite number > 0).
            message: a short human-readable status.

        Raises:
            jido.ConfigError: a value of the wrong type or out of range.

        Example:
            >>> import jido
            >>> @jido.action
            ... def index(paths: list[str]) -> dict:
            ...     for i, path in enumerate(paths, 1):
            ...         jido.current().progress(i, len(paths), f"indexed {path}")
            ...     return {"indexed": len(paths)}
        """
        _check_progress(done, total, message)
        report = self._report
        if report is not None:
            report(self.attempt, float(done), None if total is None else float(total), message)


def _check_progress(done: object, total: object, message: object) -> None:
    if (
        isinstance(done, bool)
        or not isinstance(done, int | float)
        or not (math.isfinite(done) and done >= 0)
    ):
        raise ConfigError(f"progress must be a finite number >= 0, got {done!r}")
    if total is not None and (
        isinstance(total, bool)
        or not isinstance(total, int | float)
        or not (math.isfinite(total) and total > 0)
    ):
        raise ConfigError(f"progress total must be a finite number > 0 or None, got {total!r}")
    if message is not None and not isinstance(message, str):
        raise ConfigError(f"progress message must be a string or None, got {message!r}")


_CURRENT: ContextVar[RunContext | None] = ContextVar("jido_current", default=None)


def current() -> RunContext:
    """The :class:`RunContext` of the action running in this thread or task.

    Works from anywhere in the action's call stack, sync or async code alike.

    Raises:
        RuntimeError: when called outside a running action.

    Example:
        >>> import jido
        >>> @jido.action
        ... def which() -> dict:
        ...     run = jido.current()
        ...     return {"action": run.action, "attempt": run.attempt}
        >>> jido.run(which)
        {'action': 'which', 'attempt': 1}
    """
    ctx = _CURRENT.get()
    if ctx is None:
        raise RuntimeError("jido.current() was called outside a running action")
    return ctx


def current_or_none() -> RunContext | None:
    return _CURRENT.get()
