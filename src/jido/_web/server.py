"""Serving the app with uvicorn, ending its event streams first when the server stops.

An open page holds an event stream that never ends by itself; uvicorn waits for open
responses before it stops, then cancels them with an error. The server here closes the
app's streams as its shutdown begins, so that it stops at once and cleanly.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette

__all__ = ["make_server"]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self._app.state.hub.stop()
        await super().shutdown(sockets)


def make_server(
    app: Starlette, *, wrap: Callable[[Starlette], Any] | None = None, **config: Any
) -> uvicorn.Server:
    """A uvicorn server for ``app`` (``config``: more :class:`uvicorn.Config` options).

    ``wrap`` wraps the app in more ASGI middleware (a recorder, a timer).

    Example:
        >>> from jido._store import open_store
        >>> from jido._web.app import create_app
        >>> server = make_server(create_app(open_store("sqlite:///:memory:")))
    """
    options: dict[str, Any] = {
        "log_level": "warning",
        "timeout_graceful_shutdown": 2,
        "lifespan": "on",
        "access_log": False,
        **config,
    }
    served = app if wrap is None else wrap(app)
    return _Server(uvicorn.Config(served, **options), app)
