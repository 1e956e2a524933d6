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


def chain_forever(url: str, run_id: str) -> None:
    """Journal steps of one chain until killed; print each step's index once it committed."""
    import sys

    store = open_store(url)
    now = time.time()
    store.start_run(
        NewRun(run_id, "chain", "c", {}, "fp", {}, {}, now),
        owner="victim",
        lease_until=now + 600,
        attempt=("0", 1),
    )
    step = 0
    while True:
        ok = store.step_succeeded(
            run_id,
            str(step),
            1,
            at=time.time(),
            result={"step": step},
            owner="victim",
            start_next=[(str(step + 1), 1)],
        )
        assert ok
        print(step, flush=True)
        step += 1
        if step % 7 == 0:
            store.renew("victim", time.time() + 600)
            sys.stdout.flush()
