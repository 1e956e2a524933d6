"""Run ids: unique in a process and, with a random prefix, across processes.

The prefix is 64 random bits, drawn again in a forked child (a pre-fork server's workers
would otherwise share it, and a durable store would take a new run for an old one).
"""

from __future__ import annotations

import itertools
import os

__all__ = ["new_run_id"]

_ids = itertools.count(1)
_prefix = os.urandom(8).hex()


def new_run_id() -> str:
    """A new run id, ``"<16 hex digits>-<n>"``."""
    return f"{_prefix}-{next(_ids)}"


def _reseed() -> None:
    global _ids, _prefix
    _ids = itertools.count(1)
    _prefix = os.urandom(8).hex()


os.register_at_fork(after_in_child=_reseed)
