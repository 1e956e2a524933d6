"""Runs written to a store exactly as a runtime in another process records them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jido
from jido._store import NewRun, RunRow, Store

OWNER = "worker-1:4242"
LEASE = 120.0


def start(
    store: Store,
    run_id: str,
    *,
    action: str = "orders.add",
    kind: str = "action",
    params: Any = None,
    definition: Any = None,
    created_at: float | None = None,
    owner: str = OWNER,
    lease: float = LEASE,
) -> RunRow:
    """A run started by ``owner`` (running, no attempt yet); ``lease < 0``: owner gone."""
    new = NewRun(
        run_id=run_id,
        kind=kind,  # type: ignore[arg-type]
        action=action,
        definition=definition if definition is not None else {"ref": f"app:{action}"},
        fingerprint="fp",
        params=params if params is not None else {"a": 1, "b": 2},
        context={},
        created_at=time.time() if created_at is None else created_at,
    )
    created, row = store.start_run(new, owner=owner, lease_until=time.time() + lease)
    assert created, run_id
    return row


def attempt(store: Store, run_id: str, n: int = 1, step: str = "", owner: str = OWNER) -> None:
    """Attempt ``n`` of ``step`` starts."""
    assert store.attempt_started(run_id, step, n, at=time.time(), owner=owner)


def fail(
    store: Store,
    run_id: str,
    n: int = 1,
    step: str = "",
    *,
    retry_in: float | None = None,
    timeout: bool = False,
    owner: str = OWNER,
) -> None:
    """Attempt ``n`` fails (a timeout that was stopped, or an ExecutionError)."""
    now = time.time()
    if timeout:
        error: Exception = jido.TimeoutError(
            "timed out after 0.5s", details={"stopped": True, "stop": "interrupt"}
        )
    else:
        error = jido.ExecutionError("upstream said 503")
    assert store.attempt_failed(
        run_id,
        step,
        n,
        at=now,
        error=error,
        owner=owner,
        retry_at=None if retry_in is None else now + retry_in,
        stopped=True if timeout else None,
        stop="interrupt" if timeout else None,
    )


def step_ok(store: Store, run_id: str, step: str, n: int = 1, result: Any = None) -> None:
    """Step ``step`` succeeds on attempt ``n``."""
    assert store.step_succeeded(
        run_id, step, n, at=time.time(), result=result or {"ok": step}, owner=OWNER
    )


def succeed(store: Store, run_id: str, result: Any, n: int = 1, step: str = "") -> None:
    """The run succeeds with ``result`` (closing attempt ``n`` of ``step``)."""
    assert store.finish_run(
        run_id,
        owner=OWNER,
        status="succeeded",
        at=time.time(),
        result=result,
        attempt=(step, n),
    )


def failed(store: Store, run_id: str, n: int = 1, step: str = "") -> None:
    """The run fails on attempt ``n``."""
    assert store.finish_run(
        run_id,
        owner=OWNER,
        status="failed",
        at=time.time(),
        error=jido.ExecutionError("gave up: upstream said 503"),
        attempt=(step, n),
    )


def finished(store: Store, run_id: str, result: Any = None) -> RunRow:
    """A single-action run that succeeded on its first attempt."""
    start(store, run_id)
    attempt(store, run_id)
    succeed(store, run_id, {"sum": 3} if result is None else result)
    row = store.get_run(run_id)
    assert row is not None
    return row


def wait_until(predicate: Callable[[], object], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; whether it became true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True
