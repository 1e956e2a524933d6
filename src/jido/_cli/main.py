"""The ``jido`` command: ``jido demo``, ``jido run MODULE:ACTION`` and ``jido runs ...``.

Bad input (arguments, JSON, a module or action that cannot be found) is one line on
stderr and exit code 2; an action that fails prints its error as JSON and exits 1.
Rendering uses rich (``pip install "jido[cli]"``); it is imported only here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import jido
from jido._cli.args import UsageError, count, load_action, parse_object, seconds, version
from jido._cli.monitor import Monitor, RunState, Summary
from jido._cli.runs import add_parser as add_runs_parser
from jido._web import cli as web_cli
from jido.telemetry import attached

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

__all__ = ["main"]

_STYLE = {
    "running": "cyan",
    "retrying": "yellow",
    "done": "green",
    "failed": "red",
    "timed out": "magenta",
    "cancelled": "bright_black",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jido`` console script.

    Example:
        >>> main(["--version"])  # doctest: +SKIP
        jido 0.1.0
    """
    args = _parser().parse_args(argv)
    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:  # MODULE:NAME imports from here (python -m)
        sys.path.insert(0, here)
    if getattr(args, "plain_command", None) is not None:  # needs no rich (jido mcp serve)
        return int(args.plain_command(args))
    if args.command is web_cli.run:  # needs no rich
        return int(web_cli.run(None, args))
    try:
        from rich.console import Console
    except ImportError:
        print('jido: error: the jido CLI needs rich: pip install "jido[cli]"', file=sys.stderr)
        return 2
    try:
        code: int = args.command(Console(), args)
    except UsageError as exc:
        print(f"jido {args.name}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jido: interrupted", file=sys.stderr)
        return 130
    return code


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (``jido run: error: ...``) and exit code 2."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jido", description="Run jido actions.")
    parser.add_argument("--version", action="version", version=f"jido {version()}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    demo = sub.add_parser("demo", help="run real actions showing what jido guarantees")
    demo.add_argument("--batch", type=count(0), default=24, help="jobs in the live batch (0: none)")
    demo.set_defaults(command=_demo, name="demo")
    run = sub.add_parser("run", help="run an action: jido run package.module:action")
    run.add_argument("target", help="MODULE:ACTION, e.g. myapp.actions:send_email")
    run.add_argument("--params", default="{}", help="params as a JSON object")
    run.add_argument("--context", default="{}", help="context as a JSON object")
    run.add_argument("--timeout", type=seconds, help="seconds per attempt (0: no limit)")
    run.add_argument("--max-retries", type=count(0, 10_000), help="retries after the first")
    run.add_argument("--backoff", type=seconds, help="first retry delay in seconds")
    run.add_argument("--isolation", choices=("thread", "process"))
    run.add_argument(
        "--repeat", type=count(1, 100_000), default=1, help="run it N times concurrently"
    )
    run.set_defaults(command=_run, name="run")
    from jido._mcp.cli import add_parser as add_mcp_parser

    add_mcp_parser(sub)
    add_runs_parser(sub)
    web_cli.add_parser(sub)
    return parser


# -- jido demo -----------------------------------------------------------------------------------
def _demo(console: Console, args: argparse.Namespace) -> int:
    from jido._cli.demo import SCENARIOS, batch

    console.rule("[bold]jido demo[/]: real actions on the in-process runtime")
    for scenario in SCENARIOS:
        console.print(f"\n[bold]{scenario.title}[/]  [dim]{scenario.code}[/]")
        start = time.monotonic()
        try:
            result = scenario.play()
        except jido.JidoError as exc:
            _print_error(console, exc, time.monotonic() - start)
        else:
            console.print(f"  [green]ok[/] in {time.monotonic() - start:.3f}s -> {result}")
    if args.batch > 0:
        console.print()
        console.rule(f"[bold]{args.batch} jobs at once[/]: live status, then a summary")
        monitor = Monitor()
        with attached(monitor):
            _watch(console, monitor, batch(args.batch))
        console.print()
        _print_summary(console, monitor.summary())
    jido.shutdown()
    return 0


def _print_error(console: Console, exc: jido.JidoError, elapsed: float) -> None:
    console.print(
        f"  [red]{type(exc).__name__}[/] ({exc.type}) after {elapsed:.3f}s: {exc.message}"
    )
    shown = {
        k: exc.details[k]
        for k in ("attempts", "stopped", "stop", "reason", "field")
        if k in exc.details
    }
    if shown:
        console.print(f"  [dim]details: {shown}[/]")


# -- jido run ------------------------------------------------------------------------------------
def _run(console: Console, args: argparse.Namespace) -> int:
    params = parse_object("--params", args.params)
    context = parse_object("--context", args.context)
    action = load_action(args.target)
    options: dict[str, Any] = {
        k: v
        for k, v in (
            ("timeout", args.timeout),
            ("max_retries", args.max_retries),
            ("backoff", args.backoff),
            ("isolation", args.isolation),
        )
        if v is not None
    }
    if args.repeat == 1:
        try:
            result = jido.run(action, params, context, **options)
        except jido.JidoError as exc:
            console.print_json(json.dumps(exc.to_dict(), default=str))
            return 1
        console.print_json(json.dumps(result, default=str))
        return 0
    monitor = Monitor()
    with attached(monitor):
        refs = [jido.run_async(action, params, context, **options) for _ in range(args.repeat)]
        _watch(console, monitor, refs)
    console.print()
    summary = monitor.summary()
    _print_summary(console, summary)
    return 0 if summary.done == summary.total else 1


# -- live display --------------------------------------------------------------------------------
def _watch(console: Console, monitor: Monitor, refs: list[jido.AsyncRef]) -> None:
    from rich.live import Live

    with Live(_view(monitor, len(refs)), console=console, refresh_per_second=8) as live:
        while not all(ref.done() for ref in refs):
            time.sleep(0.1)
            live.update(_view(monitor, len(refs)))
        live.update(_view(monitor, len(refs)))


def _view(monitor: Monitor, total: int) -> RenderableType:
    from rich.console import Group
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    now = time.monotonic()
    states = monitor.states()
    finished = sum(1 for s in states if s.duration is not None)
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("run", "action", "attempt", "status", "time"):
        table.add_column(column, justify="right" if column in ("attempt", "time") else "left")
    for state in _visible(states):
        status = state.describe(now)
        style = _STYLE.get(state.status, "")
        table.add_row(
            state.run_id.split("-")[-1],
            state.action,
            str(state.attempt),
            f"[{style}]{status}[/]",
            f"{state.elapsed(now):.2f}s",
        )
    header = Table.grid(padding=(0, 1))
    header.add_row(ProgressBar(total=total, completed=finished, width=40), f"{finished}/{total}")
    return Group(header, table)


def _visible(states: list[RunState], limit: int = 30) -> list[RunState]:
    """Live runs first, then the most recent finished ones, at most ``limit`` rows."""
    live = [s for s in states if s.duration is None]
    done = [s for s in states if s.duration is not None]
    return (live + done[::-1])[:limit]


def _print_summary(console: Console, summary: Summary) -> None:
    from rich.table import Table

    table = Table(title="summary", show_header=False, box=None)
    rows = [
        ("runs", summary.total),
        ("done", summary.done),
        ("failed", summary.failed),
        ("timed out", summary.timed_out),
        ("cancelled", summary.cancelled),
        ("retries", summary.retries),
        ("attempt timeouts", summary.attempt_timeouts),
        ("p50 duration", _secs(summary.p50)),
        ("p95 duration", _secs(summary.p95)),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}s"


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
