"""Helpers shared by the durable suite's tests."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import jido
from support import sql  # noqa: F401 (re-exported for the durable tests)

LEASE = 0.5
"""The lease of the suite's runtimes: an orphan is recoverable half a second after its death."""


def orphaned(rt: jido.Runtime, run_id: str, timeout: float = 10.0) -> None:
    """Wait until ``run_id``'s lease has expired (its owner is dead): it can be recovered."""
    deadline = time.monotonic() + timeout
    store = rt._durable.store
    while True:
        row = store.get_run(run_id)
        assert row is not None, f"run {run_id} is not in the store"
        if row.lease_until is None or row.lease_until < time.time():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} is still leased by {row.owner}")
        time.sleep(0.02)


def counts(log: str) -> Counter[str]:
    """How many times each step (by idempotency key) ran, per the execution log."""
    from durable.durable_actions import executions

    return Counter(e["key"] for e in executions(log))


def store_of(rt: jido.Runtime) -> Any:
    """The runtime's open store (to look at what is recorded)."""
    return rt._durable.store


def wait_for(predicate: Any, what: str, timeout: float = 60.0, *children: Any) -> None:
    """Poll ``predicate`` until it is truthy; fail naming ``what`` (and the children's output)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        gone = bool(children) and not any(c.alive() for c in children)
        if gone or time.monotonic() > deadline:
            outputs = "\n".join(c.output() for c in children)
            why = "the children exited" if gone else f"not within {timeout}s"
            raise AssertionError(f"{what} did not happen ({why})\n{outputs}")
        time.sleep(0.005)


def read_json(path: Any) -> Any:
    import json
    from pathlib import Path

    return json.loads(Path(path).read_text())
