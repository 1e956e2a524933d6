"""The framework-free half of an adapter: a bound action, and what a model reads back.

A :class:`BoundTool` runs one action through jido with the adapter's run options: the
arguments the framework hands over (a JSON string or a dict) are parsed and validated
by jido, the run has jido's timeout, retries and cancellation (cancelling the awaiting
task stops the action's work), and a failure is a :class:`jido.JidoError` that the
framework module turns into its own "fix your arguments" or "tool failed" signal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jido
from jido._mcp._internal import check_options, parse_arguments
from jido._mcp.results import dumps, error_body, jsonable
from jido._mcp.tools import ToolSpec, tool_specs

__all__ = [
    "FIX",
    "BoundTool",
    "bind",
    "declared",
    "error_text",
    "is_fixable",
    "result_text",
    "retry_text",
]


class BoundTool:
    """One action, its tool definition, and the options each of its calls runs with."""

    __slots__ = ("context", "options", "runtime", "tool")

    def __init__(
        self,
        tool: ToolSpec,
        runtime: jido.Runtime | None,
        context: Mapping[str, Any],
        options: dict[str, Any],
    ) -> None:
        self.tool = tool
        self.runtime = runtime
        self.context = context
        self.options = options

    async def arun(self, arguments: object, extra: Mapping[str, Any] | None = None) -> Any:
        """Run the action for a tool call (inside asyncio); the result as JSON-ready data."""
        params = parse_arguments(self.tool.spec, arguments)
        runtime = self.runtime or jido.default_runtime()
        context = {**self.context, **extra} if extra else self.context
        return jsonable(await runtime.arun(self.tool.action, params, context, **self.options))

    def run(self, arguments: object, extra: Mapping[str, Any] | None = None) -> Any:
        """Run the action for a tool call, blocking (sync frameworks and code paths)."""
        params = parse_arguments(self.tool.spec, arguments)
        runtime = self.runtime or jido.default_runtime()
        context = {**self.context, **extra} if extra else self.context
        return jsonable(runtime.run(self.tool.action, params, context, **self.options))


def bind(
    actions: object,
    runtime: jido.Runtime | None,
    context: Mapping[str, Any] | None,
    run_defaults: Mapping[str, Any],
    where: str,
) -> list[BoundTool]:
    """Every action as a bound tool; bad actions, names or options fail here, at once."""
    if runtime is not None and not isinstance(runtime, jido.Runtime):
        raise jido.ConfigError(f"{where}: runtime must be a jido.Runtime, got {runtime!r}")
    if context is not None and not isinstance(context, Mapping):
        raise jido.ConfigError(f"{where}: context must be a mapping, got {type(context).__name__}")
    options = check_options(run_defaults, f"{where} run options")
    shared = dict(context or {})
    return [BoundTool(tool, runtime, shared, options) for tool in tool_specs(actions).values()]


def declared(tool: ToolSpec) -> dict[str, Any]:
    """What the action declared of ``title``, ``read_only``, ``destructive``... (maybe nothing)."""
    return {"title": tool.title, **tool.hints} if tool.title else dict(tool.hints)


def is_fixable(error: jido.JidoError) -> bool:
    """True for what the model can fix by changing its arguments (a validation error)."""
    return isinstance(error, jido.ValidationError)


FIX = "Fix the arguments and call the tool again."


def retry_text(error: jido.JidoError) -> str:
    """What a model reads to fix its arguments: the problem, naming the field."""
    return f"{error.message}. {FIX}"


def error_text(error: jido.JidoError, *, hint: bool = False) -> str:
    """What a model reads when a call failed: ``{"error": {type, message, retryable, ...}}``.

    With ``hint``, a fixable error also says ``"fix": "Fix the arguments and call..."``.
    """
    body: dict[str, Any] = {"error": error_body(error)}
    if hint and is_fixable(error):
        body["fix"] = FIX
    return dumps(body)


def result_text(result: Any) -> str:
    """A result as the JSON text a model reads."""
    return dumps(result)
