"""The MCP server: every action a tool, every call a jido run.

Built on the SDK's low-level ``Server`` (which does not validate arguments: jido does).
A call's run is named (``run_id``) so that its telemetry can be routed back to it; the
SDK cancels the handler when the client cancels or times out, and the cancellation
reaches the run, whose work then stops as jido promises for its execution mode.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import jido
from jido._mcp import progress
from jido._mcp._internal import check_options, parse_arguments, resolved_options
from jido._mcp.results import dumps, error_body, jsonable, unexpected
from jido._mcp.tools import HINTS, ToolSpec, tool_specs

if TYPE_CHECKING:
    import mcp_types
    from mcp.server import Server, ServerRequestContext

__all__ = ["DEFAULT_HEARTBEAT", "ToolServer", "server"]

DEFAULT_HEARTBEAT = 15.0
"""Seconds between heartbeats (progress notifications) while an action runs."""


def server(
    actions: object,
    *,
    name: str = "jido",
    runtime: jido.Runtime | None = None,
    context: Mapping[str, Any] | None = None,
    heartbeat: float = DEFAULT_HEARTBEAT,
    **run_defaults: Any,
) -> Server[Any]:
    """An MCP server (the SDK's low-level ``Server``) serving ``actions`` as tools."""
    return ToolServer(actions, runtime, context, heartbeat, run_defaults).build(name)


class ToolServer:
    """The tools and the handlers behind one MCP server."""

    def __init__(
        self,
        actions: object,
        runtime: jido.Runtime | None,
        context: Mapping[str, Any] | None,
        heartbeat: float,
        run_defaults: Mapping[str, Any],
    ) -> None:
        if runtime is not None and not isinstance(runtime, jido.Runtime):
            raise jido.ConfigError(f"runtime must be a jido.Runtime, got {runtime!r}")
        if isinstance(heartbeat, bool) or not isinstance(heartbeat, int | float) or heartbeat <= 0:
            raise jido.ConfigError(f"heartbeat must be a number of seconds > 0, got {heartbeat!r}")
        if context is not None and not isinstance(context, Mapping):
            raise jido.ConfigError(f"context must be a mapping, got {type(context).__name__}")
        self.tools = tool_specs(actions)
        self.runtime = runtime
        self.context = dict(context or {})
        self.heartbeat = float(heartbeat)
        self.options = check_options(run_defaults, "jido.mcp.server run options")
        self._router = progress.Router()
        self._ids = itertools.count(1)
        self._prefix = f"mcp-{os.urandom(3).hex()}"
        self._listing: Any = None

    def build(self, name: str) -> Server[Any]:
        from mcp.server import Server

        self._listing = _listing(self.tools.values())
        return Server(
            name,
            version=jido.__version__,
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
            get_tool_input_schema=self._input_schema,
        )

    # -- handlers ------------------------------------------------------------------------------
    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: mcp_types.PaginatedRequestParams | None
    ) -> mcp_types.ListToolsResult:
        return self._listing  # type: ignore[no-any-return]

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams
    ) -> mcp_types.CallToolResult:
        tool = self.tools.get(params.name)
        if tool is None:
            _unknown_tool(params.name, self.tools)
        try:
            result = await self._run(ctx, tool, params.arguments)
        except jido.JidoError as exc:
            return _error_result(exc)
        except Exception as exc:
            return _error_result(unexpected(exc, f"calling tool {tool.name!r}"))
        return _ok_result(result)

    # -- running -------------------------------------------------------------------------------
    async def _run(
        self, ctx: ServerRequestContext[Any], tool: ToolSpec, arguments: dict[str, Any] | None
    ) -> dict[str, Any]:
        args = _arguments(tool, arguments)
        run_id = f"{self._prefix}-{next(self._ids)}"
        runtime = self.runtime or jido.default_runtime()
        if not _wants_progress(ctx):
            return await runtime.arun(
                tool.action, args, self.context, run_id=run_id, **self.options
            )
        return await self._run_with_progress(ctx, runtime, tool, args, run_id)

    async def _run_with_progress(
        self,
        ctx: ServerRequestContext[Any],
        runtime: jido.Runtime,
        tool: ToolSpec,
        args: dict[str, Any],
        run_id: str,
    ) -> dict[str, Any]:
        attempts = resolved_options(runtime, self.options).retry.max_retries + 1
        channel = progress.Channel(asyncio.get_running_loop(), attempts)
        send = _sender(ctx)
        self._router.open(run_id, channel)
        pump = asyncio.ensure_future(progress.pump(channel, send, self.heartbeat))
        try:
            result = await runtime.arun(
                tool.action, args, self.context, run_id=run_id, **self.options
            )
        except jido.JidoError:
            await _drain(channel, pump)
            raise
        else:
            await _drain(channel, pump)
            return result
        finally:
            pump.cancel()  # still running only when the call itself was cancelled
            self._router.close(run_id)

    def _input_schema(self, name: str) -> dict[str, Any] | None:
        tool = self.tools.get(name)
        return None if tool is None else tool.input_schema


def _arguments(tool: ToolSpec, arguments: dict[str, Any] | None) -> dict[str, Any]:
    """The params: as given, except that ``null`` for an optional field means its default."""
    if not arguments:
        return {}
    if any(value is None for value in arguments.values()):
        return parse_arguments(tool.spec, arguments)
    return arguments


async def _drain(channel: progress.Channel, pump: asyncio.Future[None]) -> None:
    """Let the pump deliver what the run reported, before the result goes out."""
    channel.close()
    await pump


def _wants_progress(ctx: ServerRequestContext[Any]) -> bool:
    """Whether the request carries a progress token (or, in-process, a progress callback)."""
    meta: Mapping[str, Any] = ctx.meta or {}
    if meta.get("progress_token", meta.get("progressToken")) is not None:
        return True
    # an in-process client passes its callback instead of a token
    outbound = getattr(ctx.session, "_request_outbound", None)
    outbound = getattr(outbound, "_inner", outbound)
    return getattr(outbound, "_on_progress", None) is not None


def _sender(ctx: ServerRequestContext[Any]) -> progress.Send:
    """Sends notes to the client; after one fails, drops the rest (the call goes on)."""
    broken = False

    async def send(note: progress.Note) -> None:
        nonlocal broken
        if broken:
            return
        try:
            await ctx.session.report_progress(note.progress, note.total, note.message)
        except Exception:
            broken = True

    return send


def _ok_result(result: dict[str, Any]) -> mcp_types.CallToolResult:
    from mcp_types import CallToolResult, TextContent

    data = jsonable(result)
    return CallToolResult(
        content=[TextContent(type="text", text=dumps(data))], structured_content=data
    )


def _error_result(error: jido.JidoError) -> mcp_types.CallToolResult:
    from mcp_types import CallToolResult, TextContent

    body = error_body(error)
    return CallToolResult(
        content=[TextContent(type="text", text=dumps({"error": body}))],
        structured_content=body,
        is_error=True,
    )


def _unknown_tool(name: str, tools: Mapping[str, ToolSpec]) -> NoReturn:
    from mcp.shared.exceptions import MCPError
    from mcp_types import INVALID_PARAMS

    shown = ", ".join(list(tools)[:20])
    raise MCPError(INVALID_PARAMS, f"Unknown tool {name[:128]!r}; this server has: {shown}")


def _listing(tools: Any) -> mcp_types.ListToolsResult:
    from mcp_types import ListToolsResult, Tool, ToolAnnotations

    out = []
    for tool in tools:
        hints = {HINTS[k]: v for k, v in tool.hints.items()}
        out.append(
            Tool(
                name=tool.name,
                title=tool.title,
                description=tool.description or None,
                input_schema=tool.input_schema,
                output_schema=tool.output_schema,
                annotations=ToolAnnotations(**hints) if hints else None,
            )
        )
    return ListToolsResult(tools=out)
