"""Malformed and hostile input: a clear tool or protocol error, never a crashed server.

Raw JSON-RPC, written by hand to a ``jido mcp serve`` subprocess (stdio) and to its HTTP
endpoint, so that nothing on the client side cleans the input up first.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from serving.conftest import HttpServer, serve_command, server_env

pytestmark = pytest.mark.slow

META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}
DEEP = "[" * 5000 + "]" * 5000


def call(request_id: int, name: str, arguments: Any) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments, "_meta": META}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def raw_call(request_id: int, name: str, arguments_json: str) -> bytes:
    meta = json.dumps(META)
    return (
        f'{{"jsonrpc":"2.0","id":{request_id},"method":"tools/call",'
        f'"params":{{"name":"{name}","_meta":{meta},"arguments":{arguments_json}}}}}'
    ).encode()


class StdioPeer:
    """Writes raw lines to the server; reads its answers on a thread."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            serve_command(),
            env=server_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data + b"\n")
        self.proc.stdin.flush()

    def answer(self, request_id: int, timeout: float = 30.0) -> dict[str, Any]:
        while True:
            message = self.lines.get(timeout=timeout)
            if message.get("id") == request_id:
                return message

    def close(self) -> str:
        assert self.proc.stdin is not None
        assert self.proc.stderr is not None
        self.proc.stdin.close()
        self.proc.wait(10)
        return self.proc.stderr.read().decode()


@pytest.fixture(scope="module")
def peer() -> Iterator[StdioPeer]:
    peer = StdioPeer()
    yield peer
    stderr = peer.close()
    assert peer.proc.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr


def test_stdio_survives_garbage_and_answers_with_errors(peer: StdioPeer) -> None:
    peer.send(b"{not json")
    peer.send(b"\x00\xff garbage")
    peer.send(raw_call(1, "add", '{"a": 1, "x": ' + DEEP + "}"))
    peer.send(json.dumps(call(2, "add", {"a": 1})).encode())
    assert peer.answer(2)["result"]["structuredContent"] == {"total": 2}

    peer.send(json.dumps(call(3, "add", [1, 2])).encode())
    assert peer.answer(3)["error"]["code"] == -32602  # arguments must be an object

    peer.send(json.dumps(call(4, "nope", {})).encode())
    assert "Unknown tool 'nope'" in peer.answer(4)["error"]["message"]

    nested = json.loads("[" * 100 + "]" * 100)
    order = {"customer": "a", "items": [{"sku": "x", "quantity": 1}], "note": nested}
    peer.send(json.dumps(call(5, "place_order", order)).encode())
    result = peer.answer(5)["result"]
    assert result["isError"] is True
    assert result["structuredContent"]["details"]["field"] == "note"

    peer.send(json.dumps(call(6, "echo", {"text": "y" * (8 * 1024 * 1024)})).encode())
    assert len(peer.answer(6)["result"]["structuredContent"]["text"]) == 8 * 1024 * 1024

    peer.send(json.dumps(call(7, "add", {"a": 41})).encode())
    assert peer.answer(7)["result"]["structuredContent"] == {"total": 42}


def _post(server: HttpServer, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    base = {
        "accept": "application/json, text/event-stream",
        "content-type": "application/json",
        "mcp-protocol-version": "2026-07-28",
    }
    try:
        message = json.loads(body)
        base |= {"mcp-method": message["method"], "mcp-name": message["params"]["name"]}
    except (ValueError, KeyError, TypeError, RecursionError):
        pass
    return httpx.post(server.url, content=body, headers=base | (headers or {}), timeout=30)


def test_http_survives_garbage_and_answers_with_errors(http: HttpServer) -> None:
    response = _post(http, b"{not json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700

    response = _post(http, raw_call(1, "add", '{"a": 1, "x": ' + DEEP + "}"))
    assert response.status_code == 400

    response = _post(http, json.dumps(call(2, "add", "zzz")).encode())
    assert response.json()["error"]["code"] == -32602

    response = _post(http, json.dumps(call(3, "echo", {"text": "x" * (5 * 1024 * 1024)})).encode())
    assert response.status_code == 413

    response = _post(http, json.dumps(call(4, "add", {"a": "x"})).encode())
    assert response.json()["result"]["structuredContent"]["details"]["field"] == "a"

    response = _post(http, json.dumps(call(5, "add", {"a": 1})).encode())
    assert response.json()["result"]["structuredContent"] == {"total": 2}
    assert http.proc.poll() is None
