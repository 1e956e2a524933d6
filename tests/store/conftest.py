"""Fixtures of the store suite: a fresh store of each backend per test.

The Postgres server is the session's (``tests/pgserver.py``); each Postgres test gets a
database of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jido._store import Store, open_store
from support import sql

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty store of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A new, empty store of each backend, closed after the test."""
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def raw(store_url: str) -> Callable[..., list[Any]]:
    """Run SQL directly on the store's database (``?`` placeholders work on both)."""

    def run(statement: str, *args: Any) -> list[Any]:
        return sql(store_url, statement, *args)

    return run
