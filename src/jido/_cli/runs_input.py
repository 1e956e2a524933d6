"""What ``jido runs`` takes from its command line: durations, times, statuses, the store.

Bad input raises :class:`BadInput` (one line, exit status 2 by default).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from jido._store import ACTIVE, STATUSES, Store, StoreURL, open_store
from jido._store.url import DEFAULT_STORE, resolve_store_url

if TYPE_CHECKING:
    from jido._runtime.runtime import Runtime

__all__ = [
    "DEFAULT_STORE",
    "BadInput",
    "check_limit",
    "opened_runtime",
    "opened_store",
    "parse_duration",
    "parse_since",
    "parse_statuses",
    "store_url",
]

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_GROUPS = {"active": ACTIVE}


class BadInput(Exception):
    """Bad input on the command line: one line on stderr, exit status ``code`` (2)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def parse_duration(text: str, option: str = "--older-than") -> float:
    """Seconds in ``30s``, ``15m``, ``12h``, ``7d`` (a number and one unit).

    Example:
        >>> parse_duration("7d"), parse_duration("1.5h"), parse_duration("90s")
        (604800.0, 5400.0, 90.0)
    """
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise BadInput(
            f"{option}: expected a number and a unit (s, m, h or d), like 30s, 15m, 12h or 7d; "
            f"got {text!r}"
        )
    return float(found.group(1)) * _UNITS[found.group(2)]


def parse_since(text: str, now: float) -> float:
    """Epoch seconds from ``1h``/``7d`` (that long before ``now``) or an ISO date or time.

    An ISO time without an offset is local time.

    Example:
        >>> parse_since("1h", now=7200.0)
        3600.0
        >>> parse_since("2026-01-02T03:04:05+00:00", now=0.0)
        1767323045.0
    """
    if _DURATION.fullmatch(text.strip()):
        return now - parse_duration(text, "--since")
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise BadInput(
            f"--since: expected a duration (30m, 1h, 7d) or an ISO date or time "
            f"(2026-01-31, 2026-01-31T12:00); got {text!r}"
        ) from None


def parse_statuses(values: Sequence[str] | None) -> tuple[str, ...]:
    """The statuses of ``--status`` options (repeated or comma-separated; ``active``)."""
    wanted: list[str] = []
    for value in values or ():
        for name in filter(None, (part.strip() for part in value.split(","))):
            if name in _GROUPS:
                wanted.extend(_GROUPS[name])
            elif name in STATUSES:
                wanted.append(name)
            else:
                raise BadInput(
                    f"--status: unknown status {name!r} (one of {', '.join(STATUSES)}, active)"
                )
    return tuple(dict.fromkeys(wanted))


def store_url(args: argparse.Namespace) -> StoreURL:
    """The store the command works on; a missing SQLite file is bad input, not a new store."""
    explicit = args.store
    url = resolve_store_url(explicit)
    if url is None:
        url = resolve_store_url(DEFAULT_STORE)
    assert url is not None
    if url.dialect == "sqlite" and url.path != ":memory:" and not os.path.exists(str(url.path)):
        hint = "" if explicit else " (pass --store URL or set JIDO_STORE)"
        raise BadInput(f"no store at {url.path}{hint}")
    return url


@contextmanager
def opened_store(args: argparse.Namespace) -> Iterator[Store]:
    store = open_store(store_url(args))
    try:
        yield store
    finally:
        store.close()


@contextmanager
def opened_runtime(args: argparse.Namespace) -> Iterator[Runtime]:
    from jido._runtime.runtime import Runtime

    rt = Runtime(store=store_url(args).url, name="jido-cli")
    try:
        yield rt
    finally:
        rt.shutdown()


def check_limit(limit: int) -> None:
    if not 1 <= limit <= 1000:
        raise BadInput(f"--limit: expected 1 to 1000, got {limit}")
