"""The SQLite store: standard library ``sqlite3``, WAL, one connection guarded by a lock.

``durability="process"`` runs with ``synchronous=NORMAL`` (a commit survives a crash of
the process; the last commits may be lost on power loss), ``"power"`` with ``FULL`` (an
fsync per commit). Every write is one ``BEGIN IMMEDIATE`` transaction, so writers in
several processes are serialized by SQLite itself and ``seq`` (``MAX(seq) + 1`` inside the
write) grows in commit order. :meth:`SQLiteStore.prune` never deletes the run holding the
largest ``seq``, so that ``MAX(seq)`` never goes back.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from jido._core.errors import ConfigError, InternalError
from jido._core.version import VERSION
from jido._store import sqlitesql as q
from jido._store.base import RUN_COLUMNS, ErrorLike, history, page, run_row
from jido._store.codec import encode
from jido._store.records import (
    ACTIVE,
    STATUSES,
    ChangePage,
    Durability,
    NewRun,
    RunHistory,
    RunPage,
    RunRow,
    Status,
    check_run_id,
)
from jido._store.schema import MIGRATIONS, SCHEMA_VERSION, check_version, parse_version
from jido._store.shared import (
    cancelled_error,
    check_limit,
    check_next,
    check_statuses,
    decode_page_cursor,
    encode_error,
    finish_args,
    start_args,
)
from jido._store.url import StoreURL

__all__ = ["SQLiteStore"]

T = TypeVar("T")


class SQLiteStore:
    """A :class:`~jido._store.base.Store` in one SQLite file (see the module docstring)."""

    dialect: Literal["sqlite"] = "sqlite"

    def __init__(self, url: StoreURL, durability: Durability = "process") -> None:
        assert url.path is not None
        self.url = url
        self.durability = durability
        self._where = f"the store {url.redacted()}"
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = _connect(url.path, durability, self._where)
        try:
            _migrate(self._db, self._where)
        except BaseException:
            self.close()
            raise

    # --- plumbing ---------------------------------------------------------------------

    def _tx(
        self,
        body: Callable[[sqlite3.Connection], T],
        mode: str = "IMMEDIATE",
        relaxed: bool = False,
    ) -> T:
        """Run ``body`` in one transaction; ``relaxed``: no fsync of its own even in "power".

        A relaxed commit becomes durable with the next full one (an fsync covers the whole
        write-ahead log); attempt starts use it, so that a step costs one fsync.
        """
        with self._lock:
            db = self._db
            if db is None:
                raise ConfigError(f"{self._where} is closed")
            relax = relaxed and self.durability == "power"
            try:
                if relax:
                    db.execute("PRAGMA synchronous = NORMAL")
                db.execute(f"BEGIN {mode}")
                try:
                    out = body(db)
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise InternalError(f"{self._where}: {exc}") from exc
            finally:
                if relax:
                    db.execute("PRAGMA synchronous = FULL")
            return out

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        return self._tx(lambda db: db.execute(sql, args).fetchall(), "DEFERRED")

    # --- identity -----------------------------------------------------------------------

    def start_run(
        self,
        new: NewRun,
        *,
        owner: str,
        lease_until: float,
        attempt: tuple[str, int] | None = None,
    ) -> tuple[bool, RunRow]:
        args = start_args(new, owner, lease_until)

        def body(db: sqlite3.Connection) -> tuple[bool, RunRow]:
            created = db.execute(q.START, args).rowcount == 1
            if created and attempt is not None:
                db.execute(q.ATTEMPT_STARTED, (new.run_id, *attempt, new.created_at))
            return created, run_row(db.execute(q.SELECT_RUN, (new.run_id,)).fetchone())

        return self._tx(body)

    # --- journal ------------------------------------------------------------------------

    def attempt_started(
        self, run_id: str, step_key: str, attempt: int, *, at: float, owner: str
    ) -> bool:
        def body(db: sqlite3.Connection) -> bool:
            run = db.execute(q.OWNED, (run_id, owner)).fetchone()
            if run is None or run[0] not in ACTIVE:
                return False
            if run[0] != "running":  # the run row is written only when its status changes
                db.execute(q.RUNNING, (at, at, run_id))
            db.execute(q.ATTEMPT_STARTED, (run_id, step_key, attempt, at))
            return True

        return self._tx(body, relaxed=True)

    def attempt_failed(
        self,
        run_id: str,
        step_key: str,
        attempt: int,
        *,
        at: float,
        error: ErrorLike,
        owner: str,
        retry_at: float | None = None,
        stopped: bool | None = None,
        stop: str | None = None,
    ) -> bool:
        ended = (
            run_id,
            step_key,
            attempt,
            "failed",
            at,
            at,
            None,
            encode_error(error),
            stopped,
            stop,
            retry_at,
        )

        def body(db: sqlite3.Connection) -> bool:
            guard = (retry_at, at, retry_at, run_id, owner)
            if db.execute(q.ATTEMPT_FAILED_RUN, guard).rowcount == 0:
                return False
            db.execute(q.ATTEMPT_ENDED, ended)
            return True

        return self._tx(body)

    def step_succeeded(
        self,
        run_id: str,
        step_key: str,
        attempt: int,
        *,
        at: float,
        result: Any,
        owner: str,
        start_next: Sequence[tuple[str, int]] = (),
    ) -> bool:
        starts = [(run_id, k, n, at) for k, n in check_next(start_next, step_key, attempt)]
        ended = (
            run_id,
            step_key,
            attempt,
            "succeeded",
            at,
            at,
            encode(result, "result"),
            None,
            None,
            None,
            None,
        )

        def body(db: sqlite3.Connection) -> bool:
            if db.execute(q.STEP_SUCCEEDED_RUN, (at, run_id, owner)).rowcount == 0:
                return False
            db.execute(q.ATTEMPT_ENDED, ended)
            if starts:
                db.executemany(q.ATTEMPT_STARTED, starts)
            return True

        return self._tx(body)

    def finish_run(
        self,
        run_id: str,
        *,
        owner: str,
        status: Literal["succeeded", "failed", "cancelled"],
        at: float,
        result: Any = None,
        error: ErrorLike | None = None,
        attempt: tuple[str, int] | None = None,
    ) -> bool:
        args, ended = finish_args(run_id, owner, status, at, result, error, attempt)

        def body(db: sqlite3.Connection) -> bool:
            if db.execute(q.FINISH, args).rowcount == 0:
                return False
            if ended is not None:
                db.execute(q.ATTEMPT_ENDED, ended)
            db.execute(q.ABANDON, (at, run_id))
            return True

        return self._tx(body)

    def needs_attention(
        self, run_id: str, *, reason: str, at: float, owner: str | None = None
    ) -> bool:
        def body(db: sqlite3.Connection) -> bool:
            if db.execute(q.PARK, (reason, at, run_id, owner, owner)).rowcount == 0:
                return False
            db.execute(q.ABANDON, (at, run_id))
            return True

        return self._tx(body)

    # --- ownership ----------------------------------------------------------------------

    def renew(self, owner: str, lease_until: float) -> list[str]:
        rows = self._tx(lambda db: db.execute(q.RENEW, (lease_until, owner)).fetchall())
        return [r[0] for r in rows if r[1] is not None]

    def claim_orphans(
        self, owner: str, *, now: float, lease_until: float, limit: int = 100
    ) -> list[RunRow]:
        check_limit(limit)

        def body(db: sqlite3.Connection) -> list[RunRow]:
            ids = [r[0] for r in db.execute(q.ORPHANS, (now, limit))]
            db.executemany(q.TAKE_OVER, [(owner, lease_until, now, i) for i in ids])
            db.executemany(q.ABANDON, [(now, i) for i in ids])
            return [run_row(db.execute(q.SELECT_RUN, (i,)).fetchone()) for i in ids]

        return self._tx(body)

    def claim(self, run_id: str, *, owner: str, now: float, lease_until: float) -> RunRow | None:
        def body(db: sqlite3.Connection) -> RunRow | None:
            args = (owner, lease_until, now, run_id, now, owner)
            if db.execute(q.CLAIM, args).rowcount == 0:
                return None
            db.execute(q.ABANDON, (now, run_id))
            return run_row(db.execute(q.SELECT_RUN, (run_id,)).fetchone())

        return self._tx(body)

    def release(self, owner: str) -> int:
        return self._tx(lambda db: db.execute(q.RELEASE, (owner,)).rowcount)

    # --- cancel -------------------------------------------------------------------------

    def request_cancel(self, run_id: str, *, at: float) -> bool:
        error = cancelled_error("cancelled while no process owned the run")
        args = (at, at, at, error, at, at, at, at, run_id)

        def body(db: sqlite3.Connection) -> bool:
            row = db.execute(q.CANCEL, args).fetchone()
            if row is not None and row[0] == "cancelled":
                db.execute(q.ABANDON, (at, run_id))
            return row is not None

        return self._tx(body)

    def cancel_requested(self, owner: str) -> list[str]:
        return [r[0] for r in self._read(q.CANCEL_REQUESTED, (owner,))]

    def listen(self, callback: Callable[[str], None]) -> Callable[[], None] | None:
        return None

    # --- reads --------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunRow | None:
        rows = self._read(q.SELECT_RUN, (check_run_id(run_id),))
        return run_row(rows[0]) if rows else None

    def get_history(self, run_id: str) -> RunHistory | None:
        def body(db: sqlite3.Connection) -> RunHistory | None:
            run = db.execute(q.SELECT_RUN, (run_id,)).fetchone()
            if run is None:
                return None
            return history(run_row(run), db.execute(q.SELECT_ATTEMPTS, (run_id,)).fetchall())

        return self._tx(body, "DEFERRED")

    def list_runs(
        self,
        *,
        status: Status | Sequence[Status] | None = None,
        action: str | None = None,
        since: float | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RunPage:
        where, args = _filters(check_statuses(status), action, since, cursor)
        sql = (
            f"SELECT {RUN_COLUMNS} FROM jido_runs {where} "
            "ORDER BY created_at DESC, run_id DESC LIMIT ?"
        )
        rows = self._read(sql, (*args, check_limit(limit) + 1))
        return page([run_row(r) for r in rows], limit)

    def changes(self, cursor: str | None = None, *, limit: int = 100) -> ChangePage:
        after = _seq_cursor(cursor)
        items = tuple(run_row(r) for r in self._read(q.CHANGES, (after, check_limit(limit))))
        return ChangePage(items, str(items[-1].seq) if items else str(after))

    def change_cursor(self) -> str:
        return str(self._read("SELECT COALESCE(MAX(seq), 0) FROM jido_runs")[0][0])

    def counts(self) -> dict[Status, int]:
        found = dict(self._read("SELECT status, SUM(n) FROM jido_counts GROUP BY status"))
        return {s: int(found.get(s, 0)) for s in STATUSES}

    # --- maintenance ----------------------------------------------------------------------

    def prune(self, older_than: float, *, batch: int = 1000) -> int:
        check_limit(batch)

        def body(db: sqlite3.Connection) -> int:
            ids = [(r[0],) for r in db.execute(q.PRUNABLE, (older_than, batch))]
            db.executemany("DELETE FROM jido_attempts WHERE run_id = ?", ids)
            db.executemany("DELETE FROM jido_runs WHERE run_id = ?", ids)
            return len(ids)

        total = 0
        while (done := self._tx(body)) > 0:
            total += done
            if done < batch:
                break
        return total

    def close(self) -> None:
        with self._lock:
            db, self._db = self._db, None
        if db is not None:
            db.close()


def _filters(
    statuses: tuple[Status, ...], action: str | None, since: float | None, cursor: str | None
) -> tuple[str, list[Any]]:
    conds: list[str] = []
    args: list[Any] = []
    if statuses:
        conds.append(f"status IN ({', '.join('?' * len(statuses))})")
        args.extend(statuses)
    if action is not None:
        conds.append("action = ?")
        args.append(action)
    if since is not None:
        conds.append("created_at >= ?")
        args.append(since)
    if cursor is not None:
        conds.append("(created_at, run_id) < (?, ?)")
        args.extend(decode_page_cursor(cursor))
    return ("WHERE " + " AND ".join(conds) if conds else ""), args


def _seq_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if cursor.isdigit():
        return int(cursor)
    raise ConfigError(f"not a change cursor of a SQLite store: {cursor!r}")


def _connect(path: str, durability: Durability, where: str) -> sqlite3.Connection:
    if durability not in ("process", "power"):
        raise ConfigError(f"durability must be 'process' or 'power', got {durability!r}")
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise ConfigError(f"cannot open {where}: {exc}") from None
    try:
        db.execute("PRAGMA journal_mode = WAL").fetchone()
        db.execute(f"PRAGMA synchronous = {'FULL' if durability == 'power' else 'NORMAL'}")
        db.execute("PRAGMA cache_size = -32768")  # up to 32 MiB of pages: listing stays warm
    except sqlite3.DatabaseError as exc:
        db.close()
        raise ConfigError(f"{where} is not a jido store or is damaged: {exc}") from None
    return db


def _migrate(db: sqlite3.Connection, where: str) -> None:
    """Create or migrate the schema forward, in one transaction (see :mod:`.schema`)."""
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            version, written_by = _version(db, where)
            check_version(version, where, written_by)
            for statements in MIGRATIONS["sqlite"][version:]:
                for statement in statements:
                    db.execute(statement)
            if version < SCHEMA_VERSION:
                meta = (("schema_version", str(SCHEMA_VERSION)), ("jido_version", VERSION))
                db.executemany("INSERT OR REPLACE INTO jido_meta (key, value) VALUES (?, ?)", meta)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{where} is not a jido store or is damaged: {exc}") from None


def _version(db: sqlite3.Connection, where: str) -> tuple[int, str | None]:
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "jido_meta" not in tables:
        if any(not t.startswith("sqlite_") for t in tables):
            raise ConfigError(f"{where} is not a jido store (it has other tables, no jido_meta)")
        return 0, None
    meta = dict(db.execute("SELECT key, value FROM jido_meta").fetchall())
    return parse_version(meta.get("schema_version"), where), meta.get("jido_version")
