"""The servers ``bench_mcp.py`` compares: jido's tools and the SDK's own ``MCPServer``.

Both serve the same trivial tool (``noop``: two ints in, their sum out, with an output
schema on both sides) and the same work for the cancel measurements:

- ``spin``: a CPU-bound sync loop that appends to a file while it runs, and stamps
  ``<path>.stop`` with ``time.monotonic()`` when it stops (CLOCK_MONOTONIC is system-wide,
  so the client compares it with its own clock);
- ``block``: ``time.sleep`` (blocked in C), stamping ``<path>.stop`` when it ends.

Run as a script, it serves the SDK side: ``python _mcp_servers.py sdk [HOST:PORT]``
(stdio, or streamable HTTP). The jido side is ``jido mcp serve _mcp_servers:JIDO_TOOLS``.
"""

from __future__ import annotations

import os
import sys
import time

import pydantic

import jido


class Sum(pydantic.BaseModel):
    total: int


def _stamp(path: str) -> None:
    with open(path + ".stop", "w") as f:
        f.write(repr(time.monotonic()))


def _spin_body(path: str, seconds: float) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    end, n = time.monotonic() + seconds, 0
    try:
        while time.monotonic() < end:
            n += 1
            if n % 5000 == 0:
                os.write(fd, b".")
    finally:
        os.close(fd)
        _stamp(path)
    return n


def _block_body(path: str, seconds: float) -> None:
    with open(path, "w") as f:
        f.write("started")
    try:
        time.sleep(seconds)
    finally:
        _stamp(path)


# -- jido -----------------------------------------------------------------------------------------
@jido.action(output_schema=Sum)
async def noop(a: int, b: int = 1) -> dict[str, int]:
    """Add two integers."""
    return {"total": a + b}


@jido.action(name="noop_sync", output_schema=Sum)
def noop_sync(a: int, b: int = 1) -> dict[str, int]:
    """Add two integers (sync: runs on a worker thread)."""
    return {"total": a + b}


@jido.action
def spin(path: str, seconds: float = 2.0) -> dict[str, int]:
    """CPU-bound loop."""
    return {"iterations": _spin_body(path, seconds)}


@jido.action
def block(path: str, seconds: float = 2.0) -> dict[str, bool]:
    """Blocked in time.sleep."""
    _block_body(path, seconds)
    return {"done": True}


JIDO_TOOLS = [noop, noop_sync, spin, block]


# -- the SDK's own server -------------------------------------------------------------------------
def sdk_server() -> object:
    from mcp.server import MCPServer

    server = MCPServer("sdk")

    @server.tool(name="noop")
    async def sdk_noop(a: int, b: int = 1) -> Sum:
        """Add two integers."""
        return Sum(total=a + b)

    @server.tool(name="noop_sync")
    def sdk_noop_sync(a: int, b: int = 1) -> Sum:
        """Add two integers (sync)."""
        return Sum(total=a + b)

    @server.tool(name="spin")
    def sdk_spin(path: str, seconds: float = 2.0) -> dict[str, int]:
        """CPU-bound loop (a sync tool: the SDK runs it in a worker thread)."""
        return {"iterations": _spin_body(path, seconds)}

    return server


if __name__ == "__main__":
    server = sdk_server()
    if len(sys.argv) > 2:
        host, _, port = sys.argv[2].rpartition(":")
        server.run("streamable-http", host=host, port=int(port))  # type: ignore[attr-defined]
    else:
        server.run("stdio")  # type: ignore[attr-defined]
