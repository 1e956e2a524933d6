"""Actions and helpers shared by the workflow and tools tests.

Actions report what happened through a :class:`Log` passed in the context (context
values reach the action as they are).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pydantic

import jido


class Log:
    """A thread-safe record of what actions did, plus named events to wait on."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._lock = threading.Lock()
        self._events: dict[str, threading.Event] = {}
        self.running = 0
        self.max_running = 0

    def add(self, item: Any) -> None:
        with self._lock:
            self.items.append(item)

    def event(self, name: str) -> threading.Event:
        with self._lock:
            return self._events.setdefault(name, threading.Event())

    def enter(self) -> None:
        with self._lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)

    def leave(self) -> None:
        with self._lock:
            self.running -= 1

    def names(self) -> list[Any]:
        return [item[0] if isinstance(item, tuple) else item for item in self.items]


def wait_for(predicate: Callable[[], object], timeout: float = 3.0) -> bool:
    """Poll until ``predicate()`` is truthy or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _log(context: dict[str, Any]) -> Log | None:
    log = context.get("log")
    return log if isinstance(log, Log) else None


# -- arithmetic (the reference's test actions) -----------------------------------------------------
class ValueParams(pydantic.BaseModel):
    value: int
    amount: int = 1


class Add(jido.Action):
    name = "add"
    description = "Adds amount to value"
    schema = ValueParams

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        if (log := _log(context)) is not None:
            log.add(("add", dict(params)))
        return {"value": params["value"] + params["amount"]}


class MultiplyParams(pydantic.BaseModel):
    value: int
    amount: int = 2


class Multiply(jido.Action):
    name = "multiply"
    description = "Multiplies value by amount"
    schema = MultiplyParams

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        if (log := _log(context)) is not None:
            log.add(("multiply", dict(params)))
        return {"value": params["value"] * params["amount"]}


class Subtract(jido.Action):
    name = "subtract"
    description = "Subtracts amount from value"
    schema = ValueParams

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        if (log := _log(context)) is not None:
            log.add(("subtract", dict(params)))
        return {"value": params["value"] - params["amount"]}


@jido.action
async def async_add(value: int, amount: int = 1) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"value": value + amount}


@jido.action
def record(context: dict[str, Any], **params: Any) -> dict[str, Any]:
    """Records its params and context in the log."""
    log = _log(context)
    if log is not None:
        log.add(("record", dict(params), {k: v for k, v in context.items() if k != "log"}))
    return {}


@jido.action
def fail(message: str = "boom") -> dict[str, Any]:
    """Always fails, never retried."""
    raise jido.ExecutionError(message, retryable=False)


@jido.action
def merge(context: dict[str, Any], **params: Any) -> dict[str, Any]:
    """Returns the params it was given, under ``seen`` (to check what a step received)."""
    return {"seen": dict(params)}


# -- slow work ------------------------------------------------------------------------------------
@jido.action
def slow(context: dict[str, Any], seconds: float = 5.0, label: str = "slow") -> dict[str, Any]:
    """Sleeps cooperatively; logs when it starts and when it stops (finished or not)."""
    log = _log(context)
    if log is not None:
        log.add(("start", label))
        log.event(f"{label}-started").set()
    try:
        jido.current().sleep(seconds)
        return {label: "done"}
    finally:
        if log is not None:
            log.add(("stop", label))
            log.event(f"{label}-stopped").set()


@jido.action
async def aslow(
    context: dict[str, Any], seconds: float = 5.0, label: str = "aslow"
) -> dict[str, Any]:
    """The async twin of :func:`slow`."""
    log = _log(context)
    if log is not None:
        log.add(("start", label))
        log.event(f"{label}-started").set()
    try:
        await asyncio.sleep(seconds)
        return {label: "done"}
    finally:
        if log is not None:
            log.add(("stop", label))
            log.event(f"{label}-stopped").set()


@jido.action
def nap(context: dict[str, Any], i: int = 0, seconds: float = 0.1) -> dict[str, Any]:
    """Blocks in ``time.sleep`` (not cooperative), counting concurrent runs in the log."""
    log = _log(context)
    if log is not None:
        log.enter()
    try:
        time.sleep(seconds)
    finally:
        if log is not None:
            log.leave()
    return {f"r{i}": i}


# -- compensation ---------------------------------------------------------------------------------
class ItemParams(pydantic.BaseModel):
    item: str
    quantity: int = 1


class Reserve(jido.Action):
    """Reserves stock; compensation releases it."""

    name = "reserve"
    schema = ItemParams

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        context["log"].add(("reserve", params["item"]))
        return {"reservation": f"R-{params['item']}"}

    def on_error(
        self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
    ) -> dict[str, Any]:
        context["log"].add(("release", dict(params), error.type))
        return {"released": params["item"]}


class Charge(jido.Action):
    """Charges a card; compensation (async) refunds it."""

    name = "charge"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        context["log"].add(("charge", params.get("reservation")))
        return {"charge": "C-1"}

    async def on_error(
        self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
    ) -> dict[str, Any]:
        await asyncio.sleep(0)
        context["log"].add(("refund", params.get("charge")))
        return {"refunded": True}


class BrokenUndo(jido.Action):
    """Succeeds; its compensation crashes."""

    name = "broken_undo"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {}

    def on_error(
        self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
    ) -> dict[str, Any]:
        raise RuntimeError("undo exploded")


class SlowUndo(jido.Action):
    """Succeeds; its compensation overruns a 0.2 s compensation_timeout."""

    name = "slow_undo"
    compensation_timeout = 0.2

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {}

    def on_error(
        self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
    ) -> dict[str, Any]:
        jido.current().sleep(5)
        return {}


class FailWithUndo(jido.Action):
    """Fails; its own compensation runs (the core's on_error)."""

    name = "fail_with_undo"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        raise jido.ExecutionError("payment declined", retryable=False)

    def on_error(
        self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
    ) -> dict[str, Any]:
        context["log"].add(("own-undo", error.type))
        return {"own": True}
