"""The retry decision, written once and free of I/O.

Every driver (inline, asyncio, worker thread, process, cluster) asks
:func:`next_delay` after a failed attempt and sleeps or stops accordingly.
"""

from __future__ import annotations

import random

from jido._core.errors import JidoError
from jido._core.options import RetryPolicy

__all__ = ["is_retryable", "next_delay"]


def is_retryable(error: JidoError, policy: RetryPolicy) -> bool:
    """Whether ``error`` may be retried under ``policy`` (ignoring the attempt budget)."""
    if not error.retryable:
        return False
    retry_on = policy.retry_on
    if retry_on is None:
        return True
    if isinstance(retry_on, tuple):
        return isinstance(error, retry_on) or isinstance(error.__cause__, retry_on)
    return bool(retry_on(error))


def next_delay(
    policy: RetryPolicy,
    error: JidoError,
    failed_attempts: int,
    now: float,
    deadline: float | None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before the next attempt, or None to give up.

    Args:
        policy: the run's retry policy.
        error: the error the last attempt ended with.
        failed_attempts: how many attempts have failed so far (1 after the first).
        now: the current ``time.monotonic()``.
        deadline: the run's overall deadline on the same clock, or None.
        rng: the run's random source for jitter (None: a shared one).

    Example:
        >>> from jido._core.errors import ExecutionError
        >>> next_delay(RetryPolicy(max_retries=2, backoff=0.5), ExecutionError("x"), 2, 0.0, None)
        1.0
    """
    if failed_attempts > policy.max_retries or not is_retryable(error, policy):
        return None
    delay = error.retry_after
    if delay is None:
        delay = policy.delay(failed_attempts - 1, rng)
    if deadline is not None and now + delay >= deadline:
        return None
    return delay
