"""Functions run in child processes by the store suite's multi-process tests."""

from __future__ import annotations

import time
from typing import Any

from jido._store import NewRun, open_store


def start_same_run(url: str, run_id: str, owner: str, barrier: Any, results: Any) -> None:
    """Wait for every process, then start ``run_id``; report ``(owner, created)``."""
    store = open_store(url)
    try:
        new = NewRun(run_id, "action", "act", {}, "fp", {"n": 1}, {}, time.time())
        barrier.wait(60)
        created, row = store.start_run(new, owner=owner, lease_until=time.time() + 30)
        results.put((owner, created, row.owner))
    finally:
        store.close()


def claim_all(url: str, owner: str, barrier: Any, results: Any) -> None:
    """Wait for every process, then claim orphans two at a time; report what was claimed."""
    store = open_store(url)
    try:
        barrier.wait(60)
        claimed: list[str] = []
        while True:
            now = time.time()
            rows = store.claim_orphans(owner, now=now, lease_until=now + 60, limit=2)
            if not rows:
                break
            claimed.extend(r.run_id for r in rows)
        results.put((owner, claimed))
    finally:
        store.close()
