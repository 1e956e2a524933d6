"""Helpers for the process engine's tests: reaching into a runtime's pool on purpose."""

from __future__ import annotations

import os
from typing import Any

import jido

PROCESS_STOPS = {"interrupted", "killed", "not_started"}
"""The documented ``details["stop"]`` values of process mode (README, Guarantees)."""


def engine_of(rt: jido.Runtime) -> Any:
    assert rt._processes is not None
    return rt._processes


def children_of(rt: jido.Runtime) -> list[Any]:
    engine = engine_of(rt)
    with engine._cond:
        return list(engine._all.values())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))
