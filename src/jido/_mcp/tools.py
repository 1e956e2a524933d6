"""From actions to tool definitions: names, schemas and annotations, computed once.

Shared by the MCP server and the framework adapters. Pure: no SDK import here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import jido
from jido._mcp._internal import (
    ActionSpec,
    annotations_of,
    base_schema,
    output_json_schema,
    parameters_schema,
    spec_of,
)

__all__ = ["HINTS", "ToolSpec", "collect", "tool_specs"]

_NAME_RE: Final = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
HINTS: Final = {
    "read_only": "read_only_hint",
    "destructive": "destructive_hint",
    "idempotent": "idempotent_hint",
    "open_world": "open_world_hint",
}
"""jido's action metadata -> the MCP ``ToolAnnotations`` field it fills."""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One action as a tool: everything a tool list needs, computed at definition time.

    Attributes:
        action: the action itself (what runs).
        spec: its compiled spec.
        name: the tool name (the action's name).
        title: the declared title, or None.
        description: the action's description.
        input_schema: JSON Schema 2020-12 of the params, root ``type: object``.
        output_schema: JSON Schema of the result dict, or None when the action declares none.
        hints: the declared annotations among ``read_only``, ``destructive``,
            ``idempotent``, ``open_world`` (only those declared).
    """

    action: object
    spec: ActionSpec
    name: str
    title: str | None
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    hints: Mapping[str, bool]


def collect(actions: object) -> list[object]:
    """The actions to serve: one action, or an iterable of them (order kept, no duplicates).

    Raises:
        jido.InvalidActionError: something that is not an action.
        jido.ConfigError: no action at all.
    """
    items: Iterable[object]
    if _is_action(actions):
        items = [actions]
    elif isinstance(actions, Iterable) and not isinstance(actions, str | bytes | Mapping):
        items = actions
    else:
        raise jido.ConfigError(
            f"expected an action or a list of actions, got {type(actions).__name__}",
            details={"type": type(actions).__name__},
        )
    out: list[object] = []
    for item in items:
        spec_of(item)  # InvalidActionError for anything else
        if not any(item is seen for seen in out):
            out.append(item)
    if not out:
        raise jido.ConfigError("no actions to serve: the list is empty")
    return out


def tool_specs(actions: object) -> dict[str, ToolSpec]:
    """Tool definitions by name, checked: valid and unique names, object schemas.

    Raises:
        jido.ConfigError: two actions with one name, a name MCP does not accept, or
            params that cannot be described as JSON Schema.
    """
    tools: dict[str, ToolSpec] = {}
    for action in collect(actions):
        tool = _tool_spec(action)
        if tool.name in tools:
            raise jido.ConfigError(
                f"two actions are named {tool.name!r}; tool names must be unique",
                details={"name": tool.name},
            )
        tools[tool.name] = tool
    return tools


def _tool_spec(action: object) -> ToolSpec:
    spec = spec_of(action)
    if not _NAME_RE.match(spec.name):
        raise jido.ConfigError(
            f"action name {spec.name!r} is not a valid tool name (at most 128 characters)",
            details={"name": spec.name},
        )
    declared = annotations_of(spec)
    return ToolSpec(
        action=action,
        spec=spec,
        name=spec.name,
        title=declared.pop("title", None),
        description=spec.description,
        input_schema=parameters_schema(action),
        output_schema=_output_schema(spec),
        hints=declared,
    )


def _output_schema(spec: ActionSpec) -> dict[str, Any] | None:
    raw = output_json_schema(spec)
    if raw is None:
        return None
    schema = base_schema(raw)
    if schema.get("additionalProperties") is False:
        del schema["additionalProperties"]  # results keep undeclared keys (open schemas)
    return schema


def _is_action(value: object) -> bool:
    return isinstance(getattr(value, "__jido_action__", None), ActionSpec)
