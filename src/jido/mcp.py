"""``jido.mcp``: serve actions to agents over the Model Context Protocol.

Needs ``pip install "jido[mcp]"`` (the official ``mcp`` SDK, 2.x).

- :func:`server`: an MCP server (the SDK's low-level ``Server``) with every action a tool;
  every call runs through jido (validation, timeout, retries, compensation, telemetry),
  a client's cancellation stops the action's work, failures come back as structured
  tool errors, and a progress token gets attempt, retry, heartbeat and the action's own
  ``jido.current().progress(...)`` notifications.
- :func:`run`: serve it over stdio, or streamable HTTP at ``/mcp``.
- :func:`http_app`: the same as an ASGI app, to mount or to run with any ASGI server.

The command line does the same: ``jido mcp serve mypkg.tools [--http 127.0.0.1:8000]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jido
from jido._mcp import serve as _serve
from jido._mcp.server import DEFAULT_HEARTBEAT, ToolServer

if TYPE_CHECKING:
    from mcp.server import Server
    from starlette.types import ASGIApp

__all__ = ["DEFAULT_HEARTBEAT", "TOKEN_ENV", "http_app", "run", "server"]

TOKEN_ENV = _serve.TOKEN_ENV


def server(
    actions: object,
    *,
    name: str = "jido",
    runtime: jido.Runtime | None = None,
    context: Mapping[str, Any] | None = None,
    heartbeat: float = DEFAULT_HEARTBEAT,
    **run_defaults: Any,
) -> Server[Any]:
    """An MCP server with each action as a tool, each call a jido run.

    Tools carry the action's name, ``title``, description, input schema (JSON Schema
    2020-12, root ``type: object``), output schema (from ``output_schema``) and the
    annotations it declares (``read_only``, ``destructive``, ``idempotent``,
    ``open_world``). A failed call is a tool result with ``is_error=True`` and structured
    content ``{type, message, retryable, retry_after, details}``, never a protocol error.

    Args:
        actions: an action, or a list of actions (``Action`` subclasses or
            ``@jido.action`` functions); names must be unique.
        name: the server name clients show.
        runtime: the runtime the calls run on (default: jido's default runtime).
        context: a context given to every call (a client, a session...); never sent
            to the model.
        heartbeat: seconds between heartbeats sent to a client that asked for progress.
        **run_defaults: jido run options for every call (``timeout``, ``max_retries``,
            ``backoff``, ``isolation``...).

    Raises:
        jido.InvalidActionError: something in ``actions`` is not an action.
        jido.ConfigError: duplicate names, a bad option, or no ``mcp`` SDK installed.

    Example:
        >>> import jido, jido.mcp
        >>> @jido.action(read_only=True)
        ... def add(a: int, b: int = 1) -> dict:
        ...     return {"sum": a + b}
        >>> srv = jido.mcp.server([add], name="calculator", timeout=2.0)
        >>> srv.name
        'calculator'
    """
    _require_sdk()
    return ToolServer(actions, runtime, context, heartbeat, run_defaults).build(name)


def run(
    server: Server[Any],
    *,
    http: str | None = None,
    token: str | None = None,
    path: str = "/mcp",
) -> None:
    """Serve ``server`` until stopped: over stdio, or streamable HTTP at ``http``.

    Args:
        server: what :func:`server` returned.
        http: ``"HOST:PORT"`` to serve streamable HTTP at ``path``; None for stdio.
        token: a bearer token every HTTP request must carry (default: the
            ``JIDO_MCP_TOKEN`` environment variable). Required for a non-local host.
        path: the HTTP path of the endpoint.

    Raises:
        jido.ConfigError: a malformed address, or a non-local host without a token.

    Example:
        >>> import jido, jido.mcp
        >>> @jido.action
        ... def ping() -> dict:
        ...     return {"pong": True}
        >>> try:
        ...     jido.mcp.run(jido.mcp.server([ping]), http="0.0.0.0:8000")
        ... except jido.ConfigError as e:
        ...     print(e.message[:41])
        refusing to serve on 0.0.0.0 without a to
        >>> # jido.mcp.run(jido.mcp.server([ping]))   # stdio, for a desktop client
    """
    _serve.run(server, http=http, token=token, path=path)


def http_app(
    server: Server[Any],
    *,
    token: str | None = None,
    path: str = "/mcp",
    host: str = "127.0.0.1",
) -> ASGIApp:
    """``server`` as an ASGI app: streamable HTTP at ``path``, bearer-token checked if given.

    ``host`` is where it will be reached; for a loopback host the SDK also rejects
    requests whose ``Host``/``Origin`` is not local (DNS rebinding protection).

    Example:
        >>> import jido, jido.mcp
        >>> @jido.action
        ... def ping() -> dict:
        ...     return {"pong": True}
        >>> app = jido.mcp.http_app(jido.mcp.server([ping]), token="s3cret")
        >>> # uvicorn.run(app, host="127.0.0.1", port=8000)
    """
    return _serve.http_app(server, token=token, path=path, host=host)


def _require_sdk() -> None:
    try:
        import mcp.server  # noqa: F401
    except ImportError as exc:
        raise jido.ConfigError(
            'serving actions over MCP needs the mcp SDK: pip install "jido[mcp]"'
        ) from exc
