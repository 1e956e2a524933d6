"""Actions as LangChain ``StructuredTool`` objects.

The tool's ``args_schema`` is the action's JSON schema (LangChain passes the arguments
through; jido validates them), with a sync ``func`` (``jido.run``) and an async
``coroutine`` (``jido.arun``): either way the action's timeout holds, and cancelling
the awaiting task stops the work. A failure raises ``ToolException``, which the tool
(``handle_tool_error=True``) turns into an error ``ToolMessage`` the model reads:
invalid arguments with a request to fix them, other failures as the structured error.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from langchain_core.tools import StructuredTool, ToolException

import jido
from jido._adapters.common import BoundTool, bind, declared, error_text, is_fixable, retry_text

__all__ = ["make_tools"]


def make_tools(
    actions: object,
    runtime: jido.Runtime | None,
    context: Mapping[str, Any] | None,
    run_defaults: Mapping[str, Any],
) -> list[StructuredTool]:
    bound = bind(actions, runtime, context, run_defaults, "jido.adapters.langchain")
    return [_structured_tool(b) for b in bound]


def _structured_tool(bound: BoundTool) -> StructuredTool:
    sync, coroutine = _callables(bound)
    return StructuredTool(
        name=bound.tool.name,
        description=bound.tool.description or bound.tool.name,
        args_schema=bound.tool.input_schema,
        func=sync,
        coroutine=coroutine,
        handle_tool_error=True,
        metadata={"jido": declared(bound.tool)},
    )


def _callables(
    bound: BoundTool,
) -> tuple[Callable[..., Any], Callable[..., Coroutine[Any, Any, Any]]]:
    def run(**arguments: Any) -> Any:
        try:
            return bound.run(arguments)
        except jido.JidoError as exc:
            raise _tool_exception(exc) from exc

    async def arun(**arguments: Any) -> Any:
        try:
            return await bound.arun(arguments)
        except jido.JidoError as exc:
            raise _tool_exception(exc) from exc

    return run, arun


def _tool_exception(error: jido.JidoError) -> ToolException:
    return ToolException(retry_text(error) if is_fixable(error) else error_text(error))
