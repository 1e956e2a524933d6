"""Actions shared by the tests.

They live at module level in an importable module so that ``isolation="process"`` can
send them to a child process by reference. In-process tests observe them through a
:class:`Probe` passed in the run's context (context values reach the action as they are).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from typing import Any

import pydantic

import jido


class Probe:
    """What a test wants to observe about an action: attempts, progress, cleanup."""

    def __init__(self) -> None:
        self.attempts: list[float] = []  # time.monotonic() at the start of each attempt
        self.started = threading.Event()
        self.finished = threading.Event()  # set by the action's ``finally``
        self.counter = 0
        self.seen: list[Any] = []  # anything an action wants to report
        self.release = threading.Event()  # a test sets it to let a blocked action go

    def enter(self) -> None:
        self.attempts.append(time.monotonic())
        self.started.set()

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.attempts, self.attempts[1:], strict=False)]


# -- plain actions -----------------------------------------------------------------------------
class AddParams(pydantic.BaseModel):
    value: int
    amount: int = 1


class Add(jido.Action):
    name = "add"
    description = "Adds amount to value"
    schema = AddParams

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"value": params["value"] + params["amount"]}


class EchoParams(pydantic.BaseModel):
    x: int = 0
    tag: str = ""


class Echo(jido.Action):
    """Returns the params and context it was given."""

    name = "echo"
    schema = EchoParams

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"params": params, "context": context}


@jido.action
def pid() -> dict[str, Any]:
    return {"pid": os.getpid()}


@jido.action
def square(x: int) -> dict[str, Any]:
    return {"x": x * x}


@jido.action
async def async_square(x: int) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"x": x * x}


# -- failing actions ---------------------------------------------------------------------------
@jido.action
def always_fail(context: dict[str, Any]) -> dict[str, Any]:
    """Records the attempt in ``context["probe"]`` and raises a ConnectionError."""
    context["probe"].enter()
    raise ConnectionError(f"down (attempt {len(context['probe'].attempts)})")


@jido.action
async def async_always_fail(context: dict[str, Any]) -> dict[str, Any]:
    context["probe"].enter()
    await asyncio.sleep(0)
    raise ConnectionError("down")


@jido.action
def raise_value_error(message: str = "boom") -> dict[str, Any]:
    raise ValueError(message)


@jido.action
def raise_jido_error(message: str = "upstream busy") -> dict[str, Any]:
    raise jido.ExecutionError(
        message, details={"upstream": "db", "n": 3}, retryable=False, retry_after=1.5
    )


# -- actions that run until they are stopped ---------------------------------------------------
@jido.action
def spin(context: dict[str, Any]) -> dict[str, Any]:
    """CPU-bound, never checks its token, even swallows ``Exception``."""
    probe = context["probe"]
    probe.enter()
    try:
        while True:
            # an action that swallows errors must still be stoppable
            with contextlib.suppress(Exception):
                probe.counter += 1
    finally:
        probe.finished.set()


@jido.action
def coop_sleep(seconds: float, context: dict[str, Any]) -> dict[str, Any]:
    """Sleeps with ``jido.current().sleep`` (wakes at once when told to stop)."""
    probe = context["probe"]
    probe.enter()
    try:
        jido.current().sleep(seconds)
        return {"slept": seconds}
    finally:
        probe.finished.set()


@jido.action
def coop_check(context: dict[str, Any]) -> dict[str, Any]:
    """Busy loop that calls ``jido.current().check()`` on every iteration."""
    probe = context["probe"]
    probe.enter()
    run = jido.current()
    try:
        while True:
            run.check()
            probe.counter += 1
    finally:
        probe.finished.set()


@jido.action
def blocked_sleep(seconds: float, context: dict[str, Any]) -> dict[str, Any]:
    """Blocked in C (``time.sleep``): cannot be interrupted until the call returns."""
    probe = context["probe"]
    probe.enter()
    try:
        time.sleep(seconds)
        return {"slept": seconds}
    finally:
        probe.finished.set()


@jido.action
async def async_sleep(seconds: float, context: dict[str, Any]) -> dict[str, Any]:
    probe = context["probe"]
    probe.enter()
    try:
        await asyncio.sleep(seconds)
        return {"slept": seconds}
    except asyncio.CancelledError:
        probe.seen.append("cancelled")
        raise
    finally:
        probe.finished.set()


class UninterruptibleSpin(jido.Action):
    """``interruptible = False``: only its token is set; it ignores it."""

    name = "uninterruptible_spin"
    interruptible = False

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        probe = context["probe"]
        probe.enter()
        deadline = time.monotonic() + params.get("seconds", 1.0)
        try:
            while time.monotonic() < deadline:
                probe.counter += 1
            return {"done": True}
        finally:
            probe.finished.set()


class UninterruptibleCoop(jido.Action):
    """``interruptible = False`` but checks its token."""

    name = "uninterruptible_coop"
    interruptible = False

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        probe = context["probe"]
        probe.enter()
        try:
            jido.current().sleep(30)
            return {"done": True}
        finally:
            probe.finished.set()


# -- for isolation="process" (no probe: context must be picklable) -----------------------------
@jido.action
def proc_spin() -> dict[str, Any]:
    """CPU-bound in a child process."""
    x = 0
    while True:
        x += 1


@jido.action
def proc_sleep(seconds: float) -> dict[str, Any]:
    """Blocked in ``time.sleep`` in a child process."""
    time.sleep(seconds)
    return {"slept": seconds, "pid": os.getpid()}


@jido.action
def proc_ignore_sigterm() -> dict[str, Any]:
    """A child that ignores SIGTERM and never checks its token: it must be killed."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(0.01)


@jido.action
def proc_current() -> dict[str, Any]:
    run = jido.current()
    return {"action": run.action, "attempt": run.attempt, "pid": os.getpid()}


@jido.action
def proc_unpicklable_result() -> dict[str, Any]:
    return {"lock": threading.Lock()}


@jido.action
async def proc_async_sleep(seconds: float) -> dict[str, Any]:
    """An async action in a child process."""
    await asyncio.sleep(seconds)
    return {"slept": seconds}
