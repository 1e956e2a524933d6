"""Fixtures of the durable suite: a store of each backend, a runtime on it, child processes.

Every test that takes ``store_url`` runs on SQLite and on the session's real Postgres
(``tests/pgserver.py``: under ``CI=true`` a Postgres that cannot start fails the test).
Child processes come from the ``zygote`` (``zygote.py``): forked from a process that has
already imported jido, so that a test can start and kill many of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import jido
from durable.durable_helpers import LEASE
from durable.zygote import Zygote

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty store of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def drt(store_url: str) -> Iterator[jido.Runtime]:
    """A runtime on the test's store (short lease), shut down after the test."""
    with jido.Runtime(name="durable", store=store_url, lease=LEASE) as runtime:
        yield runtime


@pytest.fixture
def log(tmp_path: Path) -> str:
    """The execution log of the test's steps (see ``durable_actions.record``)."""
    return str(tmp_path / "executions.log")


@pytest.fixture(scope="session")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    """The session's fork parent (its children are killed at the end of the session)."""
    z = Zygote(tmp_path_factory.mktemp("children"))
    try:
        yield z
    finally:
        z.close()
