"""Serving actions over MCP: ``jido mcp serve`` driven by the official MCP client.

Run: .venv/bin/python examples/mcp_server.py

It starts ``jido mcp serve mcp_tools`` over stdio (as a desktop client would), lists the
tools, calls them, shows a validation error as a tool result, progress notifications, and
a cancelled call whose sync work really stops. A desktop client's configuration for the
same server (``claude_desktop_config.json`` and similar)::

    {"mcpServers": {"weather": {"command": "jido",
                                "args": ["mcp", "serve", "mcp_tools", "--timeout", "10"],
                                "env": {"PYTHONPATH": "/path/to/examples"}}}}

In your own code: ``jido.mcp.run(jido.mcp.server([get_forecast, reindex]))`` (stdio) or
``jido.mcp.run(server, http="127.0.0.1:8000")`` (streamable HTTP at ``/mcp``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

HERE = Path(__file__).resolve().parent


async def main() -> None:
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    command = ["-m", "jido", "mcp", "serve", "mcp_tools", "--timeout", "60", "--max-retries", "0"]
    async with Client(StdioServerParameters(command=sys.executable, args=command, env=env)) as c:
        for tool in (await c.list_tools()).tools:
            hints = tool.annotations.model_dump(exclude_none=True) if tool.annotations else {}
            print(f"tool {tool.name}: {tool.title or ''} {hints}")

        result = await c.call_tool("get_forecast", {"city": "Paris"})
        print("get_forecast ->", result.structured_content)

        result = await c.call_tool("get_forecast", {"city": "Paris", "unit": "kelvin"})
        error = result.structured_content
        print(f"is_error={result.is_error}: {error['type']} on {error['details']['field']!r}")

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            print(f"  progress {progress:g}/{total or '?'}: {message}")

        result = await c.call_tool("reindex", {"documents": 3}, progress_callback=on_progress)
        print("reindex ->", json.dumps(result.structured_content))

        started = time.monotonic()
        with anyio.move_on_after(0.5):  # the client gives up: notifications/cancelled
            await c.call_tool("crunch", {"seconds": 30})
        print(f"crunch cancelled after {time.monotonic() - started:.2f} s")
        await anyio.sleep(0.2)
        result = await c.call_tool("runs_in_flight", {})
        print("runs in flight now (this call included):", result.structured_content["in_flight"])
        result = await c.call_tool("get_forecast", {"city": "Oslo", "unit": "fahrenheit"})
        print("the server goes on:", result.structured_content)


if __name__ == "__main__":
    asyncio.run(main())
