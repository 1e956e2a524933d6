"""``rt.runs``: see, wait for, cancel, resume and prune durable runs, from any process."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from jido._core.errors import ConfigError
from jido._durable.info import RunInfo, RunPage, run_info
from jido._run.ref import AsyncRef
from jido._store import STATUSES

if TYPE_CHECKING:
    from jido._durable.manager import Durable

__all__ = ["Runs"]


class Runs:
    """The durable runs in a runtime's store (``jido.Runtime(store=...).runs``).

    Every method reads or writes the store, so it sees the runs of every process that
    shares it, and works after a restart.

    Example:
        >>> import jido
        >>> @jido.action
        ... def add(value: int) -> dict:
        ...     return {"value": value + 1}
        >>> with jido.Runtime(store="sqlite:///:memory:") as rt:      # doctest: +SKIP
        ...     rt.run(add, {"value": 1}, run_id="order-42")
        ...     rt.runs.get("order-42").status
        {'value': 2}
        'succeeded'
    """

    __slots__ = ("_durable",)

    def __init__(self, durable: Durable) -> None:
        self._durable = durable

    def get(self, run_id: str) -> RunInfo | None:
        """The run with its steps, or None for an unknown id."""
        history = self._durable.store.get_history(_id(run_id))
        return None if history is None else run_info(history.run, history)

    def list(
        self,
        *,
        status: str | Sequence[str] | None = None,
        action: str | None = None,
        since: datetime | timedelta | float | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RunPage:
        """Runs newest first, one page at a time (pass the page's ``cursor`` for the next).

        Args:
            status: one status or several (``"failed"``, ``["retrying", "needs_attention"]``).
            action: only runs of this action (``"chain"``/``"plan"`` for those).
            since: only runs created at or after this time (a datetime, epoch seconds, or a
                timedelta meaning "within the last ...").
            limit: items per page (1 to 1000).
            cursor: the ``cursor`` of the previous page.
        """
        _check_statuses(status)
        page = self._durable.store.list_runs(
            status=status,  # type: ignore[arg-type]
            action=action,
            since=_epoch(since),
            limit=limit,
            cursor=cursor,
        )
        return RunPage(tuple(run_info(row) for row in page.items), page.cursor)

    def wait(self, run_id: str, timeout: float | None = None) -> Any:
        """The run's result, or its error raised; ``jido.TimeoutError`` after ``timeout`` s.

        A timeout does not cancel the run: it goes on. Waiting never takes a run over:
        a run whose owner died is waited for until a process resumes it
        (``rt.recover()``, ``rt.runs.resume``).
        """
        return self._durable.wait(_id(run_id), timeout)

    def cancel(self, run_id: str) -> bool:
        """Cancel the run wherever it runs: its running step is stopped (as ``jido.cancel``).

        Returns False when it had already finished.
        """
        return self._durable.cancel(_id(run_id))

    def resume(self, run_id: str) -> AsyncRef:
        """Drive a failed, ``needs_attention`` or orphaned run again, in this process.

        Completed steps keep their results; the step that failed or was running runs again.
        """
        return self._durable.resume(_id(run_id))

    def prune(self, older_than: float | timedelta) -> int:
        """Delete finished runs that finished more than ``older_than`` ago (seconds or a
        timedelta); unfinished runs are never deleted. Returns how many were deleted."""
        if isinstance(older_than, timedelta):
            seconds = older_than.total_seconds()
        elif isinstance(older_than, int | float) and not isinstance(older_than, bool):
            seconds = float(older_than)
        else:
            raise ConfigError(f"older_than must be seconds or a timedelta, got {older_than!r}")
        if not seconds >= 0:
            raise ConfigError(f"older_than must be >= 0, got {older_than!r}")
        return self._durable.store.prune(time.time() - seconds)


def _id(run_id: object) -> str:
    if not isinstance(run_id, str) or not run_id:
        raise ConfigError(f"a run_id is a non-empty string, got {type(run_id).__name__}")
    return run_id


def _check_statuses(status: object) -> None:
    wanted = [status] if isinstance(status, str) else list(status or ())  # type: ignore[call-overload]
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown:
        raise ConfigError(f"unknown status {unknown[0]!r}: one of {', '.join(STATUSES)}")


def _epoch(since: datetime | timedelta | float | None) -> float | None:
    if since is None:
        return None
    if isinstance(since, datetime):
        return since.timestamp()
    if isinstance(since, timedelta):
        return time.time() - since.total_seconds()
    if isinstance(since, int | float) and not isinstance(since, bool):
        return float(since)
    raise ConfigError(f"since must be a datetime, a timedelta or epoch seconds, got {since!r}")
