"""``jido.adapters.langchain``: actions as ``StructuredTool``s in LangChain's tool-calling loop.

The model is LangChain's own fake chat model (``GenericFakeChatModel``) answering with
``AIMessage`` tool calls; the tools run them as LangChain does (``tool.ainvoke(call)`` ->
``ToolMessage``). No network.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

import jido
from jido.adapters.langchain import tools
from serving.adapter_checks import check_golden, side_effect_stopped, wait_growing
from serving.agent_actions import PlaceOrder, add, fail, spin

ACTIONS = [add, PlaceOrder, fail, spin]


def model(*steps: list[tuple[str, dict[str, Any]]]) -> GenericFakeChatModel:
    """A chat model that asks for these tool calls, one step per turn, then says ``done``."""
    replies = [
        AIMessage(
            content="",
            tool_calls=[
                {"name": name, "args": args, "id": f"call_{i}_{j}", "type": "tool_call"}
                for j, (name, args) in enumerate(step)
            ],
        )
        for i, step in enumerate(steps)
    ]
    return GenericFakeChatModel(messages=iter([*replies, AIMessage(content="done")]))


async def agent_loop(chat: GenericFakeChatModel, toolbox: list[BaseTool]) -> list[BaseMessage]:
    """LangChain's tool-calling loop: ask the model, run its tool calls, until it answers."""
    by_name = {t.name: t for t in toolbox}
    messages: list[BaseMessage] = [HumanMessage("go")]
    while True:
        reply = await chat.ainvoke(messages)
        messages.append(reply)
        if not getattr(reply, "tool_calls", None):
            return messages
        for call in reply.tool_calls:
            messages.append(await by_name[call["name"]].ainvoke(call))


def tool_messages(messages: list[BaseMessage]) -> list[ToolMessage]:
    return [m for m in messages if isinstance(m, ToolMessage)]


def test_tool_definitions_are_pinned() -> None:
    defs = [
        {"openai": convert_to_openai_tool(t), "args_schema": t.args_schema, "metadata": t.metadata}
        for t in tools(ACTIONS)
    ]
    check_golden("langchain_tools.json", defs)


def test_calls_run_through_jido() -> None:
    events: list[jido.telemetry.Event] = []
    order = {"customer": "ada", "items": [{"sku": "x", "quantity": 1}]}
    chat = model([("add", {"a": 1}), ("place_order", order)])
    with jido.telemetry.attached(events.append, events=["run.stop"]):
        messages = asyncio.run(agent_loop(chat, tools(ACTIONS, timeout=2.0)))
    first, second = tool_messages(messages)
    assert (first.status, json.loads(first.content)) == ("success", {"total": 2})
    assert json.loads(second.content) == {"order_id": "o-ada", "count": 1}
    assert messages[-1].content == "done"
    assert sorted(e.action for e in events) == ["add", "place_order"]


def test_sync_invoke_runs_through_jido_too() -> None:
    [add_tool, *_] = tools(ACTIONS)
    message = add_tool.invoke({"name": "add", "args": {"a": 4}, "id": "c1", "type": "tool_call"})
    assert json.loads(message.content) == {"total": 5}


def test_invalid_arguments_and_failures_are_error_tool_messages() -> None:
    chat = model([("add", {"a": "two"})], [("fail", {"message": "sold out"})])
    invalid, failed = tool_messages(asyncio.run(agent_loop(chat, tools(ACTIONS))))
    assert invalid.status == "error"
    assert invalid.content.startswith("Invalid params for action 'add': a: Input should be")
    assert invalid.content.endswith("Fix the arguments and call the tool again.")
    assert failed.status == "error"
    body = json.loads(failed.content)["error"]
    assert (body["type"], body["message"], body["retryable"]) == (
        "execution_error",
        "sold out",
        False,
    )


def test_a_timeout_stops_a_sync_action(tmp_path: Path) -> None:
    path = tmp_path / "spin"
    chat = model([("spin", {"path": str(path), "seconds": 30})])
    started = time.monotonic()
    [timed_out] = tool_messages(
        asyncio.run(agent_loop(chat, tools(ACTIONS, timeout=0.3, max_retries=0)))
    )
    assert time.monotonic() - started < 5
    body = json.loads(timed_out.content)["error"]
    assert (body["type"], body["details"]["stopped"]) == ("timeout", True)
    assert side_effect_stopped(path)


def test_cancelling_the_awaiting_task_stops_the_action(tmp_path: Path) -> None:
    path = tmp_path / "spin"
    chat = model([("spin", {"path": str(path), "seconds": 30})])

    async def main() -> None:
        task = asyncio.create_task(agent_loop(chat, tools(ACTIONS, timeout=60)))
        await wait_growing(path)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert side_effect_stopped(path)
