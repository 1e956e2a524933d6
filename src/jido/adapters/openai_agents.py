"""``jido.adapters.openai_agents``: actions as tools of the OpenAI Agents SDK.

Needs ``pip install "jido[openai-agents]"``. Each tool is a ``FunctionTool`` whose call
is a jido run: timeouts hold for sync actions too, and a cancelled run stops the work.
Failures are returned to the model as ``{"error": {type, message, retryable, retry_after,
details}}``, with ``"fix": "Fix the arguments and call the tool again."`` for invalid
arguments (a validation error names the field).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jido

if TYPE_CHECKING:
    from agents import FunctionTool

__all__ = ["tools"]


def tools(
    actions: object,
    *,
    runtime: jido.Runtime | None = None,
    context: Mapping[str, Any] | None = None,
    strict: bool = True,
    **run_defaults: Any,
) -> list[FunctionTool]:
    """One ``FunctionTool`` per action, each call a jido run.

    Args:
        actions: an action or a list of actions; names must be unique.
        runtime: the runtime calls run on (default: jido's default runtime).
        context: the context of every run (``agent_context``, the object given to
            ``Runner.run(..., context=...)``, is added when there is one).
        strict: strict JSON schemas where the action's schema allows them (an optional
            field becomes nullable; a ``null`` means its default).
        **run_defaults: jido run options (``timeout``, ``max_retries``, ``isolation``...).

    Raises:
        jido.InvalidActionError: something in ``actions`` is not an action.
        jido.ConfigError: duplicate names, a bad option, or the SDK not installed.

    Example:
        >>> import jido
        >>> from jido.adapters.openai_agents import tools
        >>> @jido.action(description="Add two numbers")
        ... def add(a: int, b: int = 1) -> dict:
        ...     return {"sum": a + b}
        >>> [(t.name, t.strict_json_schema) for t in tools([add], timeout=2.0)]
        [('add', True)]
    """
    try:
        from jido._adapters.openai_agents import make_tools
    except ImportError as exc:
        raise jido.ConfigError(
            'this adapter needs the OpenAI Agents SDK: pip install "jido[openai-agents]"'
        ) from exc
    return make_tools(actions, runtime, context, strict, run_defaults)
