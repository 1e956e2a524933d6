"""The actions and scenarios of ``jido demo``: real actions on the in-process runtime.

Actions live at module level so that ``isolation="process"`` can import them.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic

import jido

__all__ = ["SCENARIOS", "Scenario", "batch"]


class AddParams(pydantic.BaseModel):
    value: int
    amount: int = 1


class Add(jido.Action):
    """Adds amount to value."""

    schema = AddParams

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"value": params["value"] + params["amount"]}


@jido.action(description="Fails until its third attempt, like a service that is warming up")
def warming_up(service: str) -> dict[str, Any]:
    attempt = jido.current().attempt
    if attempt < 3:
        raise ConnectionError(f"{service} refused the connection (attempt {attempt})")
    return {"service": service, "attempts": attempt}


@jido.action(description="Pure-Python CPU work that never looks at its cancellation token")
def crunch(n: int) -> dict[str, Any]:
    total = 0
    for i in range(n):
        total += i * i
    return {"total": total}


@jido.action(description="Blocks in time.sleep, which no thread interrupt can cut short")
def nap(seconds: float) -> dict[str, Any]:
    time.sleep(seconds)
    return {"slept": seconds}


@jido.action(description="Fetches a page (simulated with asyncio.sleep)")
async def fetch(url: str, latency: float = 0.2) -> dict[str, Any]:
    await asyncio.sleep(latency)
    return {"url": url, "status": 200, "bytes": 1024}


@jido.action(description="A job of random length that sometimes fails")
def job(n: int, seconds: float, fail: bool = False) -> dict[str, Any]:
    jido.current().sleep(seconds)
    if fail and jido.current().attempt == 1:
        raise TimeoutError(f"job {n}: upstream timed out")
    return {"job": n}


@dataclass(frozen=True)
class Scenario:
    title: str
    code: str
    play: Callable[[], dict[str, Any]]


def _success() -> dict[str, Any]:
    return jido.run(Add, {"value": 5})


def _validation() -> dict[str, Any]:
    return jido.run(Add, {"value": "five"})


def _retry() -> dict[str, Any]:
    return jido.run(warming_up, {"service": "db"}, max_retries=3, backoff=0.1)


def _timeout_cpu() -> dict[str, Any]:
    return jido.run(crunch, {"n": 10**10}, timeout=0.3, max_retries=0)


def _timeout_sleep_thread() -> dict[str, Any]:
    return jido.run(nap, {"seconds": 1.0}, timeout=0.3, max_retries=0)


def _timeout_sleep_process() -> dict[str, Any]:
    return jido.run(nap, {"seconds": 5.0}, timeout=0.3, max_retries=0, isolation="process")


def _async_awaited() -> dict[str, Any]:
    ref = jido.run_async(fetch, {"url": "https://example.org"})
    return jido.await_(ref, timeout=2.0)


def _async_cancelled() -> dict[str, Any]:
    ref = jido.run_async(fetch, {"url": "https://slow.example.org", "latency": 30})
    time.sleep(0.1)
    jido.cancel(ref)
    return jido.await_(ref)


SCENARIOS = [
    Scenario("success", "jido.run(Add, {'value': 5})", _success),
    Scenario("validation failure", "jido.run(Add, {'value': 'five'})", _validation),
    Scenario(
        "retry with backoff", "jido.run(warming_up, {...}, max_retries=3, backoff=0.1)", _retry
    ),
    Scenario(
        "timeout stops CPU-bound sync work",
        "jido.run(crunch, {'n': 10**10}, timeout=0.3)",
        _timeout_cpu,
    ),
    Scenario(
        "timeout of time.sleep in a thread",
        "jido.run(nap, {'seconds': 1}, timeout=0.3)",
        _timeout_sleep_thread,
    ),
    Scenario(
        "timeout of time.sleep in a process",
        "jido.run(nap, {...}, timeout=0.3, isolation='process')",
        _timeout_sleep_process,
    ),
    Scenario("async run, awaited", "jido.await_(jido.run_async(fetch, {...}))", _async_awaited),
    Scenario("async run, cancelled", "jido.cancel(ref); jido.await_(ref)", _async_cancelled),
]


def batch(count: int, seed: int = 7) -> list[jido.AsyncRef]:
    """Start ``count`` jobs of random length; some fail once, some time out."""
    rng = random.Random(seed)
    refs = []
    for n in range(count):
        seconds = rng.uniform(0.05, 0.6)
        timeout = 0.5 if n % 9 == 4 else 5.0
        refs.append(
            jido.run_async(
                job,
                {"n": n, "seconds": seconds, "fail": n % 5 == 2},
                timeout=timeout,
                max_retries=1,
                backoff=0.3,
            )
        )
    return refs
