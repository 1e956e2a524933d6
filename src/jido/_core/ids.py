"""Run ids: unique in a process and, with a random prefix, across processes."""

from __future__ import annotations

import itertools
import os

__all__ = ["new_run_id"]

_ids = itertools.count(1)
_prefix = os.urandom(4).hex()


def new_run_id() -> str:
    """A new run id, ``"<8 hex digits>-<n>"``."""
    return f"{_prefix}-{next(_ids)}"
