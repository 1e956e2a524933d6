"""Actions served by the MCP and adapter tests (importable by child processes: module level)."""

from __future__ import annotations

import os
import time
from typing import Literal

import pydantic

import jido


class Sum(pydantic.BaseModel):
    total: int


@jido.action(title="Add numbers", read_only=True, idempotent=True, open_world=False)
def add(a: int, b: int = 1) -> Sum:
    """Add two integers."""
    return Sum(total=a + b)


class Item(pydantic.BaseModel):
    sku: str = pydantic.Field(min_length=1)
    quantity: int = pydantic.Field(ge=1, le=100)


class OrderParams(pydantic.BaseModel):
    customer: str
    items: list[Item] = pydantic.Field(min_length=1)
    priority: Literal["low", "high"] = "low"
    note: str | None = None


class Placed(pydantic.BaseModel):
    order_id: str
    count: int


class PlaceOrder(jido.Action):
    """Place an order for a customer."""

    name = "place_order"
    title = "Place an order"
    destructive = False
    schema = OrderParams
    output_schema = Placed

    def run(self, params: dict, context: dict) -> dict:
        return {"order_id": f"o-{params['customer']}", "count": len(params["items"])}


@jido.action
def fail(message: str = "boom", retryable: bool = False) -> dict:
    """Always fails with an execution error."""
    raise jido.ExecutionError(message, retryable=retryable)


@jido.action
def crash(secret: str) -> dict:
    """Raises a plain exception whose text holds a secret."""
    raise ValueError(f"could not log in with password={secret}")


@jido.action
def flaky(steps: int = 4) -> dict:
    """Fails its first attempt after reporting progress, then succeeds."""
    run = jido.current()
    for i in range(1, steps + 1):
        run.progress(i, steps, f"step {i} of {steps}")
    if run.attempt < 2:
        raise jido.ExecutionError("transient failure", retry_after=0.1)
    return {"attempt": run.attempt}


@jido.action
def slow(seconds: float = 1.0) -> dict:
    """Waits (stoppable) for a while."""
    jido.current().sleep(seconds)
    return {"slept": seconds}


@jido.action
def spin(path: str, seconds: float = 30.0) -> dict:
    """CPU-bound: appends a dot to ``path`` every few thousand iterations; writes when it stops."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    end = time.monotonic() + seconds
    n = 0
    try:
        while time.monotonic() < end:
            n += 1
            if n % 5000 == 0:
                os.write(fd, b".")
    finally:
        os.close(fd)
        _stamp(path + ".stop")
    return {"iterations": n}


@jido.action
def block(path: str, seconds: float = 30.0) -> dict:
    """Blocks in ``time.sleep`` (a C call); records its pid, and when it stops."""
    _stamp(path + ".pid", str(os.getpid()))
    try:
        time.sleep(seconds)
    finally:
        _stamp(path + ".stop")
    return {"slept": seconds}


class Stubborn(jido.Action):
    """Blocks in ``time.sleep`` and may not be interrupted: in a child process it is killed."""

    name = "stubborn"
    interruptible = False

    def run(self, params: dict, context: dict) -> dict:
        _stamp(params["path"] + ".pid", str(os.getpid()))
        time.sleep(float(params.get("seconds", 30.0)))
        return {}


@jido.action
async def echo(text: str) -> dict:
    """Echoes its text back (async)."""
    return {"text": text}


def _stamp(path: str, text: str | None = None) -> None:
    with open(path, "w") as f:
        f.write(text if text is not None else repr(time.monotonic()))


@jido.action
def chatty(text: str) -> dict:
    """Prints to stdout (which, over stdio, must not reach the wire) and returns."""
    print(f"chatty says {text}")
    os.write(1, b"raw bytes on fd 1\n")
    return {"said": text}
