"""``jido.adapters.openai_agents``: actions as ``FunctionTool``s, inside real Agents SDK runs.

The SDK ships no test model, so the model here is a minimal implementation of its
``Model`` interface that plays a script of tool calls; the runner, the tools and the
agent loop are the SDK's own. No network, no API key (tracing is off).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
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

import jido
from jido.adapters.openai_agents import tools
from serving.adapter_checks import check_golden, side_effect_stopped, wait_growing
from serving.agent_actions import PlaceOrder, add, fail, spin

ACTIONS = [add, PlaceOrder, fail, spin]
set_tracing_disabled(True)


class ScriptedModel(Model):
    """Answers each request with the next step's tool calls, then with the text ``done``."""

    def __init__(self, *steps: list[tuple[str, dict[str, Any]]]) -> None:
        self.steps = list(steps)
        self.calls = 0

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        if self.steps:
            output: list[Any] = [
                self._call(name, arguments) for name, arguments in self.steps.pop(0)
            ]
        else:
            text = ResponseOutputText(type="output_text", text="done", annotations=[])
            output = [
                ResponseOutputMessage(
                    id="msg", type="message", role="assistant", status="completed", content=[text]
                )
            ]
        return ModelResponse(output=output, usage=Usage(), response_id=None)

    def _call(self, name: str, arguments: dict[str, Any]) -> ResponseFunctionToolCall:
        self.calls += 1
        return ResponseFunctionToolCall(
            type="function_call",
            id=f"fc_{self.calls}",
            call_id=f"call_{self.calls}",
            name=name,
            arguments=json.dumps(arguments),
            status="completed",
        )

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


def run(model: ScriptedModel, **run_defaults: Any) -> list[str]:
    """Run an agent with the tools; the tool outputs the model was given, in order."""
    agent = Agent(name="tester", model=model, tools=tools(ACTIONS, **run_defaults))
    result = Runner.run_sync(agent, "go")
    assert result.final_output == "done"
    return [str(i.output) for i in result.new_items if isinstance(i, ToolCallOutputItem)]


def test_tool_definitions_are_pinned() -> None:
    defs = [
        {
            "name": t.name,
            "description": t.description,
            "params_json_schema": t.params_json_schema,
            "strict_json_schema": t.strict_json_schema,
            "output_json_schema": t.output_json_schema,
        }
        for t in tools(ACTIONS)
    ]
    check_golden("openai_agents_tools.json", defs)


def test_calls_run_through_jido() -> None:
    events: list[jido.telemetry.Event] = []
    order = {"customer": "ada", "items": [{"sku": "x", "quantity": 1}], "note": None}
    with jido.telemetry.attached(events.append, events=["run.stop"]):
        outputs = run(ScriptedModel([("add", {"a": 1, "b": None}), ("place_order", order)]))
    assert [json.loads(o) for o in outputs] == [{"total": 2}, {"order_id": "o-ada", "count": 1}]
    assert sorted(e.action for e in events) == ["add", "place_order"]


def test_invalid_arguments_and_failures_are_outputs_the_model_reads() -> None:
    outputs = run(ScriptedModel([("add", {"a": "two"})], [("fail", {"message": "sold out"})]))
    invalid = json.loads(outputs[0])
    assert invalid["fix"] == "Fix the arguments and call the tool again."
    assert invalid["error"]["type"] == "validation_error"
    assert invalid["error"]["details"]["field"] == "a"
    assert invalid["error"]["message"].startswith("Invalid params for action 'add': a: Input")
    failed = json.loads(outputs[1])
    assert "fix" not in failed
    body = failed["error"]
    assert (body["type"], body["message"], body["retryable"]) == (
        "execution_error",
        "sold out",
        False,
    )


def test_a_timeout_stops_a_sync_action(tmp_path: Path) -> None:
    path = tmp_path / "spin"
    started = time.monotonic()
    [output] = run(
        ScriptedModel([("spin", {"path": str(path), "seconds": 30})]), timeout=0.3, max_retries=0
    )
    assert time.monotonic() - started < 5
    body = json.loads(output)["error"]
    assert (body["type"], body["details"]["stopped"]) == ("timeout", True)
    assert side_effect_stopped(path)


def test_cancelling_the_run_stops_the_action(tmp_path: Path) -> None:
    path = tmp_path / "spin"
    model = ScriptedModel([("spin", {"path": str(path), "seconds": 30})])
    agent = Agent(name="tester", model=model, tools=tools(ACTIONS, timeout=60))

    async def main() -> None:
        task = asyncio.create_task(Runner.run(agent, "go"))
        await wait_growing(path)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert side_effect_stopped(path)


def test_the_agent_context_reaches_the_action() -> None:
    seen: list[Any] = []

    @jido.action
    def whoami(context: dict[str, Any]) -> dict[str, Any]:
        seen.append(context["agent_context"])
        return {}

    model = ScriptedModel([("whoami", {})])
    agent = Agent(name="tester", model=model, tools=tools([whoami]))
    Runner.run_sync(agent, "go", context={"user": 7})
    assert seen == [{"user": 7}]
