"""Actions for the reliability soak (``soak.py``), importable by a child process."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import jido


# -- mixed async runs ----------------------------------------------------------------------------
@jido.action
async def a_ok(i: int, pause: float) -> dict[str, Any]:
    await asyncio.sleep(pause)
    return {"i": i}


@jido.action
async def a_sleep(seconds: float) -> dict[str, Any]:
    await asyncio.sleep(seconds)
    return {"slept": seconds}


@jido.action
async def a_flaky(i: int) -> dict[str, Any]:
    """Fails its first attempt, succeeds on the second."""
    await asyncio.sleep(0)
    attempt = jido.current().attempt
    if attempt == 1:
        raise ConnectionError("first attempt fails")
    return {"i": i, "attempt": attempt}


# -- sync runs -------------------------------------------------------------------------------------
@jido.action
def s_square(x: int) -> dict[str, Any]:
    return {"x": x * x}


@jido.action
def s_spin(seconds: float = 30.0) -> dict[str, Any]:
    """CPU-bound Python that never looks at its token."""
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        x += 1
    return {"x": x}


@jido.action
def s_blocked(seconds: float) -> dict[str, Any]:
    """Blocked in C: a worker thread cannot be interrupted, a child process can."""
    time.sleep(seconds)
    return {"slept": seconds}


@jido.action
def p_pid() -> dict[str, Any]:
    return {"pid": os.getpid()}


@jido.action
def p_ignore_sigterm() -> dict[str, Any]:
    """Ignores SIGTERM and its token: only SIGKILL stops it."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(0.01)


# -- side effects (random-moment cancels) ----------------------------------------------------------
def _effect(context: dict[str, Any]) -> None:
    effects = context.get("effects")
    if effects is not None:
        effects.add(context["key"])
    else:  # in a child process: a file
        with open(os.path.join(context["dir"], context["key"]), "w") as f:
            f.write("done")


@jido.action
def e_coop(seconds: float, context: dict[str, Any]) -> dict[str, Any]:
    jido.current().sleep(seconds)
    _effect(context)
    return {}


@jido.action
def e_cpu(seconds: float, context: dict[str, Any]) -> dict[str, Any]:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    _effect(context)
    return {}


@jido.action
async def e_async(seconds: float, context: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(seconds)
    _effect(context)
    return {}


@jido.action
def e_blocked(seconds: float, context: dict[str, Any]) -> dict[str, Any]:
    """Blocked in C, then the side effect (in a child process: SIGTERM interrupts it)."""
    time.sleep(seconds)
    _effect(context)
    return {}
