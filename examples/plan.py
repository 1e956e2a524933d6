"""Plans: a DAG of named steps; independent steps run concurrently.

Run: .venv/bin/python examples/plan.py
"""

from __future__ import annotations

import time
from typing import Any

import jido


@jido.action(description="Fetch a source (simulated I/O)")
def fetch(source: str) -> dict[str, Any]:
    time.sleep(0.2)
    return {source: [1, 2, 3] if source == "users" else [10, 20]}


@jido.action(description="Join users and orders")
def join(users: list[int], orders: list[int]) -> dict[str, Any]:
    return {"rows": len(users) * len(orders)}


@jido.action(description="Write a report")
def report(rows: int, title: str) -> dict[str, Any]:
    return {"report": f"{title}: {rows} rows"}


@jido.action(description="Fails")
def flaky_export() -> dict[str, Any]:
    raise jido.ExecutionError("export service down", retryable=False)


def main() -> None:
    plan = (
        jido.Plan()
        .add("users", fetch, {"source": "users"})
        .add("orders", fetch, {"source": "orders"}, timeout=1.0)  # per-step options
        .add("join", join, depends_on=["users", "orders"])
        .add("report", report, {"title": "Daily"}, depends_on="join")
    )
    print("phases:", plan.phases())
    started = time.monotonic()
    result = plan.run()
    print(f"ran in {time.monotonic() - started:.2f}s (the two fetches in parallel):")
    for name, value in result.items():
        print(f"  {name}: {value}")

    # The same plan from a mapping.
    same = jido.Plan.from_mapping(
        {
            "users": (fetch, {"source": "users"}),
            "orders": (fetch, {"source": "orders"}),
            "join": {"action": join, "depends_on": ["users", "orders"]},
        }
    )
    print("from a mapping:", same.phases())

    # Invalid graphs are rejected with precise errors.
    for broken in (
        jido.Plan().add("a", join, depends_on=["ghost", "phantom"]),
        jido.Plan().add("a", join, depends_on="b").add("b", join, depends_on="a"),
    ):
        try:
            broken.validate()
        except jido.ValidationError as e:
            print("invalid:", e.message)

    # Keep going after a failure: independent steps still run.
    partial = plan.add("export", flaky_export, depends_on="join").run(fail_fast=False)
    print("ok:", partial.ok, "| errors:", {k: v.message for k, v in partial.errors.items()})


if __name__ == "__main__":
    main()
