"""The kinds of durable runs (a single action, a chain, a plan) and how each is resumed.

Each kind registers how to run a recorded run again (``resume``) and how to turn its
recorded result back into what its entry point returns (``decode``). Chains and plans
register themselves from ``jido._workflow`` (which sits above this package).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jido._durable.journal import DurableRun
    from jido._durable.relay import Relay
    from jido._store import RunRow

__all__ = ["KINDS", "Kind", "register"]

Resume = Callable[[Any, "RunRow", "DurableRun", "Relay"], None]
"""``resume(runtime, row, run, relay)``: start driving ``run`` again and attach its driver to
``relay``; raise ``LookupError`` (the reason) when the recorded definition cannot be run
with the code loaded now."""


@dataclass(frozen=True, slots=True)
class Kind:
    resume: Resume
    decode: Callable[[Any], Any]


KINDS: dict[str, Kind] = {}


def register(name: str, resume: Resume, decode: Callable[[Any], Any]) -> None:
    """Make runs of kind ``name`` resumable."""
    KINDS[name] = Kind(resume, decode)
