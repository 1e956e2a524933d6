"""Actions to serve to agents: ``jido mcp serve mcp_tools`` (from this folder).

Each action becomes an MCP tool. The annotations (``read_only``, ``destructive``,
``idempotent``, ``open_world``, ``title``) are optional; an action that declares none
claims nothing.
"""

from __future__ import annotations

import time
from typing import Literal

import pydantic

import jido


class Forecast(pydantic.BaseModel):
    city: str
    high: int
    unit: Literal["celsius", "fahrenheit"]


@jido.action(title="Weather forecast", read_only=True, open_world=True, output_schema=Forecast)
def get_forecast(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict:
    """The forecast for a city."""
    return {"city": city, "high": 21 if unit == "celsius" else 70, "unit": unit}


@jido.action(title="Reindex documents", idempotent=True, destructive=False)
def reindex(documents: int = 5) -> dict:
    """Rebuild the search index, reporting progress as it goes."""
    run = jido.current()
    for done in range(1, documents + 1):
        run.sleep(0.2)  # stands for real work; wakes at once when the call is cancelled
        run.progress(done, documents, f"indexed document {done}")
    return {"indexed": documents}


@jido.action
def crunch(seconds: float = 30.0) -> dict:
    """A CPU-bound loop that never looks at its cancellation: jido still stops it."""
    end, n = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        n += 1
    return {"iterations": n}


@jido.action(read_only=True)
def runs_in_flight() -> dict:
    """How many runs this server is running right now (the call itself included)."""
    return {"in_flight": jido.default_runtime().stats()["in_flight"]}


if __name__ == "__main__":
    served = [get_forecast, reindex, crunch, runs_in_flight]
    print("tools served by examples/mcp_server.py:", ", ".join(a.name for a in served))
