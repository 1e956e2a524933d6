"""Compensation: one action's on_error, and sagas over chains and plans.

Run: .venv/bin/python examples/saga.py
"""

from __future__ import annotations

from typing import Any

import pydantic

import jido


class Item(pydantic.BaseModel):
    item: str
    quantity: int = 1


class ReserveStock(jido.Action):
    """Reserve stock; compensation releases it."""

    schema = Item

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        print(f"  reserve {params['quantity']} x {params['item']}")
        return {"reservation": "R-1"}

    def on_error(
        self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
    ) -> dict[str, Any]:
        print(f"  release {params['item']} (because: {error.type})")
        return {"released": params["item"]}


class ChargeCard(jido.Action):
    """Charge a card; compensation refunds it."""

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        print(f"  charge for {params['reservation']}")
        return {"charge": "C-7"}

    async def on_error(
        self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
    ) -> dict[str, Any]:
        print(f"  refund {params['charge']}")
        return {"refunded": params["charge"]}


class Ship(jido.Action):
    """Ship the order (always fails here); its own on_error runs once."""

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        raise jido.ExecutionError("no courier available", retryable=False)

    def on_error(
        self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
    ) -> dict[str, Any]:
        print("  cancel the shipping label")
        return {"label": "void"}


def main() -> None:
    print("chain with compensate=True:")
    try:
        jido.chain([ReserveStock, ChargeCard, Ship], {"item": "book"}, compensate=True)
    except jido.ExecutionError as e:
        print("failed:", e.message)
        print("own compensation:", e.details["compensation"])
        for record in e.details["saga"]:
            print("saga:", record)

    print("plan with compensate=True:")
    plan = (
        jido.Plan()
        .add("reserve", ReserveStock, {"item": "lamp"})
        .add("charge", ChargeCard, depends_on="reserve")
        .add("ship", Ship, depends_on="charge")
    )
    try:
        plan.run(compensate=True)
    except jido.ExecutionError as e:
        print("saga:", [(r["step"], r["status"]) for r in e.details["saga"]])


if __name__ == "__main__":
    main()
