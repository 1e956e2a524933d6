"""Chains: a sequence of actions, each result merged into the params of the next.

Run: .venv/bin/python examples/chain.py
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jido
from jido.workflow import ChainInterrupted, achain, chain_async


@jido.action(description="Normalize an email address")
def normalize_email(email: str) -> dict[str, Any]:
    return {"email": email.strip().lower()}


@jido.action(description="Look up a user by email")
def find_user(email: str) -> dict[str, Any]:
    return {"user_id": sum(map(ord, email)) % 1000}


@jido.action(description="Compute a discount")
def discount(user_id: int, rate: float = 0.1) -> dict[str, Any]:
    return {"discount": round(user_id * rate, 2)}


@jido.action(description="A slow report")
def slow_report(user_id: int) -> dict[str, Any]:
    jido.current().sleep(10)  # wakes at once when cancelled
    return {"report": "..."}


def main() -> None:
    # Each step gets the params so far; (action, params) overrides (and the override persists).
    out = jido.chain(
        [normalize_email, find_user, (discount, {"rate": 0.5})],
        {"email": "  Ada@Example.org "},
        timeout=2.0,  # run options apply to every step
    )
    print("chain:", out)

    # The first error stops the chain and says which step failed.
    try:
        jido.chain([normalize_email, (discount, {"user_id": "nope"})], {"email": "a@b.c"})
    except jido.ValidationError as e:
        print("failed:", e.message, {k: e.details[k] for k in ("step", "step_action")})

    # An interrupt check runs before every step.
    stop_after_first = iter([False, True]).__next__
    out = jido.chain(
        [normalize_email, find_user], {"email": "A@B.C"}, interrupt_check=stop_after_first
    )
    assert isinstance(out, ChainInterrupted)
    print("interrupted before step", out.index, f"({out.action}) with", dict(out))

    # asyncio.
    print("achain:", asyncio.run(achain([normalize_email, find_user], {"email": "X@Y.Z"})))

    # A handle: cancelling it stops the running step; no further step runs.
    ref = chain_async([normalize_email, find_user, slow_report, discount], {"email": "a@b.c"})
    time.sleep(0.1)
    jido.cancel(ref)
    try:
        ref.result()
    except jido.CancelledError as e:
        print("cancelled:", e.message)


if __name__ == "__main__":
    main()
