"""The versioned schema: DDL per dialect, the forward migrations, and the version checks.

``jido_meta`` holds ``schema_version`` (and ``jido_version``, the jido that last migrated
the store). Migration ``n`` brings a store from version ``n - 1`` to ``n``; the backends
run the missing ones in one transaction under a lock, so that several processes opening a
new store at once create it once. A store written by a newer jido, or a database that
is not a jido store, is refused with a :class:`jido.ConfigError`.
"""

from __future__ import annotations

from jido._core.errors import ConfigError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "check_version", "parse_version"]

_ACTIVE = "status IN ('queued', 'running', 'retrying')"


def _tables(real: str, bigint: str, boolean: str, extra: str, clustered: str) -> tuple[str, ...]:
    return (
        "CREATE TABLE jido_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        f"""CREATE TABLE jido_runs (
            run_id TEXT PRIMARY KEY,
            seq {bigint} NOT NULL,{extra}
            kind TEXT NOT NULL,
            action TEXT NOT NULL,
            status TEXT NOT NULL,
            definition TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            params TEXT NOT NULL,
            context TEXT NOT NULL,
            result TEXT,
            error TEXT,
            reason TEXT,
            owner TEXT,
            lease_until {real},
            cancel_requested_at {real},
            next_retry_at {real},
            recoveries INTEGER NOT NULL DEFAULT 0,
            created_at {real} NOT NULL,
            started_at {real},
            updated_at {real} NOT NULL,
            finished_at {real})""",
        f"""CREATE TABLE jido_attempts (
            run_id TEXT NOT NULL,
            step_key TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            status TEXT NOT NULL,
            started_at {real} NOT NULL,
            finished_at {real},
            result TEXT,
            error TEXT,
            stopped {boolean},
            stop TEXT,
            retry_at {real},
            PRIMARY KEY (run_id, step_key, attempt)){clustered}""",
        f"CREATE INDEX jido_runs_active ON jido_runs (owner) WHERE {_ACTIVE}",
    )


_STATUSES = "'queued', 'running', 'retrying', 'succeeded', 'failed', 'cancelled', 'needs_attention'"
_LISTING = (
    "CREATE INDEX jido_runs_created ON jido_runs (created_at, run_id)",
    "CREATE INDEX jido_runs_status ON jido_runs (status, created_at, run_id)",
    "CREATE INDEX jido_runs_action ON jido_runs (action, created_at, run_id)",
    "CREATE INDEX jido_runs_status_action ON jido_runs (status, action, created_at, run_id)",
)
_RECOUNT = (
    "UPDATE jido_counts SET n = (SELECT COUNT(*) FROM jido_runs r "
    "WHERE r.status = jido_counts.status) WHERE shard = 0"
)
# Runs per status, kept by triggers so that counts() reads a few rows. On Postgres each
# backend adds to its own shard (pid % 16), so that concurrent writers rarely wait on a row.
_SQLITE_COUNTS = (
    "CREATE TABLE jido_counts (status TEXT NOT NULL, shard INTEGER NOT NULL, "
    "n INTEGER NOT NULL, PRIMARY KEY (status, shard)) WITHOUT ROWID",
    "INSERT INTO jido_counts (status, shard, n) SELECT value, 0, 0 FROM json_each("
    f"'[{_STATUSES.replace(chr(39), chr(34))}]')",
    _RECOUNT,
    "CREATE TRIGGER jido_runs_count_insert AFTER INSERT ON jido_runs BEGIN "
    "UPDATE jido_counts SET n = n + 1 WHERE status = NEW.status AND shard = 0; END",
    "CREATE TRIGGER jido_runs_count_delete AFTER DELETE ON jido_runs BEGIN "
    "UPDATE jido_counts SET n = n - 1 WHERE status = OLD.status AND shard = 0; END",
    "CREATE TRIGGER jido_runs_count_update AFTER UPDATE OF status ON jido_runs "
    "WHEN OLD.status <> NEW.status BEGIN "
    "UPDATE jido_counts SET n = n - 1 WHERE status = OLD.status AND shard = 0; "
    "UPDATE jido_counts SET n = n + 1 WHERE status = NEW.status AND shard = 0; END",
)
_PG_SHARD = "pg_backend_pid() % 16"
_POSTGRES_COUNTS = (
    "CREATE TABLE jido_counts (status TEXT NOT NULL, shard INTEGER NOT NULL, "
    "n BIGINT NOT NULL, PRIMARY KEY (status, shard))",
    "INSERT INTO jido_counts (status, shard, n) SELECT s, g, 0 "
    f"FROM unnest(ARRAY[{_STATUSES}]) AS s, generate_series(0, 15) AS g",
    _RECOUNT,
    # inserts and deletes (bulk loads, pruning) are counted once per statement: updating one
    # counter row per row in a transaction would walk an ever longer version chain
    f"""CREATE FUNCTION jido_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE jido_counts c SET n = c.n + d.k
        FROM (SELECT status, count(*) AS k FROM jido_inserted GROUP BY status) d
        WHERE c.status = d.status AND c.shard = {_PG_SHARD};
        RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION jido_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE jido_counts c SET n = c.n - d.k
        FROM (SELECT status, count(*) AS k FROM jido_deleted GROUP BY status) d
        WHERE c.status = d.status AND c.shard = {_PG_SHARD};
        RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION jido_count_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE jido_counts SET n = n - 1 WHERE status = OLD.status AND shard = {_PG_SHARD};
        UPDATE jido_counts SET n = n + 1 WHERE status = NEW.status AND shard = {_PG_SHARD};
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER jido_runs_count_insert AFTER INSERT ON jido_runs "
    "REFERENCING NEW TABLE AS jido_inserted "
    "FOR EACH STATEMENT EXECUTE FUNCTION jido_count_inserted()",
    "CREATE TRIGGER jido_runs_count_delete AFTER DELETE ON jido_runs "
    "REFERENCING OLD TABLE AS jido_deleted "
    "FOR EACH STATEMENT EXECUTE FUNCTION jido_count_deleted()",
    "CREATE TRIGGER jido_runs_count_update AFTER UPDATE OF status ON jido_runs "
    "FOR EACH ROW WHEN (OLD.status <> NEW.status) EXECUTE FUNCTION jido_count_moved()",
)
_SQLITE_V1 = (
    *_tables("REAL", "INTEGER", "INTEGER", "", " WITHOUT ROWID"),
    "CREATE UNIQUE INDEX jido_runs_seq ON jido_runs (seq)",
)
_POSTGRES_V1 = (
    "CREATE SEQUENCE jido_seq",
    *_tables(
        "DOUBLE PRECISION",
        "BIGINT",
        "BOOLEAN",
        "\n            xid XID8 NOT NULL DEFAULT pg_current_xact_id(),",
        "",
    ),
    "CREATE INDEX jido_runs_xid ON jido_runs (xid, seq)",
)

MIGRATIONS: dict[str, tuple[tuple[str, ...], ...]] = {
    "sqlite": (_SQLITE_V1, (*_LISTING, *_SQLITE_COUNTS)),
    "postgresql": (_POSTGRES_V1, (*_LISTING, *_POSTGRES_COUNTS)),
}
"""Per dialect, migration ``n`` (1-based) as its statements."""

SCHEMA_VERSION = len(MIGRATIONS["sqlite"])
assert len(MIGRATIONS["postgresql"]) == SCHEMA_VERSION


def parse_version(value: object, where: str) -> int:
    """The stored ``schema_version``, or a ConfigError saying the store is damaged."""
    try:
        version = int(str(value))
    except ValueError:
        version = -1
    if version < 1:
        raise ConfigError(f"{where} is damaged: jido_meta.schema_version is {value!r}")
    return version


def check_version(version: int, where: str, written_by: str | None) -> None:
    """Refuse a store whose schema is newer than this jido knows."""
    if version > SCHEMA_VERSION:
        by = f" (written by jido {written_by})" if written_by else ""
        raise ConfigError(
            f"{where} has schema version {version}{by}, newer than this jido knows "
            f"({SCHEMA_VERSION}); upgrade jido to use it"
        )
