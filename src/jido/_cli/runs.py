"""``jido runs``: list, show, watch, cancel, resume and prune the durable runs of a store.

Reads (``list``, ``show``, ``watch``) open the store directly: they need the journal's
attempts and change feed, and no runtime. Writes go through ``jido.Runtime(store=...)``
and ``rt.runs`` as an application would. Bad input (a bad URL, an unknown run, a bad
duration or status) is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jido._cli.runs_input import (
    DEFAULT_STORE,
    BadInput,
    check_limit,
    opened_runtime,
    opened_store,
    parse_duration,
    parse_since,
    parse_statuses,
    store_url,
)
from jido._cli.runs_view import (
    error_line,
    history_doc,
    history_view,
    run_doc,
    runs_table,
    secs,
    styled,
    watch_view,
)
from jido._core.errors import (
    ConfigError,
    InvalidAsyncRefError,
    JidoError,
    ValidationError,
)
from jido._store import (
    ACTIVE,
    STATUSES,
    TERMINAL,
    AttemptRow,
    RunRow,
    Store,
)

if TYPE_CHECKING:
    from rich.console import Console


__all__ = ["add_parser"]

Command = Callable[["Console", argparse.Namespace], int]


# -- the command line ----------------------------------------------------------------------------
def add_parser(sub: Any) -> None:
    """Add ``jido runs`` and its subcommands to the ``jido`` parser's subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", help=f"store URL (default: $JIDO_STORE, then {DEFAULT_STORE})")
    common.add_argument("--json", action="store_true", help="print JSON for scripts")
    runs = sub.add_parser(
        "runs", help="see and manage durable runs: list, show, watch, cancel, resume, prune"
    )
    cmds = runs.add_subparsers(required=True, metavar="COMMAND")
    ls = cmds.add_parser("list", parents=[common], help="runs, newest first, a page at a time")
    _filters(ls, limit=50)
    ls.add_argument("--since", help="created within (30m, 1h, 7d) or since an ISO date/time")
    ls.add_argument("--cursor", help="the next-page cursor a previous list printed")
    ls.set_defaults(command=_guard(_list))
    show = cmds.add_parser("show", parents=[common], help="a run, its steps, every attempt")
    show.add_argument("run_id")
    show.set_defaults(command=_guard(_show))
    watch = cmds.add_parser("watch", parents=[common], help="a live table (ctrl-C to stop)")
    _filters(watch, limit=30)
    watch.add_argument("--interval", type=float, default=0.25, help="seconds between polls")
    watch.set_defaults(command=_guard(_watch))
    cancel = cmds.add_parser("cancel", parents=[common], help="cancel a run, wherever it runs")
    cancel.add_argument("run_id")
    cancel.add_argument(
        "--wait", type=float, default=5.0, help="seconds to wait for its owner to stop it"
    )
    cancel.set_defaults(command=_guard(_cancel))
    resume = cmds.add_parser(
        "resume", parents=[common], help="drive a run again here, with this directory's code"
    )
    resume.add_argument("run_id")
    resume.set_defaults(command=_guard(_resume))
    prune = cmds.add_parser("prune", parents=[common], help="delete old finished runs")
    prune.add_argument(
        "--older-than", required=True, help="age of the runs to delete: 30s, 15m, 12h, 7d"
    )
    prune.set_defaults(command=_guard(_prune))


def _filters(parser: argparse.ArgumentParser, limit: int) -> None:
    parser.add_argument(
        "--status",
        action="append",
        help=f"repeatable or comma-separated: {', '.join(STATUSES)}, active",
    )
    parser.add_argument("--action", help="only runs of this action (chain, plan for those)")
    parser.add_argument("--limit", type=int, default=limit, help=f"rows (default {limit})")


def _guard(command: Command) -> Command:
    """The command with its errors as one line on stderr and an exit status."""

    def guarded(console: Console, args: argparse.Namespace) -> int:
        where = f"jido runs {command.__name__.lstrip('_')}"
        try:
            return command(console, args)
        except BadInput as exc:
            return _fail(where, str(exc), exc.code)
        except (ConfigError, InvalidAsyncRefError, ValidationError) as exc:
            return _fail(where, exc.message, 2)
        except JidoError as exc:
            return _fail(where, f"{exc.type}: {exc.message}", 1)
        except OSError as exc:
            return _fail(where, str(exc), 1)
        except KeyboardInterrupt:
            return _fail(where, "interrupted", 130)

    guarded.__name__ = command.__name__
    return guarded


def _fail(where: str, message: str, code: int) -> int:
    print(f"{where}: {' '.join(message.split())}", file=sys.stderr)
    return code


def _unknown(run_id: str, args: argparse.Namespace) -> BadInput:
    return BadInput(f"no run {run_id!r} in the store {store_url(args)}")


def _dump(doc: Any) -> None:
    print(json.dumps(doc, indent=2, default=str))


# -- list, show ----------------------------------------------------------------------------------
def _list(console: Console, args: argparse.Namespace) -> int:
    check_limit(args.limit)
    statuses = parse_statuses(args.status)
    since = None if args.since is None else parse_since(args.since, time.time())
    with opened_store(args) as store:
        page = store.list_runs(
            status=statuses or None,  # type: ignore[arg-type]
            action=args.action,
            since=since,
            limit=args.limit,
            cursor=args.cursor,
        )
    if args.json:
        _dump({"items": [run_doc(row) for row in page.items], "cursor": page.cursor})
        return 0
    if page.items:
        console.print(runs_table(page.items, time.time()))
    else:
        console.print("no runs" if not (statuses or args.action or since) else "no runs match")
    if page.cursor is not None:
        console.print(f"[dim]next page: --cursor {page.cursor}[/]", soft_wrap=True)
    return 0


def _show(console: Console, args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        history = store.get_history(args.run_id)
    if history is None:
        raise _unknown(args.run_id, args)
    if args.json:
        _dump(history_doc(history))
    else:
        console.print(history_view(history, time.time()))
    return 0


# -- watch ---------------------------------------------------------------------------------------
class _Feed:
    """The runs on view, kept current from the store's change feed."""

    def __init__(self, store: Store, statuses: tuple[str, ...], action: str | None, limit: int):
        self.store = store
        self.statuses = statuses
        self.action = action
        self.limit = limit
        self.cursor = store.change_cursor()
        page = store.list_runs(status=statuses or None, action=action, limit=limit)  # type: ignore[arg-type]
        self.rows = {row.run_id: row for row in reversed(page.items)}

    def wanted(self, row: RunRow) -> bool:
        return (not self.statuses or row.status in self.statuses) and (
            self.action is None or row.action == self.action
        )

    def poll(self) -> list[RunRow]:
        """The runs changed since the last poll (those that pass the filters)."""
        changed: list[RunRow] = []
        while True:
            page = self.store.changes(self.cursor, limit=500)
            self.cursor = page.cursor
            for row in page.items:
                if self.wanted(row):
                    self.rows[row.run_id] = row
                    changed.append(row)
                else:
                    self.rows.pop(row.run_id, None)
            if len(page.items) < 500:
                self._trim()
                return changed

    def _trim(self) -> None:
        """Forget finished runs that can no longer be on view (a long watch stays small)."""
        if len(self.rows) > 4 * self.limit:
            keep = {r.run_id for r in self.visible()}
            self.rows = {k: r for k, r in self.rows.items() if k in keep or r.status in ACTIVE}

    def visible(self) -> list[RunRow]:
        """Active runs first (newest first), then the most recently changed others."""
        rows = sorted(self.rows.values(), key=lambda r: (r.status in ACTIVE, r.seq), reverse=True)
        return rows[: self.limit]


def _watch(console: Console, args: argparse.Namespace) -> int:
    check_limit(args.limit)
    statuses = parse_statuses(args.status)
    if not 0.01 <= args.interval <= 60:
        raise BadInput(f"--interval: expected 0.01 to 60 seconds, got {args.interval}")
    url = store_url(args)
    signal.signal(signal.SIGTERM, _interrupt)  # a kill stops it as ctrl-C does
    with opened_store(args) as store:
        try:
            feed = _Feed(store, statuses, args.action, args.limit)
            if args.json:
                _follow_json(feed, args.interval)
            else:
                _follow_live(console, feed, args.interval, str(url))
        except KeyboardInterrupt:
            pass
    return 0


def _counts(store: Store) -> dict[str, int]:
    return {str(status): n for status, n in store.counts().items()}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _follow_json(feed: _Feed, interval: float) -> None:
    def emit(rows: Sequence[RunRow]) -> None:
        for row in rows:
            print(json.dumps(run_doc(row), default=str), flush=True)

    emit(list(feed.rows.values()))
    while True:
        emit(feed.poll())
        time.sleep(interval)


def _follow_live(console: Console, feed: _Feed, interval: float, where: str) -> None:
    from rich.live import Live

    counts: dict[str, int] = _counts(feed.store)
    counted, stale = time.monotonic(), False
    with Live(console=console, refresh_per_second=4, auto_refresh=False) as live:
        while True:
            stale = bool(feed.poll()) or stale
            if stale and time.monotonic() - counted > 1.0:  # counts scan the store: not each poll
                counts, counted, stale = _counts(feed.store), time.monotonic(), False
            live.update(watch_view(feed.visible(), counts, time.time(), where), refresh=True)
            time.sleep(interval)


# -- cancel, resume, prune -----------------------------------------------------------------------
def _cancel(console: Console, args: argparse.Namespace) -> int:
    run_id = args.run_id
    with opened_runtime(args) as rt:
        info = rt.runs.get(run_id)
        if info is None:
            raise _unknown(run_id, args)
        if info.status in TERMINAL:
            return _said(console, args, _Cancel(run_id, "already_finished", info.status), 1)
        rt.runs.cancel(run_id)
        deadline = time.monotonic() + max(0.0, args.wait)
        while info.status not in TERMINAL and time.monotonic() < deadline:
            time.sleep(0.05)
            info = rt.runs.get(run_id) or info
    if info.status == "cancelled":
        return _said(console, args, _Cancel(run_id, "cancelled", info.status, _stopped(args)), 0)
    if info.status in TERMINAL:
        return _said(console, args, _Cancel(run_id, "finished", info.status), 1)
    return _said(console, args, _Cancel(run_id, "requested", info.status, owner=info.owner), 0)


@dataclass(frozen=True)
class _Cancel:
    run_id: str
    outcome: str
    status: str
    stopped: AttemptRow | None = None
    owner: str | None = None


_CANCEL_TEXT = {
    "already_finished": "run {id} had already finished ({status}): nothing to cancel",
    "cancelled": "run {id} cancelled",
    "finished": "run {id} finished ({status}) before the cancel reached it",
    "requested": "cancel of run {id} requested: it is still {status}; its owner {owner} stops "
    "it at its next lease renewal",
}


def _stopped(args: argparse.Namespace) -> AttemptRow | None:
    """The attempt the cancel stopped, if one was running."""
    with opened_store(args) as store:
        history = store.get_history(args.run_id)
    attempts = () if history is None else history.attempts
    last = max(attempts, key=lambda a: a.started_at, default=None)
    kind = (last.error or {}).get("type") if last is not None else None
    return last if kind == "cancelled" else None


def _said(console: Console, args: argparse.Namespace, what: _Cancel, code: int) -> int:
    step = what.stopped
    if args.json:
        doc: dict[str, Any] = {"run_id": what.run_id, "outcome": what.outcome}
        doc["status"] = what.status
        if step is not None:
            doc["stopped_step"] = {"step": step.step_key, "attempt": step.attempt}
            doc["stopped_step"].update(stopped=step.stopped, stop=step.stop)
        _dump(doc)
        return code
    from rich.markup import escape

    text = _CANCEL_TEXT[what.outcome].format(
        id=what.run_id, status=what.status, owner=what.owner or "-"
    )
    console.print(escape(text), soft_wrap=True)
    if step is not None:
        how = "stopped" if step.stopped else "NOT stopped (it may still be running)"
        name = f"step {step.step_key}" if step.step_key else "the action"
        console.print(
            f"  its running attempt ({escape(name)}, attempt {step.attempt}) was {how}"
            + (f": {escape(step.stop)}" if step.stop else "")
        )
    return code


def _resume(console: Console, args: argparse.Namespace) -> int:
    from rich.markup import escape

    run_id = args.run_id
    with opened_runtime(args) as rt:
        before = rt.runs.get(run_id)
        if before is None:
            raise _unknown(run_id, args)
        done = {s.key for s in before.steps if s.status == "succeeded"}
        rt.runs.resume(run_id)
        if not args.json:
            was = "orphaned" if before.status in ACTIVE else before.status
            console.print(f"resumed run {escape(run_id)} ({was}) in this process...")
        try:
            result, error = rt.runs.wait(run_id), None
        except JidoError as exc:
            result, error = None, exc
        except KeyboardInterrupt:
            rt.shutdown()
            raise BadInput(
                f"interrupted: run {run_id} was handed back unfinished; resume it again "
                "(jido runs resume) or let a runtime recover it (rt.recover())",
                130,
            ) from None
        after = rt.runs.get(run_id)
    assert after is not None
    ran = [s.key for s in after.steps if s.key not in done]
    if args.json:
        doc = {"run_id": run_id, "status": after.status, "result": result, "error": after.error}
        _dump({**doc, "reason": after.reason, "reused_steps": sorted(done), "ran_steps": ran})
    else:
        _resumed(console, after.status, run_id, len(done), len(ran), result, error)
    return 0 if error is None else 1


def _resumed(
    console: Console,
    status: str,
    run_id: str,
    reused: int,
    ran: int,
    result: Any,
    error: JidoError | None,
) -> None:
    from rich.markup import escape

    if status == "needs_attention" and error is not None:
        reason = escape(str(error.details.get("reason", error.message)))
        console.print(
            f"run {escape(run_id)} {styled(status)}: {reason}; fix the cause (the code in this "
            f"directory), then resume it again: jido runs resume {escape(run_id)}",
            soft_wrap=True,
        )
        return
    console.print(
        f"run {escape(run_id)} {styled(status)}: {reused} step(s) reused from the journal, "
        f"{ran} run here",
        soft_wrap=True,
    )
    if error is None:
        console.print(f"result: {escape(json.dumps(result, default=str))}", soft_wrap=True)
    else:
        console.print(escape(error_line(error.to_dict(), 400)), soft_wrap=True)


def _prune(console: Console, args: argparse.Namespace) -> int:
    seconds = parse_duration(args.older_than)
    with opened_runtime(args) as rt:
        deleted = rt.runs.prune(seconds)
    if args.json:
        _dump({"deleted": deleted, "older_than": seconds})
    else:
        console.print(f"deleted {deleted} finished run(s) older than {secs(seconds)}")
    return 0
