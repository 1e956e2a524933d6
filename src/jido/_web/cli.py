"""``jido web``: serve the web view of a store's runs.

``jido web [--store URL] [--host 127.0.0.1] [--port 8787] [--token T]``. The store is
``--store``, else ``$JIDO_STORE``, else ``sqlite:///.jido/runs.db``; the token is
``--token``, else ``$JIDO_WEB_TOKEN``. ``--port 0`` picks a free port. The URL served is
printed on one line once the port is open.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from typing import Any

__all__ = ["TOKEN_ENV", "add_parser", "run"]

TOKEN_ENV = "JIDO_WEB_TOKEN"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``jido web`` to the ``jido`` command's subparsers (``command`` is :func:`run`)."""
    web: argparse.ArgumentParser = sub.add_parser(
        "web", help="serve a web view of the runs in a store"
    )
    web.add_argument("--store", help="store URL (default: $JIDO_STORE, then %(default)s)")
    web.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    web.add_argument("--port", type=int, default=8787, help="port (default: %(default)s)")
    web.add_argument("--token", help=f"required on every request (default: ${TOKEN_ENV})")
    web.set_defaults(command=run)
    return web


def run(console: object, args: argparse.Namespace) -> int:
    """Serve until interrupted; 2 (with one line on stderr) when it cannot start."""
    try:
        return _serve(args)
    except KeyboardInterrupt:  # Ctrl-C: the server has shut down cleanly
        return 0
    except _Refused as exc:
        print(f"jido web: {exc}", file=sys.stderr)
        return 2


class _Refused(Exception):
    pass


def _serve(args: argparse.Namespace) -> int:
    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV) or None
    from jido._web.security import bind_error

    why = bind_error(args.host, token)
    if why is not None:
        raise _Refused(why)
    try:
        from jido._web.app import create_app
        from jido._web.server import make_server
    except ImportError as exc:
        raise _Refused(f'the web view needs its extra: pip install "jido[web]" ({exc})') from None
    from jido._web.actions import StoreActions

    store, url = _open(args.store)
    actions = StoreActions(store, url)
    try:
        sock = _bind(args.host, args.port)
        app = create_app(store, actions=actions, token=token, bind_host=args.host)
        port = sock.getsockname()[1]
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(f"jido web: {url.redacted()} at http://{host}:{port}/", flush=True)
        if token is not None:
            print("jido web: open it once with ?token=<your token>, or send Authorization: Bearer")
        with sock:
            make_server(app).run(sockets=[sock])
    finally:
        actions.close()
        store.close()
    return 0


def _open(explicit: str | None) -> tuple[Any, Any]:
    from jido import ConfigError
    from jido._store import open_store, parse_store_url, resolve_store_url
    from jido._store.url import DEFAULT_STORE

    try:
        url = resolve_store_url(explicit) or parse_store_url(DEFAULT_STORE)
        return open_store(url), url
    except ConfigError as exc:
        raise _Refused(exc.message) from None


def _bind(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.set_inheritable(True)
    except (OSError, OverflowError) as exc:
        raise _Refused(f"cannot listen on {host}:{port}: {exc}") from None
    return sock
