"""How ``jido runs`` shows durable runs: JSON documents for scripts, rich tables for people.

Everything here is a pure function of store rows (and the current time): no I/O, so the
commands in :mod:`jido._cli.runs` stay thin. Rich is imported by the functions that build
renderables only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jido._store import ACTIVE, AttemptRow, RunHistory, RunRow, StepRow

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

__all__ = [
    "STYLE",
    "history_doc",
    "history_view",
    "run_doc",
    "runs_table",
    "step_actions",
    "watch_view",
]

STYLE = {
    "queued": "dim",
    "running": "cyan",
    "retrying": "yellow",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "bright_black",
    "needs_attention": "bold magenta",
    "abandoned": "magenta",
}


# -- JSON documents ------------------------------------------------------------------------------
def iso(epoch: float | None) -> str | None:
    """An epoch time as ISO 8601 in UTC (``None`` stays ``None``)."""
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def run_doc(row: RunRow) -> dict[str, Any]:
    """A run as a JSON document (the fields of ``jido.RunInfo`` plus the journal's own)."""
    return {
        "run_id": row.run_id,
        "seq": row.seq,
        "kind": row.kind,
        "action": row.action,
        "status": row.status,
        "attempts": row.attempts,
        "recoveries": row.recoveries,
        "params": row.params,
        "result": row.result,
        "error": row.error,
        "reason": row.reason,
        "owner": row.owner if row.status in ACTIVE else None,
        "created_at": iso(row.created_at),
        "started_at": iso(row.started_at),
        "updated_at": iso(row.updated_at),
        "finished_at": iso(row.finished_at),
        "next_retry_at": iso(row.next_retry_at),
        "cancel_requested_at": iso(row.cancel_requested_at),
        "lease_until": iso(row.lease_until) if row.status in ACTIVE else None,
    }


def history_doc(history: RunHistory) -> dict[str, Any]:
    """A run with its steps and every attempt, as one JSON document."""
    actions = step_actions(history.run)
    return {
        **run_doc(history.run),
        "steps": [_step_doc(step, actions.get(step.key)) for step in history.steps],
        "attempts": [_attempt_doc(a) for a in history.attempts],
    }


def _step_doc(step: StepRow, action: str | None) -> dict[str, Any]:
    return {
        "key": step.key,
        "action": action,
        "status": step.status,
        "attempts": step.attempts,
        "started_at": iso(step.started_at),
        "finished_at": iso(step.finished_at),
        "next_retry_at": iso(step.next_retry_at),
        "result": step.result,
        "error": step.error,
    }


def _attempt_doc(a: AttemptRow) -> dict[str, Any]:
    return {
        "step": a.step_key,
        "attempt": a.attempt,
        "status": a.status,
        "started_at": iso(a.started_at),
        "finished_at": iso(a.finished_at),
        "duration": None if a.finished_at is None else a.finished_at - a.started_at,
        "retry_at": iso(a.retry_at),
        "backoff": _backoff(a),
        "stopped": a.stopped,
        "stop": a.stop,
        "error": a.error,
    }


def step_actions(row: RunRow) -> dict[str, str]:
    """Which action each step key runs, read from the run's recorded definition."""
    definition = row.definition if isinstance(row.definition, Mapping) else {}
    if row.kind == "action":
        entry = definition.get("action")
        return {"": str(entry.get("action", row.action))} if isinstance(entry, Mapping) else {}
    steps = definition.get("steps")
    pairs: Iterable[tuple[object, object]]
    if isinstance(steps, Mapping):
        pairs = steps.items()
    elif isinstance(steps, list):
        pairs = enumerate(steps)
    else:
        return {}
    return {str(k): str(v.get("action")) for k, v in pairs if isinstance(v, Mapping)}


def _backoff(a: AttemptRow) -> float | None:
    if a.retry_at is None or a.finished_at is None:
        return None
    return max(0.0, a.retry_at - a.finished_at)


# -- text ----------------------------------------------------------------------------------------
def secs(value: float | None) -> str:
    """A duration for people: ``0.012s``, ``3.4s``, ``2m05s``, ``3h12m``, ``2d4h``."""
    if value is None:
        return "-"
    if value < 10:
        return f"{value:.3f}s"
    if value < 60:
        return f"{value:.1f}s"
    minutes, seconds = divmod(int(value), 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h"


def ago(epoch: float, now: float) -> str:
    """How long ago ``epoch`` was: ``4s ago``, ``3m ago``, ``2h ago``, ``5d ago``."""
    delta = max(0.0, now - epoch)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if delta >= size:
            return f"{int(delta // size)}{unit} ago"
    return f"{int(delta)}s ago"


def clock(epoch: float | None, date: bool = False) -> str:
    """A local time: ``04:24:48.091`` (with the date when ``date``)."""
    if epoch is None:
        return "-"
    moment = datetime.fromtimestamp(epoch)
    text = moment.strftime("%Y-%m-%d %H:%M:%S.%f" if date else "%H:%M:%S.%f")
    return text[:-3]


def error_line(error: Mapping[str, Any] | None, width: int = 80) -> str:
    """An error's type and message on one line, cut to ``width`` characters."""
    if not error:
        return ""
    message = " ".join(str(error.get("message", "")).split())
    text = f"{error.get('type', 'error')}: {message}"
    return text if len(text) <= width else text[: width - 3] + "..."


def note(row: RunRow, now: float) -> str:
    """What to know about a run at a glance: a retry due, an orphan, the error, the reason."""
    if row.cancel_requested_at is not None and row.status in ACTIVE:
        return "cancel requested"
    if row.status == "retrying" and row.next_retry_at is not None:
        due = row.next_retry_at - now
        return f"retry in {secs(due)}" if due > 0 else "retry due"
    if row.status in ACTIVE and row.lease_until is not None and row.lease_until < now:
        return f"orphaned: lease expired {ago(row.lease_until, now)} (rt.recover() resumes it)"
    if row.status in ACTIVE:
        return f"owner {row.owner}" if row.owner else ""
    if row.status == "needs_attention":
        return row.reason or ""
    return error_line(row.error, 70)


def took(row: RunRow, now: float) -> str:
    """How long the run took, or has been running."""
    start = row.started_at if row.started_at is not None else row.created_at
    end = row.finished_at if row.finished_at is not None else now
    if row.finished_at is None and row.status not in ACTIVE:
        return "-"
    return secs(end - start)


def compact(value: Any, width: int = 100) -> str:
    """A JSON value on one line, cut to ``width`` characters."""
    text = json.dumps(value, default=str, separators=(", ", ": "))
    return text if len(text) <= width else text[: width - 3] + "..."


def styled(status: str) -> str:
    """A status with its colour (rich markup)."""
    style = STYLE.get(status, "")
    return f"[{style}]{status}[/]" if style else status


# -- tables --------------------------------------------------------------------------------------
def runs_table(rows: Sequence[RunRow], now: float, title: str | None = None) -> Table:
    """One line per run: id, status, action, attempts, age, time taken and a note."""
    from rich.table import Table

    table = Table(title=title, box=None, pad_edge=False, show_edge=False, title_justify="left")
    table.add_column("run", no_wrap=True, overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("action", overflow="fold")
    table.add_column("attempts", justify="right")
    table.add_column("created", justify="right", no_wrap=True)
    table.add_column("took", justify="right", no_wrap=True)
    table.add_column("note", overflow="fold")
    for row in rows:
        table.add_row(
            row.run_id,
            styled(row.status),
            _label(row),
            str(row.attempts),
            ago(row.created_at, now),
            took(row, now),
            note(row, now),
        )
    return table


def _label(row: RunRow) -> str:
    if row.kind in ("action", row.action):
        return row.action
    return f"{row.kind} {row.action}"


def history_view(history: RunHistory, now: float) -> RenderableType:
    """The whole run: its header, its steps and every attempt."""
    from rich.console import Group

    parts: list[RenderableType] = [_header(history.run, now)]
    if history.steps:
        parts.append(_steps(history, now))
    if history.attempts:
        parts.append(_attempts(history.attempts, now))
    return Group(*parts)


def _header(row: RunRow, now: float) -> Table:
    from rich.markup import escape
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.title = f"run [bold]{escape(row.run_id)}[/]  {row.kind}  {styled(row.status)}"
    grid.title_justify = "left"
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in _facts(row, now):
        grid.add_row(name, escape(value))
    return grid


def _facts(row: RunRow, now: float) -> list[tuple[str, str]]:
    facts = [
        ("action", row.action),
        ("created", f"{clock(row.created_at, True)} ({ago(row.created_at, now)})"),
        ("started", clock(row.started_at, True)),
        ("finished", clock(row.finished_at, True)),
        ("took", took(row, now)),
        ("attempts", str(row.attempts)),
        ("params", compact(row.params)),
    ]
    if row.recoveries:
        facts.append(("recovered", f"{row.recoveries} time(s)"))
    if row.status in ACTIVE:
        lease = "-" if row.lease_until is None else clock(row.lease_until, True)
        facts.append(("owner", f"{row.owner or '-'} (lease until {lease})"))
    state = note(row, now) if row.status in ACTIVE else ""
    if state and not state.startswith("owner"):
        facts.append(("note", state))
    if row.status == "succeeded":
        facts.append(("result", compact(row.result, 400)))
    if row.error:
        facts.append(("error", error_line(row.error, 400)))
        details = row.error.get("details")
        if details:
            facts.append(("details", compact(details, 400)))
    if row.reason:
        facts.append(("needs attention", row.reason))
    return facts


def _steps(history: RunHistory, now: float) -> Table:
    from rich.table import Table

    actions = step_actions(history.run)
    table = Table(title="steps", box=None, pad_edge=False, title_justify="left")
    for column in ("step", "action", "status", "attempts", "started", "took"):
        table.add_column(column, justify="right" if column == "attempts" else "left")
    last_end = {a.step_key: a.finished_at for a in history.attempts}
    for step in history.steps:
        status, end = step.status, step.finished_at
        if status == "retrying" and history.run.status not in ACTIVE:
            status, end = "failed", last_end.get(step.key)  # no retry: the run ended
        table.add_row(
            step.key if step.key else "(action)",
            actions.get(step.key, "?"),
            styled(status),
            str(step.attempts),
            clock(step.started_at),
            secs((now if end is None else end) - step.started_at),
        )
    return table


def _attempts(attempts: Sequence[AttemptRow], now: float) -> RenderableType:
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="attempts", box=None, pad_edge=False, title_justify="left")
    for column in ("step", "#", "outcome", "started", "ended", "took", "backoff", "stop"):
        table.add_column(column, no_wrap=column != "stop")
    errors: list[str] = []
    for a in attempts:
        step = a.step_key if a.step_key else "(action)"
        end = a.finished_at if a.finished_at is not None else now
        stop = "-" if a.stopped is None else ("stopped" if a.stopped else "not stopped")
        table.add_row(
            step,
            str(a.attempt),
            styled(a.status),
            clock(a.started_at),
            clock(a.finished_at),
            secs(end - a.started_at),
            secs(_backoff(a)),
            stop if a.stop is None else f"{stop} ({a.stop})",
        )
        if a.error:
            errors.append(f"  {escape(step)} #{a.attempt}: {escape(error_line(a.error, 400))}")
    if not errors:
        return table
    return Group(table, "[dim]errors[/]", *errors)


def watch_view(
    rows: Sequence[RunRow], counts: Mapping[str, int], now: float, where: str
) -> RenderableType:
    """The live view: counts by status, then the runs (active ones first)."""
    from rich.console import Group
    from rich.text import Text

    summary = "  ".join(f"{styled(s)} {n}" for s, n in counts.items() if n)
    head = Text.from_markup(f"[bold]{where}[/]  {summary or 'no runs'}  [dim](ctrl-C to stop)[/]")
    return Group(head, runs_table(rows, now))
