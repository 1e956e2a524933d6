"""The journal of one durable run driven by this process: what its drivers report, written.

A :class:`DurableRun` holds the run's identity, the results of the steps already recorded
(a resumed run reuses them) and where each unfinished step's retry schedule stands. Each
step (a single action is one step, key ``""``) gets a :class:`StepJournal`, plugged into
its :class:`~jido._run.call.Call`: the drivers call it as attempts start, fail and succeed.
A write never raises into a driver: a store that cannot be written is logged, and a write
refused because another process now owns the run marks the run lost (this process stops
driving it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from jido._core.errors import CancelledError, ExecutionError, JidoError, ValidationError
from jido._observe.redact import MASK, is_secret_key, redact_text
from jido._store import SINGLE_STEP, RunHistory, Store
from jido._store.codec import error_to_json

if TYPE_CHECKING:
    from jido._observe.telemetry import Tracker

__all__ = ["DurableRun", "StepJournal", "is_shutdown", "stored_error"]

log = logging.getLogger("jido")


def is_shutdown(error: BaseException | None) -> bool:
    """True for the cancellation a runtime's shutdown gives its runs (they stay resumable)."""
    return isinstance(error, CancelledError) and error.details.get("reason") == "shutdown"


class DurableRun:
    """A durable run this process drives: its journal writes and what it already did."""

    __slots__ = (
        "_on_lost",
        "_store",
        "completed",
        "finished",
        "kind",
        "lost",
        "owner",
        "prestarted",
        "recovered",
        "run_id",
        "steps",
        "successors",
    )

    def __init__(
        self,
        store: Store,
        owner: str,
        run_id: str,
        kind: str,
        history: RunHistory | None,
        on_lost: Callable[[str], None],
    ) -> None:
        self.owner = owner
        self.run_id = run_id
        self.kind = kind
        self.lost = False
        self.finished = False
        self.recovered = history is not None
        """Resumed from the store (telemetry's ``run.start`` says ``recovered``)."""
        self.completed: dict[str, Any] = history.completed() if history is not None else {}
        self.steps = {s.key: s for s in history.steps} if history is not None else {}
        self._on_lost = on_lost
        self._store = store
        self.prestarted: dict[str, int] = {}
        """Attempts recorded as started by an earlier transaction (step key: attempt)."""
        self.successors: dict[str, str] = {}
        """The step that follows each step of a chain: its first attempt is recorded in the
        transaction that records the step's success (one commit per step)."""

    def step(self, key: str, tracker: Tracker | None = None) -> StepJournal:
        """The journal of step ``key`` (``""``: the run's only action)."""
        return StepJournal(self, key, tracker)

    def resume_point(self, key: str) -> tuple[int, float]:
        """Where step ``key`` resumes: its next attempt's number and the wait before it."""
        step = self.steps.get(key)
        if step is None:
            return 1, 0.0
        wait = 0.0
        if step.next_retry_at is not None:
            wait = max(0.0, step.next_retry_at - time.time())
        return step.attempts + 1, wait

    def write(self, op: str, fn: Callable[..., bool], *args: Any, **kwargs: Any) -> bool:
        """One journal write; False (and logged) if it could not be made."""
        if self.lost or self.finished:
            return False
        try:
            ok = fn(*args, owner=self.owner, **kwargs)
        except ValidationError:
            raise  # a value that cannot be stored: the caller says what the run does
        except Exception:
            log.exception("jido could not journal %s of run %s", op, self.run_id)
            return False
        if not ok:
            self.lost = True
            log.warning(
                "run %s is no longer owned by this process (%s): it stops driving it",
                self.run_id,
                op,
            )
            self._on_lost(self.run_id)
        return bool(ok)

    def finish(
        self,
        status: Literal["succeeded", "failed", "cancelled"],
        *,
        result: Any = None,
        error: JidoError | None = None,
        attempt: tuple[str, int] | None = None,
    ) -> bool:
        """Record the run's outcome (once)."""
        done = self.write(
            "finish_run",
            self._store.finish_run,
            self.run_id,
            status=status,
            at=time.time(),
            result=result,
            error=None if error is None else stored_error(error),
            attempt=attempt,
        )
        self.finished = self.finished or done
        return done

    def finish_error(self, error: JidoError) -> None:
        """Record a final error: ``cancelled`` or ``failed``; nothing for a shutdown."""
        if is_shutdown(error):
            return
        status: Literal["failed", "cancelled"] = (
            "cancelled" if isinstance(error, CancelledError) else "failed"
        )
        self.finish(status, error=error)


class StepJournal:
    """The journal hooks of one step's :class:`~jido._run.call.Call` (see ``Journal``)."""

    __slots__ = ("bad_result", "key", "run", "tracker")

    def __init__(self, run: DurableRun, key: str, tracker: Tracker | None) -> None:
        self.run = run
        self.key = key
        self.tracker = tracker
        self.bad_result: JidoError | None = None
        """Set when the step's result could not be stored: the run fails with it."""

    def started(self, attempt: int) -> None:
        run = self.run
        if run.prestarted.get(self.key) == attempt:  # recorded with the step before it
            del run.prestarted[self.key]
            self._checkpoint("attempt_started")
            return
        run.write(
            "attempt_started",
            run._store.attempt_started,
            run.run_id,
            self.key,
            attempt,
            at=time.time(),
        )
        self._checkpoint("attempt_started")

    def succeeded(self, attempt: int, result: dict[str, Any]) -> None:
        run = self.run
        try:
            if self.key == SINGLE_STEP:
                run.finish("succeeded", result=result, attempt=(self.key, attempt))
                self._checkpoint("run_succeeded")
                return
            following = self._following()
            if run.write(
                "step_succeeded",
                run._store.step_succeeded,
                run.run_id,
                self.key,
                attempt,
                at=time.time(),
                result=result,
                start_next=following,
            ):
                run.prestarted.update(following)
            self._checkpoint("step_succeeded")
        except ValidationError as exc:  # the result is not JSON: the run fails with that
            self.bad_result = unstorable(exc)
            if self.key == SINGLE_STEP:
                run.finish("failed", error=self.bad_result, attempt=(self.key, attempt))

    def _following(self) -> tuple[tuple[str, int], ...]:
        """The next step's first attempt, when it starts right after this one (a chain)."""
        run = self.run
        nxt = run.successors.get(self.key)
        if nxt is None or nxt in run.steps or nxt in run.completed:
            return ()
        return ((nxt, 1),)

    def failed(self, attempt: int, error: JidoError, delay: float | None) -> None:
        run = self.run
        now = time.time()
        run.write(
            "attempt_failed",
            run._store.attempt_failed,
            run.run_id,
            self.key,
            attempt,
            at=now,
            error=stored_error(error),
            retry_at=None if delay is None else now + delay,
            stopped=error.details.get("stopped"),
            stop=error.details.get("stop"),
        )
        self._checkpoint("attempt_failed")

    def concluded(self, error: JidoError, attempts: int) -> None:
        if self.key == SINGLE_STEP:
            self.run.finish_error(error)
            self._checkpoint("run_failed")

    def _checkpoint(self, op: str) -> None:
        if self.tracker is not None:
            self.tracker.checkpoint(op, self.key)


def unstorable(exc: ValidationError) -> JidoError:
    """The error a run fails with when a result cannot be stored as JSON."""
    return ExecutionError(
        f"the result could not be recorded: a durable run stores results as JSON ({exc.message})",
        details=dict(exc.details),
        retryable=False,
    )


def stored_error(error: BaseException) -> dict[str, Any]:
    """An error's JSON form as the store keeps it: secrets masked as telemetry masks them.

    Its message (and its causes') has ``key=value`` secrets and credentials masked; values
    under secret keys in its details are masked. Nothing is truncated.
    """
    return _masked(error_to_json(error))


def _masked(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    out["message"] = redact_text(str(data.get("message", "")), limit=_NO_LIMIT)
    out["details"] = _mask(data.get("details") or {})
    cause = data.get("cause")
    if isinstance(cause, dict):
        out["cause"] = _masked(cause)
    return out


_NO_LIMIT = 1 << 62


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value, limit=_NO_LIMIT)
    if isinstance(value, dict):
        return {k: MASK if is_secret_key(k) else _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value
