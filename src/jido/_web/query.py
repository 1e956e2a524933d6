"""The runs list's filters as they appear in a URL's query string.

``?status=failed&action=orders.checkout&since=24h``: ``status`` is one status or several
separated by commas, ``action`` an exact action name, ``since`` a relative age (``90s``,
``15m``, ``1h``, ``7d``, ``2w``), epoch seconds or an ISO 8601 time (UTC unless it says
otherwise). Pure functions; a bad value is a :class:`FilterError` that says which.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from jido._store import STATUSES
from jido._store.records import Status

__all__ = [
    "CANCELLABLE",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Filter",
    "FilterError",
    "parse_filter",
    "parse_limit",
]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
CANCELLABLE: tuple[Status, ...] = ("queued", "running", "retrying", "needs_attention")
"""The statuses a cancel request can still change."""

_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


class FilterError(ValueError):
    """A query-string value that is not a valid filter (the message names it)."""


@dataclass(frozen=True, slots=True)
class Filter:
    """Which runs to list: statuses (empty: any), an action name, a creation-time floor."""

    statuses: tuple[Status, ...] = ()
    action: str | None = None
    since: float | None = None

    def cancellable(self) -> tuple[Status, ...]:
        """The statuses of this filter that a cancel can still change."""
        if not self.statuses:
            return CANCELLABLE
        return tuple(s for s in self.statuses if s in CANCELLABLE)

    def describe(self) -> str:
        """The filter in words, for a confirmation (``"status failed, action add"``)."""
        parts = []
        if self.statuses:
            parts.append("status " + " or ".join(self.statuses))
        if self.action is not None:
            parts.append(f"action {self.action}")
        if self.since is not None:
            when = datetime.fromtimestamp(self.since, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            parts.append(f"created since {when}")
        return ", ".join(parts) or "every run"


def parse_filter(params: Mapping[str, str], now: float) -> Filter:
    """The filter in ``params`` (a query string's values), ``now`` being epoch seconds.

    Example:
        >>> parse_filter({"status": "failed,retrying", "since": "1h"}, now=7200.0)
        Filter(statuses=('failed', 'retrying'), action=None, since=3600.0)
    """
    action = params.get("action", "").strip() or None
    return Filter(_statuses(params.get("status", "")), action, _since(params.get("since"), now))


def parse_limit(value: str | None) -> int:
    """The page size asked for (``DEFAULT_LIMIT`` when absent), from 1 to ``MAX_LIMIT``."""
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise FilterError(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {value!r}")
    return int(value)


def _statuses(value: str) -> tuple[Status, ...]:
    out: list[Status] = []
    for part in value.split(","):
        name = part.strip()
        if not name:
            continue
        status = next((s for s in STATUSES if s == name), None)
        if status is None:
            raise FilterError(f"unknown status {name!r} (one of {', '.join(STATUSES)})")
        if status not in out:
            out.append(status)
    return tuple(out)


def _since(value: str | None, now: float) -> float | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    age = _AGE.match(text)
    if age:
        return now - float(age[1]) * _UNIT[age[2]]
    try:
        number = float(text)
    except ValueError:
        return _iso(text)
    if not math.isfinite(number) or number < 0:
        raise FilterError(f"since must be a time, got {value!r}")
    return number


def _iso(text: str) -> float:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(
            f"since must be an age (15m, 1h, 7d), epoch seconds or an ISO 8601 time, got {text!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()
