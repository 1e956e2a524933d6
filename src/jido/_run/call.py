"""A validated run ready for its attempts, and the steps every driver reports through it."""

from __future__ import annotations

import contextvars
import random
import time
from typing import TYPE_CHECKING, Any, Protocol

from jido._action.action import ActionSpec, describe
from jido._core.cancel import CancelReason, Token
from jido._core.clock import HORIZON
from jido._core.context import RunContext
from jido._core.errors import ConfigError, JidoError
from jido._core.options import RunOptions
from jido._core.policy import next_delay
from jido._run.attempt import stop_error

if TYPE_CHECKING:
    from jido._observe.telemetry import Tracker
    from jido._runtime.runtime import Runtime

__all__ = ["Call", "Journal", "testing_flags"]


class testing_flags:
    no_backoff = False


class Journal(Protocol):
    """Where a durable run records what its driver reports (``None`` on a Call: not durable).

    Each method is called by the driver's thread at the moment it happens, and must never
    raise: a journal that cannot write logs it.
    """

    def started(self, attempt: int) -> None:
        """An attempt began."""

    def succeeded(self, attempt: int, result: dict[str, Any]) -> None:
        """An attempt succeeded with ``result``."""

    def failed(self, attempt: int, error: JidoError, delay: float | None) -> None:
        """An attempt failed; ``delay`` is the wait before the next one (None: no retry)."""

    def concluded(self, error: JidoError, attempts: int) -> None:
        """The run failed for good with ``error``."""


class Call:
    """A validated run, ready for its attempts."""

    __slots__ = (
        "context",
        "ctx",
        "deadline",
        "first_attempt",
        "instance",
        "journal",
        "key",
        "opts",
        "params",
        "parent",
        "resume_delay",
        "rng",
        "run_id",
        "runtime",
        "spec",
        "tracker",
    )

    def __init__(
        self,
        runtime: Runtime,
        spec: ActionSpec,
        instance: Any,
        params: dict[str, Any],
        context: dict[Any, Any],
        opts: RunOptions,
        run_id: str,
        deadline: float | None,
        parent: RunContext | None,
        tracker: Tracker | None,
    ) -> None:
        self.runtime = runtime
        self.spec = spec
        self.instance = instance
        self.params = params
        self.context = context
        self.opts = opts
        self.run_id = run_id
        self.deadline = deadline
        self.parent = parent
        self.tracker = tracker
        self.ctx: contextvars.Context | None = None
        self.rng: random.Random | None = None
        self.journal: Journal | None = None
        self.key = run_id
        """The idempotency key its attempts see (``jido.current().idempotency_key``)."""
        self.first_attempt = 1
        """The number of the first attempt (a resumed run continues its count)."""
        self.resume_delay = 0.0
        """Seconds to wait before the first attempt (a resumed run keeps its schedule)."""

    def attempt_deadline(self, now: float) -> float | None:
        """The deadline of an attempt that starts executing at ``now`` (the run's, if sooner)."""
        timeout = self.opts.timeout
        if timeout is None:
            return self.deadline
        deadline = now + (timeout if timeout < HORIZON else HORIZON)
        return deadline if self.deadline is None or deadline < self.deadline else self.deadline

    def begin_attempt(
        self, attempt: int, deadline: float | None, token: Token | None
    ) -> RunContext:
        """The RunContext of a new attempt (and its start event)."""
        rctx = RunContext(
            self.spec.name,
            self.run_id,
            attempt,
            self.opts.retry.max_retries + 1,
            deadline,
            self.context,
            token,
            self.key,
        )
        tracker = self.tracker
        if tracker is not None:
            tracker.attempt_start(attempt)
            rctx._scope = tracker.scope()
            rctx._report = tracker.progress
        if self.journal is not None:
            self.journal.started(attempt)
        return rctx

    def succeeded(
        self, attempt: int, result: dict[str, Any], queued: float = 0.0
    ) -> dict[str, Any]:
        if self.journal is not None:  # first: its checkpoint belongs to the attempt's span
            self.journal.succeeded(attempt, result)
        tracker = self.tracker
        if tracker is not None:
            tracker.attempt_stop(attempt, result, None, queued)
            tracker.run_stop(result, None, attempt)
        return result

    def failed(
        self, attempt: int, error: JidoError, cancelled: bool = False, queued: float = 0.0
    ) -> tuple[float | None, JidoError]:
        """Report a failed attempt: the delay before the next one (None to give up), and
        the error to give up with (the attempt's, or the ``config_error`` of a broken
        ``retry_on`` predicate)."""
        if queued:
            error.details["queued"] = round(queued, 6)
        tracker = self.tracker
        if tracker is not None:
            tracker.attempt_stop(attempt, None, error, queued)
        delay, error = (None, error) if cancelled else self._retry_delay(attempt, error)
        if self.journal is not None:
            self.journal.failed(attempt, error, delay)
        return delay, error

    def _retry_delay(self, attempt: int, error: JidoError) -> tuple[float | None, JidoError]:
        tracker = self.tracker
        policy = self.opts.retry
        if self.rng is None and policy.seed is not None:
            self.rng = policy.rng()
        try:
            delay = next_delay(policy, error, attempt, time.monotonic(), self.deadline, self.rng)
        except BaseException as exc:  # the retry_on predicate raised: the run stops here
            return None, retry_on_failed(self.spec.name, error, exc)
        if delay is not None:
            if testing_flags.no_backoff:
                delay = 0.0
            if tracker is not None:
                tracker.retry(attempt, delay, error)
        return delay, error

    def conclude(self, error: JidoError, attempts: int, compensated: JidoError | None) -> JidoError:
        """The error the run ends with: the compensation outcome if any, with the attempt count."""
        final = compensated or error
        final.details.setdefault("attempts", attempts)
        if self.journal is not None:  # first: its checkpoint belongs to the run's span
            self.journal.concluded(final, attempts)
        if self.tracker is not None:
            retries = self.opts.retry.max_retries
            exhausted = error.retryable and retries > 0 and attempts > retries
            self.tracker.run_stop(None, final, attempts, exhausted)
        return final

    def stop_error(
        self, reason: CancelReason | None, stopped: bool, mechanism: str, attempt: int
    ) -> JidoError:
        return stop_error(
            self.spec,
            self.opts.timeout,
            reason,
            stopped=stopped,
            mechanism=mechanism,
            attempt=attempt,
        )


def retry_on_failed(action: str, error: JidoError, exc: BaseException) -> ConfigError:
    """The error a run ends with when its ``retry_on`` predicate raised: never retried,
    the predicate's exception as ``__cause__``, the attempt's error as ``__context__``."""
    failure = ConfigError(
        f"Action '{action}' stopped: its retry_on predicate raised {describe(exc)} "
        f"(deciding on an error of type {error.type!r})",
        details={"action": action, "option": "retry_on", "error_type": error.type},
    )
    failure.__cause__ = exc
    failure.__context__ = error
    return failure
