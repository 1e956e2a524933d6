"""Store conformance, part 4: the versioned schema, on SQLite and Postgres."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import jido
from jido._store import open_store
from jido._store.schema import MIGRATIONS, SCHEMA_VERSION
from store.helpers import started


def test_a_new_store_records_its_schema_version(store_url: str, raw: Callable[..., Any]) -> None:
    open_store(store_url).close()
    meta = dict(raw("SELECT key, value FROM jido_meta"))
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    assert meta["jido_version"] == jido.__version__
    open_store(store_url).close()  # opening again changes nothing
    assert dict(raw("SELECT key, value FROM jido_meta")) == meta


def test_an_older_store_is_migrated_forward_keeping_its_runs(
    store_url: str, raw: Callable[..., Any]
) -> None:
    dialect = "sqlite" if store_url.startswith("sqlite") else "postgresql"
    for statement in MIGRATIONS[dialect][0]:  # a store as version 1 of the schema left it
        raw(statement)
    raw("INSERT INTO jido_meta (key, value) VALUES ('schema_version', '1')")
    for i, status in enumerate(["running", "succeeded", "succeeded"]):
        raw(
            "INSERT INTO jido_runs (run_id, seq, kind, action, status, definition, fingerprint,"
            " params, context, owner, lease_until, created_at, updated_at) VALUES"
            " (?, ?, 'action', 'old.action', ?, '{}', 'fp', '{\"n\": 1}', '{}', 'a', 0, ?, ?)",
            f"old-{i}",
            i + 1,
            status,
            1000.0 + i,
            1000.0 + i,
        )
    store = open_store(store_url)
    try:
        row = store.get_run("old-0")
        assert row is not None
        assert (row.status, row.params) == ("running", {"n": 1})
        assert [r.run_id for r in store.list_runs(action="old.action").items] == [
            "old-2",
            "old-1",
            "old-0",
        ]
        counts = store.counts()
        assert (counts["running"], counts["succeeded"]) == (1, 2)
        started(store, "new")  # the migrated store keeps counting
        assert store.counts()["running"] == 2
    finally:
        store.close()
    assert dict(raw("SELECT key, value FROM jido_meta"))["schema_version"] == str(SCHEMA_VERSION)
    indexes = _indexes(store_url, raw)
    assert {"jido_runs_created", "jido_runs_status", "jido_runs_action"} <= indexes


def _indexes(store_url: str, raw: Callable[..., Any]) -> set[str]:
    if store_url.startswith("sqlite"):
        return {r[0] for r in raw("SELECT name FROM sqlite_master WHERE type = 'index'")}
    return {r[0] for r in raw("SELECT indexname FROM pg_indexes WHERE tablename = 'jido_runs'")}


def test_a_store_from_a_newer_jido_is_refused(store_url: str, raw: Callable[..., Any]) -> None:
    open_store(store_url).close()
    raw("UPDATE jido_meta SET value = '99' WHERE key = 'schema_version'")
    raw("UPDATE jido_meta SET value = '9.0.0' WHERE key = 'jido_version'")
    with pytest.raises(jido.ConfigError) as info:
        open_store(store_url)
    message = str(info.value)
    assert "schema version 99" in message
    assert "jido 9.0.0" in message
    assert "upgrade jido" in message


@pytest.mark.parametrize("value", ["", "two", "0", "-3"])
def test_a_damaged_version_is_refused(store_url: str, raw: Callable[..., Any], value: str) -> None:
    open_store(store_url).close()
    raw("UPDATE jido_meta SET value = ? WHERE key = 'schema_version'", value)
    with pytest.raises(jido.ConfigError, match="damaged"):
        open_store(store_url)


def test_a_missing_version_is_refused(store_url: str, raw: Callable[..., Any]) -> None:
    open_store(store_url).close()
    raw("DELETE FROM jido_meta")
    with pytest.raises(jido.ConfigError, match="damaged"):
        open_store(store_url)


def test_a_corrupt_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.write_bytes(b"this is not a database" * 500)
    with pytest.raises(jido.ConfigError, match="not a jido store or is damaged"):
        open_store(f"sqlite:///{path}")


def test_a_sqlite_database_of_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    with pytest.raises(jido.ConfigError, match="not a jido store"):
        open_store(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:  # untouched
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"users"}


def test_postgres_tables_without_meta_are_refused(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE jido_runs (run_id TEXT)")
    with pytest.raises(jido.ConfigError, match="damaged"):
        open_store(pg_url)


def test_postgres_shares_a_database_with_other_tables(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id INT PRIMARY KEY)")
    store = open_store(pg_url)
    store.close()


def test_a_missing_sqlite_directory_is_created(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a' / 'b' / 'runs.db'}")
    store.close()
    assert (tmp_path / "a" / "b" / "runs.db").exists()


def test_an_unreachable_postgres_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(jido.ConfigError, match="cannot connect"):
        open_store(f"postgresql://nobody@/jido?host={tmp_path}&connect_timeout=2")


def test_many_processes_opening_a_new_store_create_it_once(store_url: str) -> None:
    import concurrent.futures
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(4, mp_context=ctx) as pool:
        results = list(pool.map(_open_and_count, [store_url] * 4))
    assert results == [0] * 4


def _open_and_count(url: str) -> int:
    store = open_store(url)
    try:
        return sum(store.counts().values())
    finally:
        store.close()


def test_the_memory_store_works_for_one_process() -> None:
    store = open_store("sqlite:///:memory:")
    try:
        started(store, "r1")
        assert store.get_run("r1") is not None
        assert store.changes().items[0].run_id == "r1"
    finally:
        store.close()
