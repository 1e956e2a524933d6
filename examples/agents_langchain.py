"""Actions as LangChain tools: ``jido.adapters.langchain.tools``.

Run: .venv/bin/python examples/agents_langchain.py   (needs ``jido[langchain]``)

LangChain's own fake chat model plays the model (no API key); the loop is LangChain's
tool-calling protocol: the model answers with tool calls, each tool turns a call into a
``ToolMessage``. With a real model: ``ChatOpenAI(...).bind_tools(weather)`` (or
``create_agent(model, tools=weather)`` from ``langchain``).
"""

from __future__ import annotations

import asyncio

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from jido.adapters.langchain import tools
from mcp_tools import crunch, get_forecast


def call(name: str, **args: object) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": name}])


async def main() -> None:
    weather = {t.name: t for t in tools([get_forecast, crunch], timeout=0.5, max_retries=0)}
    model = GenericFakeChatModel(
        messages=iter(
            [
                call("get_forecast", city="Paris", unit="kelvin"),
                call("get_forecast", city="Paris"),
                call("crunch", seconds=30),
                AIMessage(content="Paris: 21 degrees."),
            ]
        )
    )
    messages: list[BaseMessage] = [HumanMessage("What is the weather in Paris?")]
    while True:
        reply = await model.ainvoke(messages)
        messages.append(reply)
        if not isinstance(reply, AIMessage) or not reply.tool_calls:
            break
        for tool_call in reply.tool_calls:
            result = await weather[tool_call["name"]].ainvoke(tool_call)
            print(f"{tool_call['name']} [{result.status}]: {str(result.content)[:140]}")
            messages.append(result)
    print("answer:", messages[-1].content)


if __name__ == "__main__":
    asyncio.run(main())
