"""What both backends share: opaque cursors, argument checks, the encoding of outcomes."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

from jido._core.errors import CancelledError, ConfigError
from jido._store.codec import encode, error_to_json
from jido._store.records import STATUSES, NewRun, Status

__all__ = [
    "ErrorLike",
    "cancelled_error",
    "check_limit",
    "check_next",
    "check_statuses",
    "decode_page_cursor",
    "encode_error",
    "encode_page_cursor",
    "finish_args",
    "start_args",
]

MAX_LIMIT = 10_000

ErrorLike = BaseException | Mapping[str, Any]
"""An error to record: an exception, or an error's JSON form (see the codec)."""


def encode_page_cursor(created_at: float, run_id: str) -> str:
    """The cursor after the run ``(created_at, run_id)`` in a newest-first listing."""
    raw = json.dumps([created_at, run_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_cursor(cursor: str) -> tuple[float, str]:
    """The position in a cursor from :func:`encode_page_cursor`, or a ConfigError."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, run_id = json.loads(raw)
        if isinstance(created_at, int | float) and isinstance(run_id, str):
            return float(created_at), run_id
    except (ValueError, TypeError, binascii.Error):
        pass
    raise ConfigError(f"not a run list cursor: {cursor!r}")


def check_limit(limit: int) -> int:
    """``limit`` if it is an int from 1 to 10,000, else ConfigError."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ConfigError(f"limit must be an int from 1 to {MAX_LIMIT}, got {limit!r}")
    return limit


def check_statuses(status: Status | Sequence[Status] | None) -> tuple[Status, ...]:
    """The statuses to filter on (empty: no filter), or a ConfigError for an unknown one."""
    if status is None:
        return ()
    wanted = (status,) if isinstance(status, str) else tuple(status)
    for s in wanted:
        if s not in STATUSES:
            raise ConfigError(f"unknown run status {s!r} (one of {', '.join(STATUSES)})")
    return wanted


def encode_error(error: ErrorLike) -> str:
    """An error, or an error's JSON form, as JSON text."""
    if isinstance(error, BaseException):
        return encode(error_to_json(error), "error")
    if not isinstance(error, Mapping) or "type" not in error or "message" not in error:
        raise ConfigError(f"an error to record is an exception or its JSON form, got {error!r}")
    return encode(dict(error), "error")


def cancelled_error(message: str) -> str:
    """The JSON text of the CancelledError recorded for a run cancelled without its owner."""
    return encode(error_to_json(CancelledError(message, details={"reason": "caller"})), "error")


def finish_args(
    run_id: str,
    owner: str,
    status: str,
    at: float,
    result: Any,
    error: ErrorLike | None,
    attempt: tuple[str, int] | None,
) -> tuple[tuple[Any, ...], tuple[Any, ...] | None]:
    """The arguments of the finish statement and of the attempt it closes (if any)."""
    if status not in ("succeeded", "failed", "cancelled"):
        raise ConfigError(f"a run finishes as succeeded, failed or cancelled, not {status!r}")
    if status == "succeeded":
        result_json, error_json = encode(result, "result"), None
    else:
        if error is None:
            raise ConfigError(f"a run that finishes as {status} needs its error")
        result_json, error_json = None, encode_error(error)
    args = (status, result_json, error_json, at, at, run_id, owner)
    if attempt is None:
        return args, None
    outcome = "succeeded" if status == "succeeded" else "failed"
    ended = (
        run_id,
        attempt[0],
        attempt[1],
        outcome,
        at,
        at,
        result_json,
        error_json,
        None,
        None,
        None,
    )
    return args, ended


def check_next(
    start_next: Sequence[tuple[str, int]], step_key: str, attempt: int
) -> list[tuple[str, int]]:
    """The attempts to start with a step's success, as ``(step_key, attempt)`` pairs."""
    pairs = [(k, n) for k, n in start_next]
    for k, n in pairs:
        if not isinstance(k, str) or isinstance(n, bool) or not isinstance(n, int):
            raise ConfigError(f"start_next holds (step_key, attempt) pairs, got {(k, n)!r}")
        if (k, n) == (step_key, attempt):
            raise ConfigError(f"start_next cannot restart the attempt that succeeded: {(k, n)!r}")
    return pairs


def start_args(new: NewRun, owner: str, lease_until: float) -> tuple[Any, ...]:
    """The values of a new run's row, in the order both backends' ``START`` statements take."""
    return (
        new.run_id,
        new.kind,
        new.action,
        encode(new.definition, "definition"),
        new.fingerprint,
        encode(new.params, "params"),
        encode(new.context, "context"),
        owner,
        lease_until,
        new.created_at,
        new.created_at,
        new.created_at,
    )
