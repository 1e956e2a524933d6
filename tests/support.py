"""Helpers shared by the test modules (imported as ``support``: a name no other module has)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
"""The tests folder."""


def wait_until(
    predicate: Callable[[], object], timeout: float = 2.0, interval: float = 0.005
) -> bool:
    """Poll ``predicate`` until it is truthy or ``timeout`` seconds pass; return its last truth."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return bool(predicate())
        time.sleep(interval)


class Stopwatch:
    """``with Stopwatch() as sw: ...`` then ``sw.elapsed`` (monotonic seconds)."""

    def __init__(self) -> None:
        self.start = 0.0
        self.elapsed = 0.0

    def __enter__(self) -> Stopwatch:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.monotonic() - self.start


def sql(url: str, statement: str, *args: Any) -> list[Any]:
    """Run one SQL statement on the store at ``url`` (``?`` placeholders on both backends)."""
    if url.startswith("sqlite"):
        import sqlite3

        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            rows = db.execute(statement, args).fetchall()
            db.commit()
            return rows
        finally:
            db.close()
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement.replace("?", "%s"), args)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []
