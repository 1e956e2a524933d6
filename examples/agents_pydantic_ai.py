"""Actions as a pydantic-ai toolset: ``jido.adapters.pydantic_ai.toolset``.

Run: .venv/bin/python examples/agents_pydantic_ai.py   (needs ``jido[pydantic-ai]``)

The model here is pydantic-ai's ``FunctionModel`` playing a script (no API key): it
first calls the tool with an invalid unit (jido's validation error becomes ``ModelRetry``:
the model is asked to fix it), then correctly, then a slow tool that jido times out (the
sync work is stopped, and the model reads the failure; the run goes on). With a real
model: ``Agent("openai:gpt-5", toolsets=[weather])``.
"""

from __future__ import annotations

import json

from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from jido.adapters.pydantic_ai import toolset
from mcp_tools import crunch, get_forecast

SCRIPT = [
    ToolCallPart("get_forecast", {"city": "Paris", "unit": "kelvin"}),
    ToolCallPart("get_forecast", {"city": "Paris", "unit": "celsius"}),
    ToolCallPart("crunch", {"seconds": 30}),
]


def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    step = sum(isinstance(p, ToolReturnPart) for m in messages for p in m.parts)
    if step < len(SCRIPT):
        return ModelResponse(parts=[SCRIPT[step]])
    return ModelResponse(parts=[TextPart("Paris: 21 degrees. The crunch tool timed out.")])


def describe(content: object) -> str:
    """A tool result, or the type of the error and whether the work was stopped."""
    if isinstance(content, str) and content.startswith('{"error"'):
        error = json.loads(content)["error"]
        return f"{error['type']}: {error['message']} (stopped: {error['details'].get('stopped')})"
    return str(content)


def main() -> None:
    weather = toolset([get_forecast, crunch], timeout=0.5, max_retries=0)
    agent = Agent(FunctionModel(model), toolsets=[weather])
    result = agent.run_sync("What is the weather in Paris?")
    for message in result.all_messages():
        for part in message.parts:
            if isinstance(part, ToolReturnPart):
                print(f"{part.tool_name} [{part.outcome}]: {describe(part.content)}")
    print("answer:", result.output)


if __name__ == "__main__":
    main()
