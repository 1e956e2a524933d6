"""A real ``jido mcp serve`` subprocess driven by the official MCP client over stdio."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

from serving import scenarios
from serving.conftest import serve_command, server_env

pytestmark = pytest.mark.slow


def stdio(*extra: str) -> StdioServerParameters:
    command = serve_command(*extra)
    return StdioServerParameters(command=command[0], args=command[1:], env=server_env())


def drive(check: Callable[[Client], Awaitable[Any]], *extra: str) -> Any:
    async def main() -> Any:
        async with Client(stdio(*extra)) as client:
            return await check(client)

    return asyncio.run(main())


def test_lists_calls_and_reports_errors() -> None:
    async def check(client: Client) -> None:
        await scenarios.check_listing(client)
        await scenarios.check_call(client)
        await scenarios.check_errors(client)
        with pytest.raises(MCPError, match="Unknown tool 'nope'"):
            await client.call_tool("nope", {})
        for _ in range(3):  # prints from the action never corrupt the protocol
            result = await client.call_tool("chatty", {"text": "hi"})
            assert result.structured_content == {"said": "hi"}

    drive(check)


def test_client_cancel_stops_a_cpu_bound_sync_action(tmp_path: Path) -> None:
    async def check(client: Client) -> None:
        elapsed = await scenarios.check_cancel_stops_cpu_work(client, tmp_path)
        assert elapsed < 1.0
        await scenarios.check_read_timeout_stops_work(client, tmp_path)
        result = await client.call_tool("add", {"a": 1})  # the server is fine afterwards
        assert result.structured_content == {"total": 2}

    drive(check)


def test_client_cancel_stops_process_isolated_actions(tmp_path: Path) -> None:
    async def check(client: Client) -> None:
        interrupted = await scenarios.check_cancel_kills_blocked_process(client, tmp_path, "block")
        assert interrupted < 0.5
        killed = await scenarios.check_cancel_kills_blocked_process(client, tmp_path, "stubborn")
        assert killed < 1.0
        result = await client.call_tool("chatty", {"text": "from a child"})
        assert result.structured_content == {"said": "from a child"}
        result = await client.call_tool("add", {"a": 1})
        assert result.structured_content == {"total": 2}

    drive(check, "--isolation", "process")


def test_progress_of_a_retried_action_and_heartbeats() -> None:
    async def check(client: Client) -> None:
        await scenarios.check_progress_of_a_retry(client)
        await scenarios.check_heartbeat(client)
        await scenarios.check_no_progress_without_token(client)

    drive(check)


def test_progress_from_a_process_isolated_action() -> None:
    async def check(client: Client) -> None:
        await scenarios.check_progress_of_a_retry(client)

    drive(check, "--isolation", "process")
