"""``jido.adapters.pydantic_ai``: actions as a toolset, inside real pydantic-ai agents.

The models are pydantic-ai's own test models: ``TestModel`` (calls every tool with
generated arguments) and ``FunctionModel`` (a script of tool calls); no network.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel

import jido
from jido.adapters.pydantic_ai import toolset
from serving import agent_actions
from serving.adapter_checks import check_golden, side_effect_stopped, wait_growing

ACTIONS = [agent_actions.add, agent_actions.PlaceOrder, agent_actions.fail, agent_actions.spin]


def scripted(*steps: list[tuple[str, dict[str, Any]]]) -> FunctionModel:
    """A model that makes these tool calls, one step per request, then answers with text."""
    queue = list(steps)

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if queue:
            calls = queue.pop(0)
            return ModelResponse(parts=[ToolCallPart(name, args) for name, args in calls])
        return ModelResponse(parts=[TextPart("done")])

    return FunctionModel(respond)


def parts(result: Any, kind: type) -> list[Any]:
    return [p for m in result.all_messages() for p in m.parts if isinstance(p, kind)]


def test_tool_definitions_are_pinned() -> None:
    defs = [
        {
            "name": d.name,
            "description": d.description,
            "parameters_json_schema": d.parameters_json_schema,
            "metadata": d.metadata,
        }
        for d in toolset(ACTIONS).tool_defs
    ]
    check_golden("pydantic_ai_tools.json", defs)


def test_test_model_calls_the_tools_through_jido() -> None:
    events: list[jido.telemetry.Event] = []
    agent = Agent(TestModel(call_tools=["add"]), toolsets=[toolset(ACTIONS, timeout=2.0)])
    with jido.telemetry.attached(events.append, events=["run.stop"]):
        result = agent.run_sync("add some numbers")
    assert json.loads(result.output) == {"add": {"total": 1}}
    assert [e.action for e in events] == ["add"]


def test_invalid_arguments_ask_the_model_to_fix_them() -> None:
    model = scripted([("add", {"a": "two"})], [("add", {"a": 2})])
    result = Agent(model, toolsets=[toolset(ACTIONS)]).run_sync("add")
    retried, ok = parts(result, ToolReturnPart)
    assert retried.outcome == "retried"  # ModelRetry: the model is asked to fix its arguments
    assert "a: Input should be a valid integer" in str(retried.content)
    assert "Fix the arguments" in str(retried.content)
    assert (ok.outcome, ok.content) == ("success", {"total": 3})
    assert result.output == "done"


def test_other_failures_are_tool_failures_the_model_sees() -> None:
    model = scripted([("fail", {"message": "out of stock"})])
    result = Agent(model, toolsets=[toolset(ACTIONS)]).run_sync("go")
    assert result.output == "done"
    [failed] = [p for p in parts(result, ToolReturnPart) if p.outcome == "failed"]
    body = json.loads(failed.content)["error"]
    assert (body["type"], body["message"], body["retryable"]) == (
        "execution_error",
        "out of stock",
        False,
    )


def test_arguments_still_wrong_after_the_retries_do_not_end_the_run() -> None:
    bad = [("add", {"b": 1})]
    model = scripted(bad, bad, bad)
    result = Agent(model, toolsets=[toolset(ACTIONS, retries=1)]).run_sync("add")
    assert result.output == "done"
    outcomes = [p.outcome for p in parts(result, ToolReturnPart)]
    assert outcomes == ["retried", "failed", "failed"]  # the retry budget spent: failures
    failed = parts(result, ToolReturnPart)[-1]
    assert json.loads(failed.content)["error"]["details"]["field"] == "a"


def test_a_timeout_stops_a_sync_action_and_the_run_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "spin"
    model = scripted([("spin", {"path": str(path), "seconds": 30})])
    started = time.monotonic()
    result = Agent(model, toolsets=[toolset(ACTIONS, timeout=0.3, max_retries=0)]).run_sync("go")
    assert time.monotonic() - started < 5
    [failed] = [p for p in parts(result, ToolReturnPart) if p.outcome == "failed"]
    body = json.loads(failed.content)["error"]
    assert body["type"] == "timeout"
    assert body["details"]["stopped"] is True
    assert side_effect_stopped(path)


def test_cancelling_the_agent_run_stops_the_action(tmp_path: Path) -> None:
    path = tmp_path / "spin"
    model = scripted([("spin", {"path": str(path), "seconds": 30})])
    agent = Agent(model, toolsets=[toolset(ACTIONS, timeout=60)])

    async def main() -> None:
        task = asyncio.create_task(agent.run("go"))
        await wait_growing(path)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert side_effect_stopped(path)


def test_the_agent_deps_reach_the_action_context() -> None:
    seen: list[Any] = []

    @jido.action
    def whoami(context: dict[str, Any]) -> dict[str, Any]:
        seen.append((context["deps"], context["tenant"]))
        return {}

    model = scripted([("whoami", {})])
    agent = Agent(model, deps_type=str, toolsets=[toolset([whoami], context={"tenant": "t1"})])
    agent.run_sync("who", deps="user-7")
    assert seen == [("user-7", "t1")]
