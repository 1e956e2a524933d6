"""Imported once by the forkserver that starts child processes, never by the parent.

Defining one action loads what pydantic imports lazily on its first model (its schema
generator and validators, about 80 modules): every child forked from the server has
them already, instead of importing them while its first attempt waits. A failure here
only loses that head start (the forkserver must never fail to start).
"""

from __future__ import annotations

import contextlib
from typing import Any


def _warm_up() -> None:
    from jido._action.function import action

    def warm(value: int = 0, text: str = "", data: dict[str, Any] | None = None) -> dict[str, Any]:
        return {}

    action(warm)


with contextlib.suppress(Exception):
    _warm_up()
