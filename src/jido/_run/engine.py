"""The small interface every engine implements: start an attempt, report its outcome once.

An engine (worker threads, child processes, a cluster) imports this module and nothing
above ``jido._run``; the event-driven driver (``driver.py``) stops attempts through the
:class:`AttemptHandle` an engine returns.
"""

from __future__ import annotations

from typing import Protocol

from jido._core.context import RunContext
from jido._core.errors import JidoError
from jido._run.call import Call
from jido._run.outcome import Outcome

__all__ = ["AttemptHandle", "AttemptSink", "Engine"]


class AttemptHandle(Protocol):
    """How a driver stops an attempt an engine is running."""

    def interrupt(self) -> None:
        """Soft stop: raise into the work at its next bytecode, or send it a signal."""

    def kill(self) -> bool:
        """Hard stop; True if the work will certainly die (a process), False if impossible."""

    def abandon(self) -> bool:
        """Stop waiting for it; False if it has just finished (its outcome is on its way)."""


class AttemptSink(Protocol):
    """Where an engine reports an attempt: ``sink(outcome)`` exactly once, from any thread."""

    def __call__(self, outcome: Outcome) -> None: ...

    def started(self, waited: float) -> bool:
        """The attempt begins executing now, after ``waited`` seconds waiting for a worker.

        Called only by engines whose ``reports_start`` is True; the attempt's ``timeout``
        then counts from here (queueing excluded). Call it in the thread that runs the
        attempt, before the action; False means it was stopped meanwhile: do not run it
        (report ``Stopped("not_started")``).
        """

    def fail(self, error: JidoError) -> None:
        """Completing the attempt broke (a bug): fail the whole run with ``error``."""


class Engine(Protocol):
    """Runs one attempt of a call somewhere and reports its outcome.

    ``reports_start`` (optional, default False): the engine calls ``on_done.started()``
    when the attempt leaves its queue; otherwise the attempt's ``timeout`` counts from
    :meth:`start`.
    """

    name: str
    observes_token: bool
    """True when the work sees the attempt's token at once (in-process threads): it then
    gets a short grace to stop by itself before it is interrupted."""

    def start(self, call: Call, rctx: RunContext, on_done: AttemptSink) -> AttemptHandle:
        """Start the attempt; ``on_done((ok, value))`` is called exactly once, from any thread."""
