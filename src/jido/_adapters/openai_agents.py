"""Actions as ``FunctionTool`` objects for the OpenAI Agents SDK.

The tool gets the action's schema (strict when the schema can be, as the SDK prefers:
a ``null`` then means "use the default"), and ``on_invoke_tool`` runs the action through
jido: its timeout holds for sync actions too (the SDK's ``timeout_seconds`` only covers
async functions), and cancelling the awaiting task stops the work. Every failure is the
tool's output, as a JSON object the model reads: ``{"error": {type, message, retryable,
retry_after, details}}``, plus ``"fix"`` (a request to fix the arguments) for invalid
arguments. Nothing raised ends the agent run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from agents import FunctionTool, RunContextWrapper
from agents.tool_context import ToolContext

import jido
from jido._adapters.common import BoundTool, bind, error_text, result_text
from jido._mcp._internal import parameters_schema

__all__ = ["make_tools"]


def make_tools(
    actions: object,
    runtime: jido.Runtime | None,
    context: Mapping[str, Any] | None,
    strict: bool,
    run_defaults: Mapping[str, Any],
) -> list[FunctionTool]:
    if not isinstance(strict, bool):
        raise jido.ConfigError(f"strict must be a bool, got {strict!r}")
    bound = bind(actions, runtime, context, run_defaults, "jido.adapters.openai_agents")
    return [_function_tool(b, strict) for b in bound]


def _function_tool(bound: BoundTool, strict: bool) -> FunctionTool:
    schema, is_strict = bound.tool.input_schema, False
    if strict:
        with contextlib.suppress(jido.ConfigError):  # a free-form mapping cannot be strict
            schema, is_strict = parameters_schema(bound.tool.action, strict=True), True
    return FunctionTool(
        name=bound.tool.name,
        description=bound.tool.description,
        params_json_schema=schema,
        on_invoke_tool=_invoker(bound),
        strict_json_schema=is_strict,
        output_json_schema=bound.tool.output_schema,
    )


def _invoker(bound: BoundTool) -> Any:
    async def on_invoke_tool(ctx: ToolContext[Any], arguments: str) -> str:
        extra = _extra(ctx)
        try:
            return result_text(await bound.arun(arguments, extra))
        except jido.JidoError as exc:
            return error_text(exc, hint=True)  # a JSON object, as output schemas require

    return on_invoke_tool


def _extra(ctx: RunContextWrapper[Any]) -> dict[str, Any] | None:
    """The agent's own context object (``Runner.run(..., context=...)``), if it has one."""
    value = getattr(ctx, "context", None)
    return {"agent_context": value} if value is not None else None
