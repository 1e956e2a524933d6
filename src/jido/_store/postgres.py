"""The Postgres store: psycopg 3, a connection pool, autocommit, one statement per write.

Every journal write is ONE statement (one round trip, one transaction): data-modifying
CTEs update the run (guarded by its owner) and its attempt together. ``durability=
"process"`` sets ``synchronous_commit = off`` on the store's connections (a commit
survives a crash of the process, and of the server short of a crash of its machine, which
may lose the last few hundred milliseconds of commits, never consistency); ``"power"``
keeps the server's setting (``on`` by default: the commit is flushed before it returns).

``seq`` comes from the sequence ``jido_seq``. Because transactions may commit out of
``seq`` order, the change feed orders by the writing transaction's id (``xid``) and only
returns rows whose transaction is older than every transaction still running; its cursor
is ``"<xid>:<seq>"``. Cancel requests are also sent with ``NOTIFY jido_cancel``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Literal

import psycopg
from psycopg_pool import ConnectionPool

from jido._core.errors import ConfigError, InternalError
from jido._core.version import VERSION
from jido._store import pgsql as q
from jido._store.base import RUN_COLUMNS, ErrorLike, history, page, run_row
from jido._store.codec import encode
from jido._store.records import (
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

__all__ = ["CHANNEL", "PostgresStore"]

CHANNEL = "jido_cancel"
_LOCK_KEY = 0x6A69646F  # "jido": the advisory lock that serializes migrations
_log = logging.getLogger("jido.store")


class PostgresStore:
    """A :class:`~jido._store.base.Store` in a Postgres database (see the module docstring)."""

    dialect: Literal["postgresql"] = "postgresql"

    def __init__(self, url: StoreURL, durability: Durability = "process", max_size: int = 8):
        self.url = url
        self.durability = durability
        self._where = f"the store {url.redacted()}"
        self._settings = "SET synchronous_commit = off" if durability == "process" else ""
        with self._connect() as conn:
            _migrate(conn, self._where)
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = ConnectionPool(
            url.url,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True},
            configure=self._configure,
            open=True,
            name="jido-store",
        )
        self._closers: list[Callable[[], None]] = []

    # --- plumbing ---------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self.url.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise ConfigError(f"cannot connect to {self._where}: {exc}".strip()) from None
        self._configure(conn)
        return conn

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        if self._settings:
            conn.execute(self._settings)

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        pool = self._pool
        if pool is None:
            raise ConfigError(f"{self._where} is closed")
        try:
            with pool.connection() as conn:
                yield conn
        except psycopg.Error as exc:
            raise InternalError(f"{self._where}: {exc}") from exc

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._conn() as conn:
            return conn.execute(sql, args).fetchall()

    def _count(self, sql: str, args: Sequence[Any]) -> int:
        with self._conn() as conn:
            return len(conn.execute(sql, args).fetchall())

    # --- identity -----------------------------------------------------------------------

    def start_run(
        self,
        new: NewRun,
        *,
        owner: str,
        lease_until: float,
        attempt: tuple[str, int] | None = None,
    ) -> tuple[bool, RunRow]:
        args = (
            *start_args(new, owner, lease_until),
            *(attempt or (None, None)),
            attempt is not None,
            new.run_id,
        )
        rows = self._all(q.START, args)
        if not rows:  # inserted by a transaction that committed after this one began
            rows = [(False, *r) for r in self._all(q.SELECT_RUN, (new.run_id,))]
        created, row = bool(rows[0][0]), run_row(rows[0][1:])
        if created and attempt is not None:  # RETURNING cannot see the attempt it inserted
            row = replace(row, attempts=1)
        return created, row

    # --- journal ------------------------------------------------------------------------

    def attempt_started(
        self, run_id: str, step_key: str, attempt: int, *, at: float, owner: str
    ) -> bool:
        return self._count(q.ATTEMPT_STARTED, (run_id, owner, at, at, step_key, attempt, at)) > 0

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
        args = (
            retry_at,
            at,
            retry_at,
            run_id,
            owner,
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
        return self._count(q.ATTEMPT_FAILED, args) > 0

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
        starts = check_next(start_next, step_key, attempt)
        args = (
            at,
            run_id,
            owner,
            at,
            [k for k, _ in starts],
            [n for _, n in starts],
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
        return self._count(q.STEP_SUCCEEDED, args) > 0

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
        run_args, ended = finish_args(run_id, owner, status, at, result, error, attempt)
        closing = ended[1:8] if ended is not None else (None,) * 7  # key ... error
        args = (*run_args, *closing, ended is not None, at, *(attempt or (None, None)))
        return self._count(q.FINISH, args) > 0

    def needs_attention(
        self, run_id: str, *, reason: str, at: float, owner: str | None = None
    ) -> bool:
        return self._count(q.PARK, (reason, at, run_id, owner, owner, at)) > 0

    # --- ownership ----------------------------------------------------------------------

    def renew(self, owner: str, lease_until: float) -> list[str]:
        return [r[0] for r in self._all(q.RENEW, (lease_until, owner)) if r[1] is not None]

    def claim_orphans(
        self, owner: str, *, now: float, lease_until: float, limit: int = 100
    ) -> list[RunRow]:
        args = (now, check_limit(limit), now, owner, lease_until, now)
        return [run_row(r) for r in self._all(q.CLAIM_ORPHANS, args)]

    def claim(self, run_id: str, *, owner: str, now: float, lease_until: float) -> RunRow | None:
        rows = self._all(q.CLAIM, (owner, lease_until, now, run_id, now, owner, now))
        return run_row(rows[0]) if rows else None

    def release(self, owner: str) -> int:
        return self._count(q.RELEASE, (owner,))

    # --- cancel -------------------------------------------------------------------------

    def request_cancel(self, run_id: str, *, at: float) -> bool:
        error = cancelled_error("cancelled while no process owned the run")
        args = (at, at, at, error, at, at, at, at, run_id, at, CHANNEL)
        return self._count(q.CANCEL, args) > 0

    def cancel_requested(self, owner: str) -> list[str]:
        return [r[0] for r in self._all(q.CANCEL_REQUESTED, (owner,))]

    def listen(self, callback: Callable[[str], None]) -> Callable[[], None] | None:
        listener = _Listener(self._connect, callback, self._where)
        self._closers.append(listener.close)
        return listener.close

    # --- reads --------------------------------------------------------------------------

    def get_run(self, run_id: str) -> RunRow | None:
        rows = self._all(q.SELECT_RUN, (check_run_id(run_id),))
        return run_row(rows[0]) if rows else None

    def get_history(self, run_id: str) -> RunHistory | None:
        rows = self._all(q.HISTORY, (run_id,))
        if not rows:
            return None
        return history(run_row(rows[0][:-1]), rows[0][-1] or ())

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
            "ORDER BY created_at DESC, run_id DESC LIMIT %s"
        )
        rows = self._all(sql, (*args, check_limit(limit) + 1))
        return page([run_row(r) for r in rows], limit)

    def changes(self, cursor: str | None = None, *, limit: int = 100) -> ChangePage:
        xid, seq = _xid_cursor(cursor)
        rows = self._all(q.CHANGES, (str(xid), seq, check_limit(limit)))
        if not rows:
            return ChangePage((), f"{xid}:{seq}")
        return ChangePage(tuple(run_row(r[2:]) for r in rows), f"{rows[-1][0]}:{rows[-1][1]}")

    def change_cursor(self) -> str:
        xmin = int(self._all("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")[0][0])
        return f"{xmin - 1}:{2**63 - 1}"

    def counts(self) -> dict[Status, int]:
        found = dict(self._all("SELECT status, SUM(n) FROM jido_counts GROUP BY status"))
        return {s: int(found.get(s, 0)) for s in STATUSES}

    # --- maintenance ----------------------------------------------------------------------

    def prune(self, older_than: float, *, batch: int = 1000) -> int:
        check_limit(batch)
        total = 0
        while True:
            done = int(self._all(q.PRUNE, (older_than, older_than, batch))[0][0])
            total += done
            if done < batch:
                return total

    def close(self) -> None:
        closers, self._closers = self._closers, []
        for close in closers:
            close()
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


def _filters(
    statuses: tuple[Status, ...], action: str | None, since: float | None, cursor: str | None
) -> tuple[str, list[Any]]:
    conds: list[str] = []
    args: list[Any] = []
    if len(statuses) == 1:  # "=" lets an index give the rows in order
        conds.append("status = %s")
        args.append(statuses[0])
    elif statuses:
        conds.append("status = ANY(%s)")
        args.append(list(statuses))
    if action is not None:
        conds.append("action = %s")
        args.append(action)
    if since is not None:
        conds.append("created_at >= %s")
        args.append(since)
    if cursor is not None:
        conds.append("(created_at, run_id) < (%s, %s)")
        args.extend(decode_page_cursor(cursor))
    return ("WHERE " + " AND ".join(conds) if conds else ""), args


def _xid_cursor(cursor: str | None) -> tuple[int, int]:
    if cursor is None:
        return 0, 0
    xid, sep, seq = cursor.partition(":")
    if sep and xid.isdigit() and seq.isdigit():
        return int(xid), int(seq)
    raise ConfigError(f"not a change cursor of a Postgres store: {cursor!r}")


def _migrate(conn: psycopg.Connection[Any], where: str) -> None:
    """Create or migrate the schema forward in one transaction, under an advisory lock."""
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            version, written_by = _version(conn, where)
            check_version(version, where, written_by)
            for statements in MIGRATIONS["postgresql"][version:]:
                for statement in statements:
                    conn.execute(statement)
            if version < SCHEMA_VERSION:
                conn.execute(q.META, ("schema_version", str(SCHEMA_VERSION)))
                conn.execute(q.META, ("jido_version", VERSION))
    except psycopg.Error as exc:
        raise ConfigError(f"cannot prepare {where}: {exc}") from None


def _version(conn: psycopg.Connection[Any], where: str) -> tuple[int, str | None]:
    meta_table, runs_table = conn.execute(
        "SELECT to_regclass('jido_meta'), to_regclass('jido_runs')"
    ).fetchone() or (None, None)
    if meta_table is None:
        if runs_table is not None:
            raise ConfigError(f"{where} is damaged: it has jido_runs but no jido_meta")
        return 0, None
    meta = dict(conn.execute("SELECT key, value FROM jido_meta").fetchall())
    return parse_version(meta.get("schema_version"), where), meta.get("jido_version")


class _Listener:
    """A thread that LISTENs for cancel requests on its own connection, reconnecting."""

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection[Any]],
        callback: Callable[[str], None],
        where: str,
    ) -> None:
        self._connect = connect
        self._callback = callback
        self._where = where
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jido-store-listen", daemon=True)
        self._thread.start()
        if not self._ready.wait(10.0):
            _log.warning("LISTEN on %s is not ready after 10 s; still trying", where)

    def _run(self) -> None:
        delay = 0.1
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    delay = 0.1
                    self._pump(conn)
            except Exception as exc:  # a lost connection: reconnect after a pause
                _log.warning("LISTEN on %s failed (%s); reconnecting", self._where, exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)

    def _pump(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stop.is_set():
            for note in conn.notifies(timeout=0.2):
                try:
                    self._callback(note.payload)
                except Exception:
                    _log.exception("a cancel listener callback raised; it stays attached")

    def close(self) -> None:
        self._stop.set()
        self._ready.set()
        if self._thread is not threading.current_thread():
            self._thread.join(5.0)
