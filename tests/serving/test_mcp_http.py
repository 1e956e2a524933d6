"""A real ``jido mcp serve --http`` (uvicorn on 127.0.0.1) driven by the official MCP client."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

import jido
from jido._mcp.serve import check_bind
from serving import scenarios
from serving.conftest import (
    HttpServer,
    free_port,
    http_server,
    serve_command,
    server_env,
    wait_for_port,
)

pytestmark = pytest.mark.slow


def drive(
    server: HttpServer, check: Callable[[Client], Awaitable[Any]], token: str | None = None
) -> Any:
    async def main() -> Any:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        async with httpx2.AsyncClient(headers=headers, timeout=30) as http_client:
            transport = streamable_http_client(server.url, http_client=http_client)
            async with Client(transport) as client:
                return await check(client)

    return asyncio.run(main())


def test_lists_calls_and_reports_errors(http: HttpServer) -> None:
    async def check(client: Client) -> None:
        await scenarios.check_listing(client)
        await scenarios.check_call(client)
        await scenarios.check_errors(client)

    drive(http, check)


def test_client_cancel_stops_a_cpu_bound_sync_action(http: HttpServer, tmp_path: Path) -> None:
    async def check(client: Client) -> None:
        assert await scenarios.check_cancel_stops_cpu_work(client, tmp_path) < 1.0
        await scenarios.check_read_timeout_stops_work(client, tmp_path)

    drive(http, check)


def test_progress_of_a_retried_action_and_heartbeats(http: HttpServer) -> None:
    async def check(client: Client) -> None:
        await scenarios.check_progress_of_a_retry(client)
        await scenarios.check_heartbeat(client)

    drive(http, check)


def test_a_non_local_bind_without_a_token_is_refused_at_start() -> None:
    done = subprocess.run(
        serve_command("--http", f"0.0.0.0:{free_port()}"),
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("jido mcp serve: refusing to serve on 0.0.0.0 without a token")


def test_the_token_rule_for_binds() -> None:
    assert check_bind("127.0.0.1", None) is None
    assert check_bind("::1", None) is None
    assert check_bind("localhost", None) is None
    assert check_bind("0.0.0.0", "t0ken") == "t0ken"
    for host in ("0.0.0.0", "192.168.1.5", "example.org", "::"):
        with pytest.raises(jido.ConfigError, match="without a token"):
            check_bind(host, None)
    with pytest.raises(jido.ConfigError, match="token must be"):
        check_bind("0.0.0.0", "two words")


def test_a_token_is_required_on_every_request() -> None:
    with http_server(token="s3cret-t0ken") as server:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "s3cret-t0ken"}):
            response = httpx.post(server.url, json={}, headers=headers, timeout=10)
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
        response = httpx.get(server.url, headers={}, timeout=10)
        assert response.status_code == 401

        async def check(client: Client) -> None:
            result = await client.call_tool("add", {"a": 1})
            assert result.structured_content == {"total": 2}

        drive(server, check, token="s3cret-t0ken")


def test_the_token_can_come_from_the_environment() -> None:
    port = free_port()
    proc = subprocess.Popen(
        serve_command("--http", f"127.0.0.1:{port}"),
        env=server_env(JIDO_MCP_TOKEN="from-env"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, proc)
        url = f"http://127.0.0.1:{port}/mcp"
        assert httpx.post(url, json={}, timeout=10).status_code == 401
        server = HttpServer(url, port, proc)

        async def check(client: Client) -> None:
            assert (await client.call_tool("add", {"a": 2})).structured_content == {"total": 3}

        drive(server, check, token="from-env")
    finally:
        proc.terminate()
        proc.wait(10)
