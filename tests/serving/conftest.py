"""Real MCP servers for the agent tests: ``jido mcp serve`` over stdio and over HTTP.

Both run as subprocesses of the test, started with the same command a user types. A
server that cannot start fails the test (it is our own code, there is nothing to skip).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
ACTIONS = "serving.agent_actions"
SERVE_OPTIONS = ["--timeout", "30", "--max-retries", "2", "--backoff", "0.1", "--heartbeat", "0.2"]


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a server subprocess: the test actions importable, no stray token."""
    env = {k: v for k, v in os.environ.items() if k != "JIDO_MCP_TOKEN"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def serve_command(*extra: str, target: str = ACTIONS) -> list[str]:
    return [sys.executable, "-m", "jido", "mcp", "serve", target, *SERVE_OPTIONS, *extra]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"the server exited with {proc.returncode}: {err}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the server did not listen on {port} within {timeout} s")


@dataclass
class HttpServer:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    token: str | None = None


@contextlib.contextmanager
def http_server(*extra: str, token: str | None = None) -> Iterator[HttpServer]:
    port = free_port()
    args = ["--http", f"127.0.0.1:{port}", *extra]
    if token is not None:
        args += ["--token", token]
    proc = subprocess.Popen(
        serve_command(*args),
        env=server_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, proc)
        yield HttpServer(f"http://127.0.0.1:{port}/mcp", port, proc, token)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def http() -> Iterator[HttpServer]:
    """A ``jido mcp serve --http`` subprocess on a free loopback port (no token)."""
    with http_server() as server:
        yield server


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) is gone for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False
