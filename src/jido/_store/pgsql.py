"""The Postgres store's statements: each journal write is one statement (one round trip).

Data-modifying CTEs do the owner-guarded run update and the attempt write together;
parameters are cast explicitly because ``None`` has no type of its own.
"""

from __future__ import annotations

from jido._store.base import ATTEMPT_COLUMNS, RUN_COLUMNS

_ACTIVE = "status IN ('queued', 'running', 'retrying')"
_GUARD = f"run_id = %s AND owner = %s AND {_ACTIVE}"
_BUMP = "seq = nextval('jido_seq'), xid = pg_current_xact_id()"
_UNOWNED = "(status = 'needs_attention' OR lease_until < %s::float8)"


def _abandon(run: str) -> str:
    return (
        "UPDATE jido_attempts SET status = 'abandoned', finished_at = %s::float8 "
        f"WHERE run_id = ({run}) AND status = 'running'"
    )


META = (
    "INSERT INTO jido_meta (key, value) VALUES (%s, %s) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
SELECT_RUN = f"SELECT {RUN_COLUMNS} FROM jido_runs WHERE run_id = %s"
HISTORY = f"""SELECT {RUN_COLUMNS}, (
    SELECT json_agg(json_build_array({ATTEMPT_COLUMNS}) ORDER BY started_at, step_key, attempt)
    FROM jido_attempts WHERE jido_attempts.run_id = jido_runs.run_id)
FROM jido_runs WHERE run_id = %s"""
"""A run and its attempts (as a JSON array of rows) in one statement: one round trip, one
snapshot (a resume reads one per run it recovers)."""
START = f"""WITH ins AS (
    INSERT INTO jido_runs (run_id, seq, kind, action, status, definition, fingerprint, params,
        context, owner, lease_until, created_at, started_at, updated_at)
    VALUES (%s, nextval('jido_seq'), %s, %s, 'running', %s, %s, %s, %s, %s, %s::float8,
        %s::float8, %s::float8, %s::float8)
    ON CONFLICT (run_id) DO NOTHING RETURNING {RUN_COLUMNS}),
first AS (
    INSERT INTO jido_attempts (run_id, step_key, attempt, status, started_at)
    SELECT run_id, %s::text, %s::int, 'running', created_at FROM ins WHERE %s::bool)
SELECT true, * FROM ins
UNION ALL
SELECT false, {RUN_COLUMNS} FROM jido_runs
WHERE run_id = %s AND NOT EXISTS (SELECT 1 FROM ins)"""

ATTEMPT_STARTED = f"""WITH r AS (
    SELECT run_id, status FROM jido_runs WHERE {_GUARD} FOR NO KEY UPDATE),
u AS (
    UPDATE jido_runs SET {_BUMP}, status = 'running', next_retry_at = NULL,
        updated_at = %s::float8, started_at = COALESCE(started_at, %s::float8)
    WHERE run_id = (SELECT run_id FROM r WHERE status <> 'running'))
INSERT INTO jido_attempts (run_id, step_key, attempt, status, started_at)
SELECT run_id, %s::text, %s::int, 'running', %s::float8 FROM r
ON CONFLICT (run_id, step_key, attempt) DO UPDATE SET status = 'running',
    started_at = excluded.started_at, finished_at = NULL, result = NULL, error = NULL,
    stopped = NULL, stop = NULL, retry_at = NULL
RETURNING 1"""

_ENDED_FROM_R = """INSERT INTO jido_attempts (run_id, step_key, attempt, status, started_at,
    finished_at, result, error, stopped, stop, retry_at)
SELECT run_id, %s::text, %s::int, %s::text, %s::float8, %s::float8, %s::text, %s::text,
    %s::bool, %s::text, %s::float8 FROM r
ON CONFLICT (run_id, step_key, attempt) DO UPDATE SET status = excluded.status,
    finished_at = excluded.finished_at, result = excluded.result, error = excluded.error,
    stopped = excluded.stopped, stop = excluded.stop, retry_at = excluded.retry_at
RETURNING 1"""

ATTEMPT_FAILED = f"""WITH r AS (
    UPDATE jido_runs SET {_BUMP}, next_retry_at = %s::float8, updated_at = %s::float8,
        status = CASE WHEN %s::float8 IS NULL THEN 'running' ELSE 'retrying' END
    WHERE {_GUARD} RETURNING run_id)
{_ENDED_FROM_R}"""

STEP_SUCCEEDED = f"""WITH r AS (
    UPDATE jido_runs SET {_BUMP}, updated_at = %s::float8 WHERE {_GUARD} RETURNING run_id),
nx AS (
    INSERT INTO jido_attempts (run_id, step_key, attempt, status, started_at)
    SELECT r.run_id, t.k, t.n, 'running', %s::float8
    FROM r, unnest(%s::text[], %s::int[]) AS t(k, n)
    ON CONFLICT (run_id, step_key, attempt) DO UPDATE SET status = 'running',
        started_at = excluded.started_at, finished_at = NULL, result = NULL, error = NULL,
        stopped = NULL, stop = NULL, retry_at = NULL)
{_ENDED_FROM_R}"""

FINISH = f"""WITH r AS (
    UPDATE jido_runs SET {_BUMP}, status = %s, result = %s::text, error = %s::text,
        finished_at = %s::float8, updated_at = %s::float8, lease_until = NULL,
        next_retry_at = NULL
    WHERE {_GUARD} RETURNING run_id),
a AS (
    INSERT INTO jido_attempts (run_id, step_key, attempt, status, started_at, finished_at,
        result, error)
    SELECT run_id, %s::text, %s::int, %s::text, %s::float8, %s::float8, %s::text, %s::text
    FROM r WHERE %s::bool
    ON CONFLICT (run_id, step_key, attempt) DO UPDATE SET status = excluded.status,
        finished_at = excluded.finished_at, result = excluded.result, error = excluded.error),
b AS (
    {_abandon("SELECT run_id FROM r")}
        AND (step_key, attempt) IS DISTINCT FROM (%s::text, %s::int))
SELECT 1 FROM r"""

PARK = f"""WITH r AS (
    UPDATE jido_runs SET {_BUMP}, status = 'needs_attention', reason = %s, owner = NULL,
        lease_until = NULL, next_retry_at = NULL, updated_at = %s::float8
    WHERE run_id = %s AND {_ACTIVE} AND (%s::text IS NULL OR owner = %s::text)
    RETURNING run_id),
b AS ({_abandon("SELECT run_id FROM r")})
SELECT 1 FROM r"""

RENEW = (
    f"UPDATE jido_runs SET lease_until = %s WHERE owner = %s AND {_ACTIVE} "
    "RETURNING run_id, cancel_requested_at"
)
RELEASE = f"UPDATE jido_runs SET lease_until = 0 WHERE owner = %s AND {_ACTIVE} RETURNING 1"

CLAIM_ORPHANS = f"""WITH picked AS (
    SELECT run_id AS pid FROM jido_runs WHERE {_ACTIVE} AND lease_until < %s::float8
    ORDER BY lease_until LIMIT %s FOR UPDATE SKIP LOCKED),
ab AS (
    UPDATE jido_attempts SET status = 'abandoned', finished_at = %s::float8
    WHERE run_id IN (SELECT pid FROM picked) AND status = 'running')
UPDATE jido_runs SET {_BUMP}, owner = %s, lease_until = %s::float8, updated_at = %s::float8,
    recoveries = recoveries + 1
FROM picked WHERE run_id = picked.pid
RETURNING {RUN_COLUMNS}"""

CLAIM = f"""WITH u AS (
    UPDATE jido_runs SET {_BUMP}, owner = %s, lease_until = %s::float8,
        updated_at = %s::float8, recoveries = recoveries + 1, reason = NULL,
        status = CASE WHEN status IN ('failed', 'needs_attention') THEN 'running'
            ELSE status END,
        cancel_requested_at = CASE WHEN status IN ('failed', 'needs_attention') THEN NULL
            ELSE cancel_requested_at END,
        error = NULL, result = NULL, finished_at = NULL
    WHERE run_id = %s AND (status IN ('failed', 'needs_attention')
        OR ({_ACTIVE} AND (lease_until < %s::float8 OR owner = %s)))
    RETURNING {RUN_COLUMNS}),
ab AS ({_abandon("SELECT run_id FROM u")})
SELECT * FROM u"""

CANCEL = f"""WITH u AS (
    UPDATE jido_runs SET {_BUMP}, updated_at = %s::float8,
        cancel_requested_at = COALESCE(cancel_requested_at, %s::float8),
        error = CASE WHEN {_UNOWNED} THEN %s::text ELSE error END,
        finished_at = CASE WHEN {_UNOWNED} THEN %s::float8 ELSE finished_at END,
        lease_until = CASE WHEN {_UNOWNED} THEN NULL ELSE lease_until END,
        status = CASE WHEN {_UNOWNED} THEN 'cancelled' ELSE status END
    WHERE run_id = %s AND (status = 'needs_attention' OR {_ACTIVE})
    RETURNING run_id, status),
ab AS ({_abandon("SELECT run_id FROM u WHERE status = 'cancelled'")}),
n AS (SELECT pg_notify(%s, run_id) FROM u WHERE status <> 'cancelled')
SELECT u.status, (SELECT count(*) FROM n) FROM u"""

CANCEL_REQUESTED = (
    f"SELECT run_id FROM jido_runs WHERE owner = %s AND {_ACTIVE} "
    "AND cancel_requested_at IS NOT NULL"
)

CHANGES = f"""SELECT xid::text, seq, {RUN_COLUMNS} FROM jido_runs
WHERE (xid, seq) > (%s::xid8, %s::bigint) AND xid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY xid, seq LIMIT %s"""

PRUNE = """WITH doomed AS (
    SELECT run_id FROM jido_runs WHERE created_at < %s::float8
        AND finished_at < %s::float8 AND status IN ('succeeded', 'failed', 'cancelled')
    ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED),
a AS (DELETE FROM jido_attempts WHERE run_id IN (SELECT run_id FROM doomed)),
d AS (DELETE FROM jido_runs WHERE run_id IN (SELECT run_id FROM doomed) RETURNING 1)
SELECT count(*) FROM d"""
