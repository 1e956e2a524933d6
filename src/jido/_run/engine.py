"""The small interface every engine implements: start an attempt, report its outcome once.

An engine (worker threads, child processes, a cluster) imports this module and nothing
above ``jido._run``; the event-driven driver (``driver.py``) stops attempts through the
:class:`AttemptHandle` an engine returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from jido._core.context import RunContext
from jido._run.call import Call
from jido._run.outcome import Outcome

__all__ = ["AttemptHandle", "Engine"]


class AttemptHandle(Protocol):
    """How a driver stops an attempt an engine is running."""

    def interrupt(self) -> None:
        """Soft stop: raise into the work at its next bytecode, or send it a signal."""

    def kill(self) -> bool:
        """Hard stop; True if the work will certainly die (a process), False if impossible."""

    def abandon(self) -> bool:
        """Stop waiting for it; False if it has just finished (its outcome is on its way)."""


class Engine(Protocol):
    """Runs one attempt of a call somewhere and reports its outcome."""

    name: str
    observes_token: bool
    """True when the work sees the attempt's token at once (in-process threads): it then
    gets a short grace to stop by itself before it is interrupted."""

    def start(
        self, call: Call, rctx: RunContext, on_done: Callable[[Outcome], None]
    ) -> AttemptHandle:
        """Start the attempt; ``on_done((ok, value))`` is called exactly once, from any thread."""
