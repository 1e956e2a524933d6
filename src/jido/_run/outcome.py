"""What an attempt's execution hands back to its driver, wherever it ran."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["Outcome", "Stopped", "deliver"]

log = logging.getLogger("jido")

Outcome = tuple[bool, Any]
"""``(True, value)`` or ``(False, exception)``."""


class Stopped(Exception):
    """An attempt ended because it was told to stop; ``mechanism`` says how it stopped."""

    def __init__(self, mechanism: str) -> None:
        super().__init__(mechanism)
        self.mechanism = mechanism


def deliver(on_done: Callable[[Outcome], None], outcome: Outcome) -> None:
    """Hand an attempt's outcome to its driver; a failure there is a jido bug, logged."""
    try:
        on_done(outcome)
    except Exception:  # pragma: no cover - a bug in jido
        log.exception("jido job completion failed")
