"""Lending a worker's slot while it blocks in a jido wait, so nested runs never starve.

A worker thread of a pool registers its pool as this thread's *lender*. When code on
that thread blocks waiting for a run (``jido.run`` of a nested run, ``await_``,
``ref.result``, ``cancel``), the wait calls :func:`blocked` / :func:`unblocked`: the
pool may start one more worker meanwhile, so the run being waited for never needs
the slot its waiting parent holds, whatever ``max_threads`` is.
"""

from __future__ import annotations

import threading
from typing import Protocol

__all__ = ["Lender", "lender", "lending", "set_lender"]


class Lender(Protocol):
    """A pool that can grow by one worker while one of its workers is blocked."""

    def block(self) -> None:
        """One of my workers starts waiting for a run."""

    def unblock(self) -> None:
        """That worker stopped waiting."""


class _Lending(threading.local):
    lender: Lender | None = None  # a class default: reading it never raises


lending = _Lending()
"""``lending.lender``: the pool whose worker this thread is (read it inline on hot paths)."""


def lender() -> Lender | None:
    """The pool whose worker is this thread, or None (any other thread)."""
    return lending.lender


def set_lender(pool: Lender | None) -> None:
    """Mark this thread as a worker of ``pool`` (for its whole life)."""
    lending.lender = pool
