"""Transports: stdio, and streamable HTTP at ``/mcp`` behind an optional bearer token.

A non-local HTTP bind without a token is refused before anything listens; once a token
is given, every HTTP request must carry ``Authorization: Bearer <token>`` (401 otherwise).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
from typing import TYPE_CHECKING, Any

import jido

if TYPE_CHECKING:
    from mcp.server import Server
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["TOKEN_ENV", "check_bind", "http_app", "parse_address", "run"]

TOKEN_ENV = "JIDO_MCP_TOKEN"
"""The environment variable a bearer token is read from when none is given."""


def run(
    server: Server[Any],
    *,
    http: str | None = None,
    token: str | None = None,
    path: str = "/mcp",
) -> None:
    """Serve until stopped: over stdio, or over streamable HTTP when ``http="HOST:PORT"``."""
    import anyio

    if http is None:
        anyio.run(_serve_stdio, server)
        return
    host, port = parse_address(http)
    token = check_bind(host, token if token is not None else os.environ.get(TOKEN_ENV) or None)
    app = http_app(server, token=token, path=path, host=host)
    anyio.run(_serve_http, app, host, port)


def http_app(
    server: Server[Any],
    *,
    token: str | None = None,
    path: str = "/mcp",
    host: str = "127.0.0.1",
) -> ASGIApp:
    """The server as an ASGI app (streamable HTTP at ``path``), token-checked when given."""
    if token is not None:
        _check_token(token)
    app: ASGIApp = server.streamable_http_app(streamable_http_path=path, host=host)
    return app if token is None else BearerAuth(app, token)


def parse_address(text: str) -> tuple[str, int]:
    """``"HOST:PORT"`` (or ``"[::1]:PORT"``) as a host and a port number."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise jido.ConfigError(
            f"expected HOST:PORT such as 127.0.0.1:8000, got {text!r}", details={"option": "http"}
        )
    return host, int(port)


def check_bind(host: str, token: str | None) -> str | None:
    """The token to require; refuses a non-local ``host`` without one (ConfigError)."""
    if token is not None:
        _check_token(token)
        return token
    if not _is_local(host):
        raise jido.ConfigError(
            f"refusing to serve on {host} without a token: pass --token or set {TOKEN_ENV}, "
            "or bind 127.0.0.1",
            details={"option": "token"},
        )
    return None


class BearerAuth:
    """ASGI middleware: HTTP requests need ``Authorization: Bearer <token>``, else 401."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._authorized(scope):
            await _unauthorized(send)
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        for key, value in scope.get("headers", ()):
            if key == b"authorization":
                scheme, _, credentials = bytes(value).partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(
                    credentials.strip(), self._token
                )
        return False


async def _unauthorized(send: Send) -> None:
    body = json.dumps({"error": "unauthorized: a valid bearer token is required"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", b'Bearer realm="jido"'),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _check_token(token: object) -> None:
    if not isinstance(token, str) or not token or any(c.isspace() for c in token):
        raise jido.ConfigError(
            "the token must be a non-empty string without spaces", details={"option": "token"}
        )


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


async def _serve_stdio(server: Server[Any]) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


async def _serve_http(app: ASGIApp, host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve()
