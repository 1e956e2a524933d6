"""What every transport must do, as async checks on a connected official MCP client.

Each ``check_*`` drives a real ``mcp.Client`` (stdio subprocess, HTTP server, or
in-process) and asserts on what comes back; the transport tests call them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from serving.conftest import pid_alive

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def tool_listing(tools: Any) -> list[dict[str, Any]]:
    return [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools.tools]


async def check_listing(client: Client) -> list[dict[str, Any]]:
    listing = tool_listing(await client.list_tools())
    golden = json.loads((GOLDEN / "mcp_tools.json").read_text())
    assert listing == golden
    return listing


async def check_call(client: Client) -> None:
    result = await client.call_tool("add", {"a": 2, "b": 3})
    assert not result.is_error
    assert result.structured_content == {"total": 5}
    assert json.loads(result.content[0].text) == {"total": 5}  # type: ignore[union-attr]
    order = {"customer": "ada", "items": [{"sku": "x", "quantity": 2}], "note": None}
    result = await client.call_tool("place_order", order)
    assert result.structured_content == {"order_id": "o-ada", "count": 1}
    result = await client.call_tool("echo", {"text": "héllo"})
    assert result.structured_content == {"text": "héllo"}


def error_of(result: Any) -> dict[str, Any]:
    assert result.is_error
    body = result.structured_content
    assert set(body) == {"type", "message", "retryable", "retry_after", "details"}
    assert json.loads(result.content[0].text) == {"error": body}
    assert "Traceback" not in result.content[0].text
    return body  # type: ignore[no-any-return]


async def check_errors(client: Client) -> None:
    body = error_of(await client.call_tool("add", {"a": "two"}))
    assert body["type"] == "validation_error"
    assert body["retryable"] is False
    assert body["details"]["field"] == "a"
    assert "a:" in body["message"]
    bad_order = {"customer": "ada", "items": [{"sku": "x", "quantity": 0}]}
    body = error_of(await client.call_tool("place_order", bad_order))
    assert body["details"]["field"] == "items[0].quantity"
    body = error_of(await client.call_tool("add", {}))
    assert body["type"] == "validation_error"
    assert body["details"]["field"] == "a"
    body = error_of(await client.call_tool("fail", {"message": "nope"}))
    assert (body["type"], body["message"], body["retryable"]) == ("execution_error", "nope", False)
    assert body["details"]["attempts"] == 1
    body = error_of(await client.call_tool("crash", {"secret": "hunter2"}))
    assert body["type"] == "execution_error"
    assert "hunter2" not in json.dumps(body)
    assert body["details"]["exception"] == "ValueError"


async def check_cancel_stops_cpu_work(client: Client, tmp: Path) -> float:
    """Cancel a CPU-bound sync action; its side effect stops growing. Returns cancel-to-stop."""
    path = tmp / "spin"
    with anyio.move_on_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.call_tool, "spin", {"path": str(path), "seconds": 30})
            await _wait_growing(path)
            cancelled_at = time.monotonic()
            tg.cancel_scope.cancel()
    stopped_at = float(await wait_for_file(Path(f"{path}.stop"), 5.0))
    size = path.stat().st_size
    await anyio.sleep(0.5)
    assert path.stat().st_size == size, "the action kept running after the cancel"
    return stopped_at - cancelled_at


async def check_read_timeout_stops_work(client: Client, tmp: Path) -> None:
    """The client's own request timeout cancels the call, and the work stops."""
    path = tmp / "spin-timeout"
    with pytest.raises(MCPError, match="timed out"):
        await client.call_tool("spin", {"path": str(path), "seconds": 30}, read_timeout_seconds=0.5)
    await wait_for_file(Path(f"{path}.stop"), 5.0)
    size = path.stat().st_size
    await anyio.sleep(0.4)
    assert path.stat().st_size == size


async def check_cancel_kills_blocked_process(client: Client, tmp: Path, tool: str) -> float:
    """Cancel an action blocked in C in a child process; returns cancel-to-stop seconds."""
    path = tmp / tool
    with anyio.move_on_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.call_tool, tool, {"path": str(path), "seconds": 30})
            pid = int(await wait_for_file(Path(f"{path}.pid"), 30))
            await anyio.sleep(0.1)  # blocked in time.sleep by now
            cancelled_at = time.monotonic()
            tg.cancel_scope.cancel()
    if tool == "stubborn":  # ignores its token, cannot be interrupted: killed
        deadline = time.monotonic() + 5
        while pid_alive(pid) and time.monotonic() < deadline:
            await anyio.sleep(0.01)
        assert not pid_alive(pid), "the child process survived the cancel"
        return time.monotonic() - cancelled_at
    stopped_at = float(await wait_for_file(Path(f"{path}.stop"), 5.0))
    return stopped_at - cancelled_at


async def check_progress_of_a_retry(client: Client) -> list[tuple[float, float | None, str | None]]:
    notes: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append((progress, total, message))

    result = await client.call_tool("flaky", {"steps": 4}, progress_callback=on_progress)
    assert result.structured_content == {"attempt": 2}
    messages = [m for _, _, m in notes]
    assert messages[0] == "attempt 1 of 3"
    assert "retrying in 0.1 s, attempt 2 of 3" in messages
    assert "attempt 2 of 3" in messages
    assert messages.index("retrying in 0.1 s, attempt 2 of 3") < messages.index("attempt 2 of 3")
    assert (4.0, 4.0, "step 4 of 4") in notes
    values = [p for p, _, _ in notes]
    assert values == sorted(values), "progress went backwards"
    return notes


async def check_heartbeat(client: Client) -> None:
    notes: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append(message)

    result = await client.call_tool("slow", {"seconds": 1.0}, progress_callback=on_progress)
    assert not result.is_error
    beats = [m for m in notes if m and m.startswith("running for")]
    assert len(beats) >= 2, notes  # heartbeat 0.2 s over a 1 s action


async def check_no_progress_without_token(client: Client) -> None:
    result = await client.call_tool("flaky", {"steps": 2})
    assert result.structured_content == {"attempt": 2}


async def wait_for_file(path: Path, timeout: float = 10.0) -> str:
    """The text of ``path`` once written (waiting without blocking the client's loop)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and (text := path.read_text()):
            return text
        await anyio.sleep(0.005)
    raise AssertionError(f"{path} was not written within {timeout} s")


async def _wait_growing(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size > 3:
            return
        await anyio.sleep(0.01)
    raise AssertionError("the action never started")
