"""Actions as a pydantic-ai toolset.

Arguments are validated by jido (the toolset's own validator accepts any JSON), so the
schema the model sees and the validation it gets are the action's. A validation error
raises ``ModelRetry`` (the model fixes its arguments) until the tool's retries are spent,
then ``ToolFailed``; any other failure raises ``ToolFailed``: the model sees it, the
agent run goes on. Cancelling the task that awaits a call stops the action's work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.exceptions import ModelRetry, ToolFailed
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.toolsets import AbstractToolset
from pydantic_ai.toolsets.abstract import ToolsetTool
from pydantic_core import SchemaValidator, core_schema

import jido
from jido._adapters.common import BoundTool, bind, error_text, is_fixable, retry_text

__all__ = ["JidoToolset"]

_ANY_ARGS = SchemaValidator(core_schema.any_schema())


class JidoToolset(AbstractToolset[Any]):
    """A pydantic-ai toolset whose tools are jido actions, each call a jido run.

    The run's context is the toolset's ``context`` plus ``deps`` (the agent's
    dependencies, when it has any).
    """

    def __init__(
        self,
        actions: object,
        *,
        runtime: jido.Runtime | None = None,
        context: Mapping[str, Any] | None = None,
        id: str | None = None,
        retries: int = 1,
        **run_defaults: Any,
    ) -> None:
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise jido.ConfigError(f"retries must be an integer >= 0, got {retries!r}")
        bound = bind(actions, runtime, context, run_defaults, "jido.adapters.pydantic_ai")
        self._tools = {b.tool.name: b for b in bound}
        self._id = id
        self._retries = retries
        self._defs = {name: _definition(b) for name, b in self._tools.items()}

    @property
    def id(self) -> str | None:
        return self._id

    @property
    def tool_defs(self) -> list[ToolDefinition]:
        """The tool definitions the model sees (name, description, JSON schema)."""
        return list(self._defs.values())

    async def get_tools(self, ctx: RunContext[Any]) -> dict[str, ToolsetTool[Any]]:
        return {
            name: ToolsetTool(
                toolset=self, tool_def=tool_def, max_retries=self._retries, args_validator=_ANY_ARGS
            )
            for name, tool_def in self._defs.items()
        }

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        bound: BoundTool = self._tools[name]
        extra = {"deps": ctx.deps} if ctx.deps is not None else None
        try:
            return await bound.arun(tool_args, extra)
        except jido.JidoError as exc:
            if is_fixable(exc) and ctx.retry < tool.max_retries:
                raise ModelRetry(retry_text(exc)) from exc
            raise ToolFailed(error_text(exc)) from exc


def _definition(bound: BoundTool) -> ToolDefinition:
    tool = bound.tool
    return ToolDefinition(
        name=tool.name,
        description=tool.description or None,
        parameters_json_schema=tool.input_schema,
        metadata={"jido": {"title": tool.title, **tool.hints}}
        if tool.title or tool.hints
        else None,
    )
