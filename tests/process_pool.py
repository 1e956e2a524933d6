"""Helpers for the process engine's tests: reaching into a runtime's pool on purpose."""

from __future__ import annotations

import os
import subprocess
import sys
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


def python(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a fresh interpreter (nothing of this process's pools in it), no stdin."""
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
