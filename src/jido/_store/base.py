"""The :class:`Store` interface both backends implement, and the row decoding they share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

from jido._store.codec import decode
from jido._store.records import (
    AttemptRow,
    ChangePage,
    Durability,
    NewRun,
    RunHistory,
    RunPage,
    RunRow,
    Status,
    summarize_steps,
)
from jido._store.shared import ErrorLike, encode_page_cursor

__all__ = ["ATTEMPT_COLUMNS", "RUN_COLUMNS", "ErrorLike", "Store", "attempt_row", "run_row"]


class Store(Protocol):
    """Where durable runs are journaled; the same for SQLite and Postgres.

    Every write is one transaction. Writes by a run's owner are guarded by ``owner``:
    they return ``False`` (and change nothing) once the caller no longer owns the run
    (another process claimed it after the lease expired, or it was cancelled or
    finished), and the caller must stop driving it. Times are epoch seconds.
    Methods are safe to call from many threads.
    """

    @property
    def dialect(self) -> Literal["sqlite", "postgresql"]:
        """Which backend this is."""
        ...

    @property
    def durability(self) -> Durability:
        """``"process"`` or ``"power"``: what a commit survives."""
        ...

    # identity
    def start_run(
        self,
        new: NewRun,
        *,
        owner: str,
        lease_until: float,
        attempt: tuple[str, int] | None = None,
    ) -> tuple[bool, RunRow]:
        """Record ``new`` as running and owned unless its run_id exists: ``(created, row)``.

        Atomic across processes: of several starts of one run_id exactly one creates it; the
        others get the recorded row, untouched. ``attempt`` (step key, number) is recorded as
        started at ``new.created_at`` in the same transaction when the run is created.
        """
        ...

    # journal writes by the owner
    def attempt_started(
        self, run_id: str, step_key: str, attempt: int, *, at: float, owner: str
    ) -> bool:
        """Record that an attempt of a step started (the run becomes ``running``)."""
        ...

    def attempt_failed(
        self,
        run_id: str,
        step_key: str,
        attempt: int,
        *,
        at: float,
        error: ErrorLike,
        owner: str,
        retry_at: float | None = None,
        stopped: bool | None = None,
        stop: str | None = None,
    ) -> bool:
        """Record a failed attempt; with ``retry_at`` the run is ``retrying`` until then."""
        ...

    def step_succeeded(
        self,
        run_id: str,
        step_key: str,
        attempt: int,
        *,
        at: float,
        result: Any,
        owner: str,
        start_next: Sequence[tuple[str, int]] = (),
    ) -> bool:
        """Record a step's result with its attempt's end: the hot path, one transaction.

        ``start_next`` lists the attempts (step key, number) that start now, recorded in the
        same transaction: a chain journals each completed step with one commit (one round
        trip on Postgres) by starting the next step here instead of with
        :meth:`attempt_started`.
        """
        ...

    def finish_run(
        self,
        run_id: str,
        *,
        owner: str,
        status: Literal["succeeded", "failed", "cancelled"],
        at: float,
        result: Any = None,
        error: ErrorLike | None = None,
        attempt: tuple[str, int] | None = None,
    ) -> bool:
        """Record the run's outcome; only from an active status.

        ``attempt`` (step key, number) is the attempt that produced the outcome: it is
        closed in the same transaction (a single action's run then needs no separate
        :meth:`step_succeeded`). Other attempts still running are marked abandoned.
        """
        ...

    def needs_attention(
        self, run_id: str, *, reason: str, at: float, owner: str | None = None
    ) -> bool:
        """Park an unfinished run (no owner) until someone resumes it with :meth:`claim`."""
        ...

    # ownership
    def renew(self, owner: str, lease_until: float) -> list[str]:
        """Extend the lease of every active run of ``owner``; the ids with a cancel request."""
        ...

    def claim_orphans(
        self, owner: str, *, now: float, lease_until: float, limit: int = 100
    ) -> list[RunRow]:
        """Take over active runs whose lease expired (each goes to exactly one claimer)."""
        ...

    def claim(self, run_id: str, *, owner: str, now: float, lease_until: float) -> RunRow | None:
        """Resume one run (failed, needs_attention or orphaned) under ``owner``; else None."""
        ...

    def release(self, owner: str) -> int:
        """Expire the leases of ``owner``'s active runs (clean shutdown): how many."""
        ...

    # cancel
    def request_cancel(self, run_id: str, *, at: float) -> bool:
        """Ask for a run to be cancelled; an unowned one is cancelled at once."""
        ...

    def cancel_requested(self, owner: str) -> list[str]:
        """The active runs of ``owner`` with a pending cancel request."""
        ...

    def listen(self, callback: Callable[[str], None]) -> Callable[[], None] | None:
        """Call ``callback(run_id)`` on each cancel request as it happens; the closer.

        ``None`` where the backend cannot push (SQLite): poll :meth:`cancel_requested`.
        """
        ...

    # reads
    def get_run(self, run_id: str) -> RunRow | None:
        """The run, or ``None``."""
        ...

    def get_history(self, run_id: str) -> RunHistory | None:
        """The run with its steps and every attempt, or ``None``."""
        ...

    def list_runs(
        self,
        *,
        status: Status | Sequence[Status] | None = None,
        action: str | None = None,
        since: float | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RunPage:
        """Runs newest first (by ``created_at``), filtered, one keyset page at a time."""
        ...

    def changes(self, cursor: str | None = None, *, limit: int = 100) -> ChangePage:
        """Runs changed after ``cursor`` (from the start when None), oldest change first."""
        ...

    def change_cursor(self) -> str:
        """The position of the change feed now: ``changes`` from it returns what changes next.

        On Postgres it may also re-deliver changes that committed just before it (while
        another transaction was running); never does it skip one.
        """
        ...

    def counts(self) -> dict[Status, int]:
        """How many runs are in each status (every status present, zeros included)."""
        ...

    # maintenance
    def prune(self, older_than: float, *, batch: int = 1000) -> int:
        """Delete finished runs created before ``older_than`` (epoch), in batches: how many.

        Never an unfinished run (active or ``needs_attention``). On SQLite the run holding
        the largest ``seq`` is kept, so that the change feed never goes back.
        """
        ...

    def close(self) -> None:
        """Release connections and threads; idempotent."""
        ...


RUN_COLUMNS = (
    "run_id, seq, kind, action, status, definition, fingerprint, params, context, result, "
    "error, reason, owner, lease_until, cancel_requested_at, next_retry_at, "
    "(SELECT COUNT(*) FROM jido_attempts WHERE jido_attempts.run_id = jido_runs.run_id), "
    "recoveries, created_at, started_at, updated_at, finished_at"
)
ATTEMPT_COLUMNS = (
    "run_id, step_key, attempt, status, started_at, finished_at, result, error, stopped, "
    "stop, retry_at"
)


def run_row(r: Sequence[Any]) -> RunRow:
    """A :class:`RunRow` from a row selected as :data:`RUN_COLUMNS`."""
    return RunRow(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        decode(r[5]),
        r[6],
        decode(r[7]),
        decode(r[8]),
        decode(r[9]),
        decode(r[10]),
        r[11],
        r[12],
        r[13],
        r[14],
        r[15],
        r[16],
        r[17],
        r[18],
        r[19],
        r[20],
        r[21],
    )


def attempt_row(r: Sequence[Any]) -> AttemptRow:
    """An :class:`AttemptRow` from a row selected as :data:`ATTEMPT_COLUMNS`."""
    stopped = None if r[8] is None else bool(r[8])
    return AttemptRow(
        r[0], r[1], r[2], r[3], r[4], r[5], decode(r[6]), decode(r[7]), stopped, r[9], r[10]
    )


def history(run: RunRow, attempts: Sequence[Sequence[Any]]) -> RunHistory:
    """A :class:`RunHistory` from a run and its attempt rows (in the order they started)."""
    rows = tuple(attempt_row(a) for a in attempts)
    return RunHistory(run, summarize_steps(rows), rows)


def page(rows: Sequence[RunRow], limit: int) -> RunPage:
    """The page of ``limit`` rows out of ``limit + 1`` fetched, with the next cursor."""
    if len(rows) <= limit:
        return RunPage(tuple(rows), None)
    last = rows[limit - 1]
    return RunPage(tuple(rows[:limit]), encode_page_cursor(last.created_at, last.run_id))
