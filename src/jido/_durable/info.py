"""The records ``rt.runs`` returns: a run, its steps, a page of runs. Frozen, plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jido._store import RunHistory, RunRow, StepRow

__all__ = ["RunInfo", "RunPage", "StepInfo", "run_info"]


@dataclass(frozen=True, slots=True)
class StepInfo:
    """One step of a durable run (a single action's run has one step, key ``""``).

    Attributes:
        key: the step's key: ``""`` for a single action, the 0-based index of a chain's
            step as a string (``"0"``, ``"1"``...), a plan step's name.
        status: ``running``, ``retrying``, ``succeeded``, ``failed`` or ``abandoned``
            (its process died while it ran; it runs again on resume).
        attempts: how many attempts it made.
        started_at: when its first attempt started.
        finished_at: when it finished (None while it runs or retries).
    """

    key: str
    status: str
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A durable run as recorded in the store (``rt.runs.get``, ``rt.runs.list``).

    Attributes:
        run_id: the run's id (its idempotency key).
        status: ``queued``, ``running``, ``retrying``, ``succeeded``, ``failed``,
            ``cancelled`` or ``needs_attention``.
        action: the action's name (``chain`` or ``plan`` for those).
        params: the params it was started with.
        attempts: attempts made, over every step.
        steps: its steps, in the order they started (empty in ``rt.runs.list`` pages; ask
            ``rt.runs.get`` for them).
        result: the result once it succeeded, else None.
        error: the error's JSON form (``type``, ``message``, ``details``, ``retryable``,
            ``retry_after``, ``cause``) once it failed or was cancelled, else None.
        reason: why it needs attention, else None.
        owner: the process driving it (``host:pid:id``), None when nobody does.
        created_at: when it was first started.
        started_at: when its first attempt started.
        finished_at: when it finished.
    """

    run_id: str
    status: str
    action: str
    params: Any
    attempts: int
    steps: tuple[StepInfo, ...]
    result: Any
    error: dict[str, Any] | None
    reason: str | None
    owner: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    kind: str = "action"


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of ``rt.runs.list()``: ``items`` newest first, ``cursor`` None on the last page."""

    items: tuple[RunInfo, ...]
    cursor: str | None


def _time(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _step(step: StepRow) -> StepInfo:
    return StepInfo(
        step.key, step.status, step.attempts, _time(step.started_at), _time(step.finished_at)
    )


def run_info(row: RunRow, history: RunHistory | None = None) -> RunInfo:
    """A :class:`RunInfo` from a stored run (with its steps when ``history`` is given)."""
    steps = tuple(_step(s) for s in history.steps) if history is not None else ()
    created = _time(row.created_at)
    assert created is not None
    return RunInfo(
        run_id=row.run_id,
        status=row.status,
        action=row.action,
        params=row.params,
        attempts=row.attempts,
        steps=steps,
        result=row.result,
        error=row.error,
        reason=row.reason,
        owner=row.owner if row.status not in ("succeeded", "failed", "cancelled") else None,
        created_at=created,
        started_at=_time(row.started_at),
        finished_at=_time(row.finished_at),
        kind=row.kind,
    )
