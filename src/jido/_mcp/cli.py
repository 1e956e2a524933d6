"""``jido mcp serve MODULE[:NAME]``: the command that serves actions over MCP.

:func:`add_parser` adds the ``mcp`` command to the ``jido`` parser; the parsed
arguments carry ``plain_command`` (:func:`serve_command`, which needs no terminal
rendering), which the ``jido`` entry point runs. Errors are one line on stderr, exit
code 2; stdout stays the wire.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

import jido
from jido._mcp._internal import resolve
from jido._mcp.serve import TOKEN_ENV

__all__ = ["add_parser", "load_actions", "serve_command"]


def add_parser(sub: Any) -> None:
    """Add ``jido mcp serve`` to the subcommands of the ``jido`` parser."""
    mcp = sub.add_parser("mcp", help="serve actions to agents over MCP")
    commands = mcp.add_subparsers(required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve actions as MCP tools (stdio, or streamable HTTP with --http)",
        description="Serve every action in MODULE (or the action or list MODULE:NAME names) "
        "as MCP tools, over stdio by default.",
    )
    serve.add_argument("target", metavar="MODULE[:NAME]", help="e.g. mypkg.tools or mypkg:TOOLS")
    serve.add_argument("--http", metavar="HOST:PORT", help="serve streamable HTTP at /mcp")
    serve.add_argument("--token", help=f"bearer token for HTTP (default: ${TOKEN_ENV})")
    serve.add_argument("--name", default="jido", help="the server name clients show")
    serve.add_argument("--timeout", type=float, help="seconds per attempt (0: no limit)")
    serve.add_argument("--max-retries", type=int, help="retries after the first attempt")
    serve.add_argument("--backoff", type=float, help="first retry delay in seconds")
    serve.add_argument("--isolation", choices=("thread", "process"))
    serve.add_argument(
        "--heartbeat", type=float, default=15.0, help="seconds between progress heartbeats"
    )
    serve.set_defaults(plain_command=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    """Run ``jido mcp serve`` with parsed arguments; returns the exit code."""
    import jido.mcp

    options = {
        k: v
        for k, v in (
            ("timeout", args.timeout),
            ("max_retries", args.max_retries),
            ("backoff", args.backoff),
            ("isolation", args.isolation),
        )
        if v is not None
    }
    try:
        actions = load_actions(args.target)
        server = jido.mcp.server(actions, name=args.name, heartbeat=args.heartbeat, **options)
        token = args.token if args.token is not None else os.environ.get(TOKEN_ENV) or None
        if args.http is None and args.token is not None:
            raise jido.ConfigError("--token applies to --http only (stdio needs none)")
        jido.mcp.run(server, http=args.http, token=token)
    except jido.JidoError as exc:
        print(f"jido mcp serve: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


def load_actions(target: str) -> list[object]:
    """The actions ``MODULE`` defines or imports (public names), or what ``MODULE:NAME`` is.

    Raises:
        jido.ConfigError: the module or name cannot be loaded, or holds no action.
    """
    module_name, _, name = target.partition(":")
    try:
        if name:
            found = resolve(target)
            return list(found) if isinstance(found, list | tuple) else [found]
        module = importlib.import_module(module_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise jido.ConfigError(f"cannot load {target!r}: {exc}") from exc
    actions = _actions_in(vars(module))
    if not actions:
        raise jido.ConfigError(f"module {module_name!r} has no actions")
    return actions


def _actions_in(namespace: dict[str, Any]) -> list[object]:
    out: list[object] = []
    for key, value in namespace.items():
        if key.startswith("_") or any(value is seen for seen in out):
            continue
        spec = getattr(value, "__jido_action__", None)
        if getattr(spec, "target", None) is value:  # an action itself, not a subclass' base
            out.append(value)
    return out
