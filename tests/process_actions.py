"""Actions for the process engine's hardening tests (importable by a child process)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import jido

EXITS: dict[str, type[BaseException]] = {
    "SystemExit": SystemExit,
    "KeyboardInterrupt": KeyboardInterrupt,
    "GeneratorExit": GeneratorExit,
}


@jido.action
def exits(kind: str) -> dict[str, Any]:
    """Raises one of the exceptions that end a Python program."""
    raise EXITS[kind]()


@jido.action
async def async_exits(kind: str) -> dict[str, Any]:
    await asyncio.sleep(0)
    raise EXITS[kind]()


@jido.action
def hard_exit(code: int) -> dict[str, Any]:
    os._exit(code)


@jido.action
def pid() -> dict[str, Any]:
    return {"pid": os.getpid()}


@jido.action
def nap(seconds: float, marker: str = "") -> dict[str, Any]:
    """Sleeps in ``time.sleep``; writes ``marker`` (a file path) first if given."""
    if marker:
        Path(marker).write_text(str(os.getpid()))
    time.sleep(seconds)
    return {"pid": os.getpid()}


def _explode() -> None:
    raise SystemExit("this result cannot be rebuilt here")


class Poison:
    """Pickles fine; unpickling it raises SystemExit (in the parent)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_explode, ())


@jido.action
def poisoned_result() -> dict[str, Any]:
    return {"poison": Poison()}


@jido.action
def side_effect(path: str, seconds: float) -> dict[str, Any]:
    """Sleeps (cooperatively), then appends a line to ``path``: the side effect."""
    jido.current().sleep(seconds)
    with open(path, "a") as f:
        f.write("done\n")
    return {}
