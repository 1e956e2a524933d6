"""Small builders shared by the store tests."""

from __future__ import annotations

import time
from typing import Any

from jido._store import NewRun, RunRow, Store

LEASE = 30.0


def new_run(run_id: str = "run-1", *, created_at: float | None = None, **fields: Any) -> NewRun:
    values: dict[str, Any] = {
        "kind": "chain",
        "action": "orders.checkout",
        "definition": {"steps": [{"ref": "shop.actions:Pay", "version": "1"}], "deps": {}},
        "fingerprint": "fp-1",
        "params": {"order": 42, "items": ["a", "b"]},
        "context": {"tenant": "acme"},
    }
    values.update(fields)
    return NewRun(
        run_id=run_id, created_at=time.time() if created_at is None else created_at, **values
    )


def started(store: Store, run_id: str = "run-1", owner: str = "owner-a", **fields: Any) -> RunRow:
    """A run started (created) by ``owner`` with a live lease."""
    created, row = store.start_run(
        new_run(run_id, **fields), owner=owner, lease_until=time.time() + LEASE
    )
    assert created
    return row


def orphaned(store: Store, run_id: str, owner: str = "dead") -> RunRow:
    """A run whose owner's lease expired a minute ago."""
    created, row = store.start_run(new_run(run_id), owner=owner, lease_until=time.time() - 60)
    assert created
    return row
