"""Actions of the durable suite, importable by module path in every process that runs them.

A durable run finds its actions by ``module:qualname``, so the child processes that run
them and the processes that recover them import this module under the same name
(``durable.durable_actions``: ``tests`` is on their path). Every execution of a step
appends one JSON line to the execution log named by its ``log`` param: counting the lines
of a step counts how many times it really ran, in whichever process.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import jido


def record(log: str, **extra: Any) -> None:
    """Append one execution of the current step to ``log`` (one atomic write)."""
    ctx = jido.current()
    line = {
        "key": ctx.idempotency_key,
        "run_id": ctx.run_id,
        "attempt": ctx.attempt,
        "pid": os.getpid(),
        "t": time.time(),
        **extra,
    }
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(line) + "\n").encode())
    finally:
        os.close(fd)


def executions(log: str | Path) -> list[dict[str, Any]]:
    """Every execution recorded in ``log``, in the order they started."""
    try:
        text = Path(log).read_text()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@jido.action
def step(value: int, log: str, pause: float = 0.0) -> dict[str, Any]:
    """A chain step: records its execution, works ``pause`` seconds, adds one."""
    record(log)
    if pause:
        time.sleep(pause)
    return {"value": value + 1}


@jido.action
async def astep(value: int, log: str, pause: float = 0.0) -> dict[str, Any]:
    """The async twin of :func:`step`."""
    import asyncio

    record(log)
    if pause:
        await asyncio.sleep(pause)
    return {"value": value + 1}


@jido.action
def branch(log: str, pause: float = 0.0, **seen: Any) -> dict[str, Any]:
    """A plan step: records its execution; returns its name and how many marks it saw."""
    record(log)
    if pause:
        time.sleep(pause)
    name = jido.current().idempotency_key.rsplit("/", 1)[-1]
    marks = sorted(k for k in seen if k.startswith("m_"))
    return {f"m_{name}": True, "seen": len(marks)}


@jido.action
def flaky(log: str, fail_times: int = 1) -> dict[str, Any]:
    """Fails (retryably) on its first ``fail_times`` attempts, then succeeds."""
    attempt = jido.current().attempt
    record(log)
    if attempt <= fail_times:
        raise jido.ExecutionError(f"attempt {attempt} fails", retryable=True)
    return {"attempt": attempt}


@jido.action
def broken(log: str) -> dict[str, Any]:
    """Always fails, not retryably."""
    record(log)
    raise jido.ExecutionError("broken for good", details={"why": "test"}, retryable=False)


@jido.action
def sleepy(log: str, seconds: float) -> dict[str, Any]:
    """Records its execution and sleeps (a long step to be killed, joined or cancelled)."""
    record(log)
    time.sleep(seconds)
    return {"slept": seconds}


@jido.action
def hang_once(log: str, seconds: float) -> dict[str, Any]:
    """Sleeps ``seconds`` on its first attempt only (a run to orphan, then recover quickly)."""
    record(log)
    attempt = jido.current().attempt
    if attempt == 1:
        time.sleep(seconds)
    return {"attempt": attempt}


@jido.action
def burn(log: str, counter: str, seconds: float = 60.0) -> dict[str, Any]:
    """CPU-bound: counts as fast as it can, writing the count to ``counter`` every 10 ms."""
    record(log)
    count = 0
    end = time.monotonic() + seconds
    next_write = 0.0
    while True:
        count += 1
        now = time.monotonic()
        if now >= next_write:
            Path(f"{counter}.tmp").write_text(f"{count} {time.time()}")
            os.replace(f"{counter}.tmp", counter)  # a reader never sees half of it
            next_write = now + 0.01
            if now > end:
                return {"count": count}


@jido.action
def context_probe(log: str) -> dict[str, Any]:
    """Returns what the run's context holds (JSON values as they are, others by type)."""
    record(log)
    ctx = jido.current().context
    return {
        k: v if isinstance(v, str | int | float | bool | None) else type(v).__name__
        for k, v in ctx.items()
    }


@jido.action
def keyed(log: str) -> dict[str, Any]:
    """Returns the idempotency key it ran with."""
    record(log)
    return {"key": jido.current().idempotency_key}


@jido.action(version="2")
def step_v2(value: int, log: str, pause: float = 0.0) -> dict[str, Any]:
    """:func:`step` at version 2 (a changed definition for the resume tests)."""
    record(log)
    return {"value": value + 1}


class LiveClient:
    """A live object (a client): not JSON, provided by the runtime's context."""

    def __init__(self, name: str) -> None:
        self.name = name


@jido.action
def anything(log: str, data: Any = None) -> dict[str, Any]:
    """Takes any value; returns ``data`` as its result (stored only if it is JSON)."""
    record(log)
    return {"data": data}


@jido.action
def dated(log: str) -> dict[str, Any]:
    """Returns a datetime: a result a durable run cannot store."""
    from datetime import UTC, datetime

    record(log)
    return {"when": datetime.now(UTC)}


@jido.action
def leaky(log: str) -> dict[str, Any]:
    """Fails with secrets in its message and details."""
    record(log)
    raise jido.ExecutionError(
        "login failed: password=hunter2 with Bearer abc.def.ghi",
        details={"api_key": "sk-123", "user": "ada", "note": "token=xyz"},
        retryable=False,
    )


class Reserve(jido.Action):
    """Reserves; its compensation (``on_error``) releases. Both write to the execution log."""

    name = "reserve"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        record(params["log"])
        return {"reserved": True}

    def on_error(
        self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
    ) -> dict[str, Any]:
        line = json.dumps({"key": "undo", "run_id": "", "attempt": 0, "pid": os.getpid(), "t": 0})
        with open(params["log"], "a") as f:
            f.write(line + "\n")
        return {"released": True}
