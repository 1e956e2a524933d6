"""Durations meet the clock: any accepted number of seconds works, none overflows a clock.

Options accept any finite duration (and waits accept ``inf``); deadlines and waits are
computed through these helpers, which clamp what no clock can represent:
``timeout=1e300`` is a deadline about 31 years away, a wait of a day is cut into
slices the platform accepts.
"""

from __future__ import annotations

import math
import time
from typing import Final

__all__ = ["HORIZON", "MAX_WAIT", "deadline_after", "sleep", "wait_slice"]

HORIZON: Final = 1e9
"""Seconds (about 31 years): longer durations are clamped to it when they become deadlines."""

MAX_WAIT: Final = 3600.0
"""The longest single blocking wait; longer ones are waited out in slices."""


def deadline_after(now: float, seconds: float) -> float:
    """``now + seconds`` on the ``time.monotonic()`` clock, ``seconds`` clamped to the horizon.

    Example:
        >>> deadline_after(10.0, 2.5), deadline_after(0.0, 1e300) == HORIZON
        (12.5, True)
    """
    return now + (seconds if seconds < HORIZON else HORIZON)


def wait_slice(seconds: float) -> float:
    """One blocking wait of at most ``seconds`` that every platform clock accepts.

    Example:
        >>> wait_slice(0.25), wait_slice(1e10), wait_slice(-1.0)
        (0.25, 3600.0, 0.0)
    """
    if seconds > MAX_WAIT or math.isnan(seconds):
        return MAX_WAIT
    return seconds if seconds > 0.0 else 0.0


def sleep(seconds: float) -> None:
    """``time.sleep`` for any duration (a huge one sleeps in slices instead of overflowing)."""
    if seconds <= MAX_WAIT:
        time.sleep(seconds if seconds > 0.0 else 0.0)
        return
    end = deadline_after(time.monotonic(), seconds)
    while (left := end - time.monotonic()) > 0.0:
        time.sleep(wait_slice(left))
