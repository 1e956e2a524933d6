"""The store's records: frozen rows read back from the journal, and a new run to record.

Times are wall-clock epoch seconds (``float``). JSON columns are decoded: ``params``,
``context``, ``definition`` and ``result`` are plain JSON values, ``error`` is the JSON
form of a :class:`jido.JidoError` (see :mod:`jido._store.codec`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from jido._core.errors import ConfigError

__all__ = [
    "ACTIVE",
    "SINGLE_STEP",
    "STATUSES",
    "TERMINAL",
    "UNFINISHED",
    "AttemptRow",
    "AttemptStatus",
    "ChangePage",
    "Durability",
    "Kind",
    "NewRun",
    "RunHistory",
    "RunPage",
    "RunRow",
    "Status",
    "StepRow",
]

Status = Literal[
    "queued", "running", "retrying", "succeeded", "failed", "cancelled", "needs_attention"
]
Kind = Literal["action", "chain", "plan"]
AttemptStatus = Literal["running", "succeeded", "failed", "abandoned"]
Durability = Literal["process", "power"]

STATUSES: tuple[Status, ...] = (
    "queued",
    "running",
    "retrying",
    "succeeded",
    "failed",
    "cancelled",
    "needs_attention",
)
ACTIVE: tuple[Status, ...] = ("queued", "running", "retrying")
"""Driven by an owner under a lease; claimable once the lease expires."""
TERMINAL: tuple[Status, ...] = ("succeeded", "failed", "cancelled")
"""Finished: nothing drives them; ``failed`` may still be resumed by an explicit claim."""
UNFINISHED: tuple[Status, ...] = (*ACTIVE, "needs_attention")
"""Never pruned."""

SINGLE_STEP = ""
"""The step key of a single-action run (its only step)."""

_KINDS = ("action", "chain", "plan")
MAX_ID_LENGTH = 255


@dataclass(frozen=True, slots=True)
class NewRun:
    """A run to record with :meth:`Store.start_run`.

    Attributes:
        run_id: the run's identity and idempotency key (1 to 255 characters).
        kind: ``"action"``, ``"chain"`` or ``"plan"``.
        action: the display name (the action's name, or the chain's / plan's).
        definition: what is needed to run it again: action references
            (``module:qualname``), versions, steps, dependencies, options (JSON).
        fingerprint: a digest of ``definition``, compared on resume.
        params: the run's input (JSON).
        context: the JSON-encodable part of the context.
        created_at: epoch seconds.
    """

    run_id: str
    kind: Kind
    action: str
    definition: Any
    fingerprint: str
    params: Any
    context: Any
    created_at: float

    def __post_init__(self) -> None:
        check_run_id(self.run_id)
        if self.kind not in _KINDS:
            raise ConfigError(f"run kind must be one of {_KINDS}, got {self.kind!r}")


def check_run_id(run_id: object) -> str:
    """``run_id`` if it is a non-empty string of at most 255 characters, else ConfigError."""
    if not isinstance(run_id, str) or not run_id or len(run_id) > MAX_ID_LENGTH:
        raise ConfigError(
            f"a run_id is a string of 1 to {MAX_ID_LENGTH} characters, got {run_id!r}"
        )
    return run_id


@dataclass(frozen=True, slots=True)
class RunRow:
    """One run as recorded.

    ``seq`` is the run's version: every state change gives the run a new, larger ``seq``
    (lease renewals do not). ``attempts`` counts every attempt of every step;
    ``recoveries`` counts the claims that resumed it after its owner was gone or it failed.
    ``cancel_requested_at`` is set while a cancel waits for the owner to stop the run.
    """

    run_id: str
    seq: int
    kind: Kind
    action: str
    status: Status
    definition: Any
    fingerprint: str
    params: Any
    context: Any
    result: Any
    error: dict[str, Any] | None
    reason: str | None
    owner: str | None
    lease_until: float | None
    cancel_requested_at: float | None
    next_retry_at: float | None
    attempts: int
    recoveries: int
    created_at: float
    started_at: float | None
    updated_at: float
    finished_at: float | None

    @property
    def finished(self) -> bool:
        """Whether the run reached a terminal status."""
        return self.status in TERMINAL


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """One attempt of one step: when it started and ended, how, and the backoff after it.

    ``status`` is ``"abandoned"`` for an attempt whose owner disappeared while it ran.
    ``stopped``/``stop`` say whether a timed-out or cancelled attempt was confirmed
    stopped and how. ``retry_at`` is when the next attempt was due (``None``: no retry).
    """

    run_id: str
    step_key: str
    attempt: int
    status: AttemptStatus
    started_at: float
    finished_at: float | None
    result: Any
    error: dict[str, Any] | None
    stopped: bool | None
    stop: str | None
    retry_at: float | None


@dataclass(frozen=True, slots=True)
class StepRow:
    """One step, summarised from its attempts.

    ``status`` is ``"running"``, ``"retrying"`` (its last attempt failed and a retry is
    due at ``next_retry_at``), ``"succeeded"`` (``result`` holds its result), ``"failed"``
    or ``"abandoned"`` (its last attempt's owner disappeared; it will run again).
    """

    key: str
    status: str
    attempts: int
    started_at: float
    finished_at: float | None
    result: Any
    error: dict[str, Any] | None
    next_retry_at: float | None


@dataclass(frozen=True, slots=True)
class RunHistory:
    """A run with its steps and every attempt, read in one consistent snapshot."""

    run: RunRow
    steps: tuple[StepRow, ...]
    attempts: tuple[AttemptRow, ...]

    def completed(self) -> dict[str, Any]:
        """The recorded result of every succeeded step, by step key (what a resume reuses)."""
        return {s.key: s.result for s in self.steps if s.status == "succeeded"}


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of :meth:`Store.list_runs`, newest first; ``cursor`` is ``None`` on the last."""

    items: tuple[RunRow, ...]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class ChangePage:
    """Runs changed after a position, oldest change first, and the position to ask from next.

    ``cursor`` is opaque, never ``None``, and usable as a Server-Sent Events id.
    """

    items: tuple[RunRow, ...]
    cursor: str


def summarize_steps(attempts: tuple[AttemptRow, ...]) -> tuple[StepRow, ...]:
    """Fold attempts (in the order they started) into one row per step, in that order."""
    by_key: dict[str, list[AttemptRow]] = {}
    for a in attempts:
        by_key.setdefault(a.step_key, []).append(a)
    return tuple(_step(key, rows) for key, rows in by_key.items())


def _step(key: str, rows: list[AttemptRow]) -> StepRow:
    rows = sorted(rows, key=lambda a: a.attempt)
    last = rows[-1]
    status: str = last.status
    if last.status == "failed" and last.retry_at is not None:
        status = "retrying"
    done = last.status in ("succeeded", "failed") and status != "retrying"
    return StepRow(
        key=key,
        status=status,
        attempts=len(rows),
        started_at=rows[0].started_at,
        finished_at=last.finished_at if done else None,
        result=last.result if last.status == "succeeded" else None,
        error=last.error,
        next_retry_at=last.retry_at if status == "retrying" else None,
    )
