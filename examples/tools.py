"""Tools: an action as an LLM tool, for OpenAI, Anthropic and Gemini; executing tool calls.

Run: .venv/bin/python examples/tools.py
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pydantic

import jido
import jido.tools


class Forecast(pydantic.BaseModel):
    city: str = pydantic.Field(description="City name, e.g. Paris")
    days: int = pydantic.Field(default=1, ge=1, le=7, description="How many days")
    unit: Literal["celsius", "fahrenheit"] = "celsius"


class GetForecast(jido.Action):
    name = "get_forecast"
    description = "Weather forecast for a city"
    schema = Forecast

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"city": params["city"], "days": params["days"], "high": 21, "unit": params["unit"]}


def main() -> None:
    for dialect in jido.tools.DIALECTS:
        print(f"--- {dialect}")
        print(json.dumps(jido.tools.to_tool(GetForecast, dialect), indent=1))
    print("--- openai, strict")
    print(json.dumps(jido.tools.to_tool(GetForecast, "openai", strict=True)["function"], indent=1))

    # The model calls the tool: arguments arrive as a JSON string (OpenAI) or an object.
    print(jido.tools.execute_tool(GetForecast, '{"city": "Paris", "days": null}'))
    print(jido.tools.execute_tool(GetForecast, {"city": "Oslo", "unit": "fahrenheit"}))
    # Mistakes come back as JSON the model can read, never as an exception.
    print(jido.tools.execute_tool(GetForecast, '{"city": "Rome", "days": 30}'))
    print(jido.tools.execute_tool(GetForecast, '{"city": '))


if __name__ == "__main__":
    main()
