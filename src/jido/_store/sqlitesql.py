"""The SQLite store's statements (``?`` placeholders).

``_NEXT`` is the next ``seq``: ``MAX(seq) + 1`` read inside the write transaction, which
holds SQLite's write lock, so values grow in commit order.
"""

from __future__ import annotations

from jido._store.base import ATTEMPT_COLUMNS, RUN_COLUMNS

NEXT = "(SELECT COALESCE(MAX(seq), 0) + 1 FROM jido_runs)"
ACTIVE = "status IN ('queued', 'running', 'retrying')"
GUARD = f"run_id = ? AND owner = ? AND {ACTIVE}"
SELECT_RUN = f"SELECT {RUN_COLUMNS} FROM jido_runs WHERE run_id = ?"
ABANDON = (
    "UPDATE jido_attempts SET status = 'abandoned', finished_at = ? "
    "WHERE run_id = ? AND status = 'running'"
)
START = (
    "INSERT INTO jido_runs (run_id, seq, kind, action, status, definition, fingerprint, "
    f"params, context, owner, lease_until, created_at, started_at, updated_at) VALUES (?, "
    f"{NEXT}, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING"
)
OWNED = "SELECT status FROM jido_runs WHERE run_id = ? AND owner = ?"
RUNNING = (
    f"UPDATE jido_runs SET seq = {NEXT}, status = 'running', next_retry_at = NULL, "
    "updated_at = ?, started_at = COALESCE(started_at, ?) WHERE run_id = ?"
)
ATTEMPT_STARTED = (
    "INSERT INTO jido_attempts (run_id, step_key, attempt, status, started_at) "
    "VALUES (?, ?, ?, 'running', ?) ON CONFLICT (run_id, step_key, attempt) DO UPDATE SET "
    "status = 'running', started_at = excluded.started_at, finished_at = NULL, "
    "result = NULL, error = NULL, stopped = NULL, stop = NULL, retry_at = NULL"
)
ATTEMPT_FAILED_RUN = (
    f"UPDATE jido_runs SET seq = {NEXT}, next_retry_at = ?, updated_at = ?, "
    f"status = CASE WHEN ? IS NULL THEN 'running' ELSE 'retrying' END WHERE {GUARD}"
)
ATTEMPT_ENDED = (
    "INSERT INTO jido_attempts (run_id, step_key, attempt, status, started_at, finished_at, "
    "result, error, stopped, stop, retry_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (run_id, step_key, attempt) DO UPDATE SET status = excluded.status, "
    "finished_at = excluded.finished_at, result = excluded.result, error = excluded.error, "
    "stopped = excluded.stopped, stop = excluded.stop, retry_at = excluded.retry_at"
)
STEP_SUCCEEDED_RUN = f"UPDATE jido_runs SET seq = {NEXT}, updated_at = ? WHERE {GUARD}"
FINISH = (
    f"UPDATE jido_runs SET seq = {NEXT}, status = ?, result = ?, error = ?, finished_at = ?, "
    f"updated_at = ?, lease_until = NULL, next_retry_at = NULL WHERE {GUARD}"
)
PARK = (
    f"UPDATE jido_runs SET seq = {NEXT}, status = 'needs_attention', reason = ?, "
    "owner = NULL, lease_until = NULL, next_retry_at = NULL, updated_at = ? "
    f"WHERE run_id = ? AND {ACTIVE} AND (? IS NULL OR owner = ?)"
)
CLAIMABLE = (
    f"(status IN ('failed', 'needs_attention') OR ({ACTIVE} AND (lease_until < ? OR owner = ?)))"
)
CLAIM = (
    f"UPDATE jido_runs SET seq = {NEXT}, owner = ?, lease_until = ?, updated_at = ?, "
    "recoveries = recoveries + 1, reason = NULL, "
    "status = CASE WHEN status IN ('failed', 'needs_attention') THEN 'running' ELSE status END, "
    "cancel_requested_at = CASE WHEN status = 'failed' OR status = 'needs_attention' THEN NULL "
    "ELSE cancel_requested_at END, error = NULL, result = NULL, finished_at = NULL "
    f"WHERE run_id = ? AND {CLAIMABLE}"
)
ORPHANS = (
    f"SELECT run_id FROM jido_runs WHERE {ACTIVE} AND lease_until < ? ORDER BY lease_until LIMIT ?"
)
UNOWNED = "(status = 'needs_attention' OR lease_until < ?)"
CANCEL = (
    f"UPDATE jido_runs SET seq = {NEXT}, updated_at = ?, "
    "cancel_requested_at = COALESCE(cancel_requested_at, ?), "
    f"error = CASE WHEN {UNOWNED} THEN ? ELSE error END, "
    f"finished_at = CASE WHEN {UNOWNED} THEN ? ELSE finished_at END, "
    f"lease_until = CASE WHEN {UNOWNED} THEN NULL ELSE lease_until END, "
    f"status = CASE WHEN {UNOWNED} THEN 'cancelled' ELSE status END "
    f"WHERE run_id = ? AND (status = 'needs_attention' OR {ACTIVE}) RETURNING status"
)
PRUNABLE = (  # created_at <= finished_at: its bound lets the status index narrow the scan
    "SELECT run_id FROM jido_runs WHERE created_at < ?1 AND finished_at < ?1 "
    "AND status IN ('succeeded', 'failed', 'cancelled') "
    "AND seq < (SELECT MAX(seq) FROM jido_runs) ORDER BY created_at LIMIT ?2"
)


SELECT_ATTEMPTS = (
    f"SELECT {ATTEMPT_COLUMNS} FROM jido_attempts WHERE run_id = ? "
    "ORDER BY started_at, step_key, attempt"
)
RENEW = (
    f"UPDATE jido_runs SET lease_until = ? WHERE owner = ? AND {ACTIVE} "
    "RETURNING run_id, cancel_requested_at"
)
TAKE_OVER = (
    f"UPDATE jido_runs SET seq = {NEXT}, owner = ?, lease_until = ?, updated_at = ?, "
    "recoveries = recoveries + 1 WHERE run_id = ?"
)
RELEASE = f"UPDATE jido_runs SET lease_until = 0 WHERE owner = ? AND {ACTIVE}"
CANCEL_REQUESTED = (
    f"SELECT run_id FROM jido_runs WHERE owner = ? AND {ACTIVE} AND cancel_requested_at IS NOT NULL"
)
CHANGES = f"SELECT {RUN_COLUMNS} FROM jido_runs WHERE seq > ? ORDER BY seq LIMIT ?"
