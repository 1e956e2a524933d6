"""jido's MCP server against the SDK's own ``MCPServer``, side by side in one run.

Usage::

    .venv/bin/python benchmarks/bench_mcp.py                 # 1,000 calls per server
    .venv/bin/python benchmarks/bench_mcp.py --quick         # 200 calls, 3 cancels
    .venv/bin/python benchmarks/bench_mcp.py --json out.json

1. Latency: p50 and p99 of sequential ``tools/call`` of a trivial tool (two ints in, their
   sum out, output schema on both sides), through the official client, in-memory
   (``Client(server)``), over stdio (a subprocess each) and over streamable HTTP (uvicorn
   on 127.0.0.1, a subprocess each). jido serves an ``async def`` action (``noop``) and a
   sync one (``noop_sync``, on a worker thread); the SDK serves the equivalent async and
   sync functions. The servers are measured in interleaved blocks of 50 calls, after 50
   warm-up calls each, so that drift on a shared machine hits both alike. Target: jido's
   async p50 <= 1.1x the SDK's async p50 on every transport.
2. Cancel to stopped work, over stdio: a call is cancelled by the client (its task is
   cancelled, so the client sends ``notifications/cancelled``) once the tool is running;
   the tool stamps ``time.monotonic()`` when its body stops (the clock is system-wide).
   jido: a CPU-bound sync action on a worker thread (target <= 150 ms) and an action
   blocked in ``time.sleep`` with ``isolation="process"`` (target <= 50 ms); the SDK: the
   same CPU-bound loop as a sync tool (2 s long), which is not stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

import _harness as h
import _mcp_servers as servers
import jido.mcp

HERE = Path(__file__).resolve().parent
BLOCK = 50
TARGET_RATIO = 1.1
TARGET_THREAD_MS = 150.0
TARGET_PROCESS_MS = 50.0


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), out.get("PYTHONPATH")]))
    return out


def jido_command(*extra: str) -> list[str]:
    return [
        sys.executable, "-m", "jido", "mcp", "serve", "_mcp_servers:JIDO_TOOLS",
        "--timeout", "30", "--max-retries", "0", *extra,
    ]  # fmt: skip


def sdk_command(*extra: str) -> list[str]:
    return [sys.executable, str(HERE / "_mcp_servers.py"), "sdk", *extra]


def stdio(command: list[str]) -> StdioServerParameters:
    return StdioServerParameters(command=command[0], args=command[1:], env=env())


# -- latency ------------------------------------------------------------------------------------
@dataclasses.dataclass
class Lane:
    """One server and tool being timed, with a reading of the CPU time its server used."""

    name: str
    client: Client
    tool: str
    cpu: Callable[[], float]
    ms: list[float] = dataclasses.field(default_factory=list)
    block_p50: list[float] = dataclasses.field(default_factory=list)
    cpu_ms: list[float] = dataclasses.field(default_factory=list)


async def timed_calls(lane: Lane, n: int) -> list[float]:
    out = []
    for i in range(n):
        started = time.perf_counter()
        result = await lane.client.call_tool(lane.tool, {"a": i, "b": 1})
        out.append((time.perf_counter() - started) * 1000)
        assert result.structured_content == {"total": i + 1}, result
    return out


async def compare(lanes: list[Lane], calls: int) -> list[Lane]:
    """Interleaved blocks of calls on every lane: latency per call, CPU per call per block."""
    for lane in lanes:
        await timed_calls(lane, BLOCK)  # warm-up
    while any(len(lane.ms) < calls for lane in lanes):
        for lane in lanes:
            cpu = lane.cpu()
            block = await timed_calls(lane, BLOCK)
            lane.cpu_ms.append((lane.cpu() - cpu) / BLOCK * 1000)
            lane.ms += block
            lane.block_p50.append(h.median(block))
    return lanes


CpuFactory = Callable[[], Callable[[], float]]


def cpu_of(pid: int) -> Callable[[], float]:
    """CPU seconds (user + system, all threads) a process has used so far."""
    tick = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    return read


def child_pid(marker: str) -> int:
    """The pid of this process's child whose command line contains ``marker``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if ppid == os.getpid() and marker in cmdline:
                return int(entry.name)
    raise RuntimeError(f"no child process running {marker!r}")


@contextlib.asynccontextmanager
async def lanes_for(
    sdk: Any, jido_server: Any, sdk_cpu: CpuFactory, jido_cpu: CpuFactory
) -> AsyncIterator[list[Lane]]:
    """Both clients connected; ``*_cpu()`` (called once connected) reads the server's CPU."""
    async with Client(sdk) as s, Client(jido_server) as j:
        sdk_reader, jido_reader = sdk_cpu(), jido_cpu()
        yield [
            Lane("sdk async", s, "noop", sdk_reader),
            Lane("jido async", j, "noop", jido_reader),
            Lane("sdk sync", s, "noop_sync", sdk_reader),
            Lane("jido sync", j, "noop_sync", jido_reader),
        ]


async def latency_in_memory(calls: int) -> list[Lane]:
    sdk = servers.sdk_server()
    for name in ("httpx", "httpx2", "mcp"):  # MCPServer turns INFO logging on for everyone
        logging.getLogger(name).setLevel(logging.WARNING)
    jido_server = jido.mcp.server(servers.JIDO_TOOLS, timeout=30, max_retries=0)
    process = lambda: time.process_time  # noqa: E731  (client and server share the process)
    async with lanes_for(sdk, jido_server, process, process) as lanes:
        return await compare(lanes, calls)


async def latency_stdio(calls: int) -> list[Lane]:
    sdk_cpu = lambda: cpu_of(child_pid("_mcp_servers.py sdk"))  # noqa: E731
    jido_cpu = lambda: cpu_of(child_pid("mcp serve _mcp_servers"))  # noqa: E731
    async with lanes_for(stdio(sdk_command()), stdio(jido_command()), sdk_cpu, jido_cpu) as lanes:
        return await compare(lanes, calls)


async def latency_http(calls: int) -> list[Lane]:
    with (
        http_server(sdk_command) as (sdk_url, sdk_pid),
        http_server(jido_command, "--http") as (jido_url, jido_pid),
    ):
        sdk_cpu, jido_cpu = cpu_of(sdk_pid), cpu_of(jido_pid)
        async with lanes_for(sdk_url, jido_url, lambda: sdk_cpu, lambda: jido_cpu) as lanes:
            return await compare(lanes, calls)


@contextlib.contextmanager
def http_server(command: Callable[..., list[str]], flag: str | None = None) -> Any:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"127.0.0.1:{port}"
    args = [flag, address] if flag else [address]
    proc = subprocess.Popen(
        command(*args), env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{command.__name__} did not start")
            time.sleep(0.05)
        yield f"http://{address}/mcp", proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


# -- cancel to stopped work -----------------------------------------------------------------------
async def cancel_once(client: Client, tool: str, tmp: Path, wait_stop: float) -> float | None:
    """Cancel a running call; milliseconds until its body stopped (None: not within wait)."""
    path = tmp / f"{tool}-{time.monotonic_ns()}"
    async with anyio.create_task_group() as tg:
        tg.start_soon(client.call_tool, tool, {"path": str(path), "seconds": 2.0})
        while not (path.exists() and path.stat().st_size > 3):
            await anyio.sleep(0.002)
        await anyio.sleep(0.1)
        cancelled = time.monotonic()
        tg.cancel_scope.cancel()
    stop = Path(f"{path}.stop")
    deadline = time.monotonic() + wait_stop
    while not stop.exists() and time.monotonic() < deadline:
        await anyio.sleep(0.002)
    if not stop.exists():
        return None
    await anyio.sleep(0.01)
    return (float(stop.read_text()) - cancelled) * 1000


async def cancels(trials: int) -> dict[str, list[float | None]]:
    tmp = Path(tempfile.mkdtemp(prefix="jido-bench-mcp-"))
    out: dict[str, list[float | None]] = {}
    async with Client(stdio(jido_command())) as client:
        out["jido sync, worker thread (spin)"] = [
            await cancel_once(client, "spin", tmp, 3.0) for _ in range(trials)
        ]
    async with Client(stdio(jido_command("--isolation", "process"))) as client:
        await client.call_tool("noop", {"a": 1})  # the child process is up
        out['jido isolation="process" (block in time.sleep)'] = [
            await cancel_once(client, "block", tmp, 3.0) for _ in range(trials)
        ]
    async with Client(stdio(sdk_command())) as client:
        out["SDK sync tool (spin)"] = [
            await cancel_once(client, "spin", tmp, 5.0) for _ in range(max(2, trials // 3))
        ]
    return out


# -- report ---------------------------------------------------------------------------------------
def latency_rows(transport: str, lanes: list[Lane]) -> list[dict[str, Any]]:
    by_name = {lane.name: lane for lane in lanes}
    rows = []
    for lane in lanes:
        base = by_name[f"sdk {lane.name.split()[1]}"]
        paired = [j / s for j, s in zip(lane.block_p50, base.block_p50, strict=False)]
        rows.append(
            {
                "transport": transport,
                "server": lane.name,
                "calls": len(lane.ms),
                "p50_ms": h.median(lane.ms),
                "p99_ms": h.percentile(lane.ms, 99),
                "x_sdk_p50": h.median(lane.ms) / h.median(base.ms),
                "x_sdk_paired": h.median(paired),
                "cpu_ms_per_call": h.median(lane.cpu_ms),
                "x_sdk_cpu": h.median(lane.cpu_ms) / h.median(base.cpu_ms),
            }
        )
    return rows


def print_latency(rows: list[dict[str, Any]]) -> None:
    print(
        "\n| transport | server | calls | p50 ms | p99 ms | p50 x SDK | paired p50 x SDK "
        "| server CPU ms/call | CPU x SDK | target (async p50) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        target = ""
        if r["server"] == "jido async":
            ok = r["x_sdk_p50"] <= TARGET_RATIO
            target = f"<= {TARGET_RATIO}x: {'PASS' if ok else 'MISS'}"
        print(
            f"| {r['transport']} | {r['server']} | {r['calls']} | {r['p50_ms']:.3f} | "
            f"{r['p99_ms']:.3f} | {r['x_sdk_p50']:.2f}x | {r['x_sdk_paired']:.2f}x | "
            f"{r['cpu_ms_per_call']:.3f} | {r['x_sdk_cpu']:.2f}x | {target} |"
        )


def print_cancels(results: dict[str, list[float | None]]) -> None:
    print("\n| tool (stdio) | trials | median ms | max ms | not stopped within the wait | target |")
    print("|---|---:|---:|---:|---:|---|")
    for name, values in results.items():
        stopped = [v for v in values if v is not None]
        med = f"{h.median(stopped):.1f}" if stopped else "-"
        worst = f"{max(stopped):.1f}" if stopped else "-"
        target = ""
        if name.startswith("jido sync"):
            target = _verdict(stopped, values, TARGET_THREAD_MS)
        elif name.startswith("jido isolation"):
            target = _verdict(stopped, values, TARGET_PROCESS_MS)
        else:
            target = "none (ran to the end of its 2 s body)" if stopped else "none"
        missed = len(values) - len(stopped)
        print(f"| {name} | {len(values)} | {med} | {worst} | {missed} | {target} |")


def _verdict(stopped: list[float], values: list[float | None], limit: float) -> str:
    ok = len(stopped) == len(values) and max(stopped) <= limit
    return f"<= {limit:g} ms: {'PASS' if ok else 'MISS'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--cancels", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="200 calls, 3 cancels")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    calls, trials = (200, 3) if args.quick else (args.calls, args.cancels)
    environment = h.environment()
    print(f"# bench_mcp: {calls} calls per server, {trials} cancels; {environment['date']}")
    print(f"# python {environment['python']}, load {environment['loadavg']}")
    rows = latency_rows("in-memory", asyncio.run(latency_in_memory(calls)))
    rows += latency_rows("stdio", asyncio.run(latency_stdio(calls)))
    rows += latency_rows("HTTP", asyncio.run(latency_http(calls)))
    print_latency(rows)
    cancel_results = asyncio.run(cancels(trials))
    print_cancels(cancel_results)
    if args.json:
        data = {"environment": environment, "latency": rows, "cancel_ms": cancel_results}
        args.json.write_text(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
