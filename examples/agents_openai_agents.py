"""Actions as OpenAI Agents SDK tools: ``jido.adapters.openai_agents.tools``.

Run: .venv/bin/python examples/agents_openai_agents.py   (needs ``jido[openai-agents]``)

The SDK ships no offline model, so ``ScriptedModel`` below implements its ``Model``
interface and plays a script of tool calls (no API key, tracing off). The runner and
the tools are the SDK's own. With a real model: ``Agent(name=..., tools=weather)`` and
the SDK's default model. The SDK's ``timeout_seconds`` covers only async functions;
jido's ``timeout`` stops the sync ``crunch`` loop too.
"""

from __future__ import annotations

import json
from typing import Any

from agents import Agent, Runner, set_tracing_disabled
from agents.items import ModelResponse, ToolCallOutputItem
from agents.models.interface import Model
from agents.usage import Usage
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

from jido.adapters.openai_agents import tools
from mcp_tools import crunch, get_forecast

SCRIPT = [
    ("get_forecast", {"city": "Paris", "unit": "kelvin"}),
    ("get_forecast", {"city": "Paris", "unit": None}),  # strict schemas: null is the default
    ("crunch", {"seconds": 30}),
]


class ScriptedModel(Model):
    def __init__(self) -> None:
        self.step = 0

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        if self.step < len(SCRIPT):
            name, arguments = SCRIPT[self.step]
            self.step += 1
            call = ResponseFunctionToolCall(
                type="function_call",
                id=f"fc_{self.step}",
                call_id=f"call_{self.step}",
                name=name,
                arguments=json.dumps(arguments),
                status="completed",
            )
            return ModelResponse(output=[call], usage=Usage(), response_id=None)
        text = ResponseOutputText(type="output_text", text="Paris: 21 degrees.", annotations=[])
        message = ResponseOutputMessage(
            id="msg", type="message", role="assistant", status="completed", content=[text]
        )
        return ModelResponse(output=[message], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


def main() -> None:
    set_tracing_disabled(True)
    weather = tools([get_forecast, crunch], timeout=0.5, max_retries=0)
    agent = Agent(name="weather", model=ScriptedModel(), tools=weather)
    result = Runner.run_sync(agent, "What is the weather in Paris?")
    for item in result.new_items:
        if isinstance(item, ToolCallOutputItem):
            print("tool output:", str(item.output)[:160])
    print("answer:", result.final_output)


if __name__ == "__main__":
    main()
