"""``jido.adapters.pydantic_ai``: actions as a pydantic-ai toolset.

Needs ``pip install "jido[pydantic-ai]"``. Invalid arguments raise ``ModelRetry`` (the
model fixes them; after the tool's ``retries``, ``ToolFailed``); other failures raise
``ToolFailed`` with the structured error as its message. The agent run goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jido

if TYPE_CHECKING:
    from jido._adapters.pydantic_ai import JidoToolset

__all__ = ["toolset"]


def toolset(
    actions: object,
    *,
    runtime: jido.Runtime | None = None,
    context: Mapping[str, Any] | None = None,
    id: str | None = None,
    retries: int = 1,
    **run_defaults: Any,
) -> JidoToolset:
    """A pydantic-ai toolset with each action a tool, each call a jido run.

    Args:
        actions: an action or a list of actions; names must be unique.
        runtime: the runtime calls run on (default: jido's default runtime).
        context: the context of every run (``deps``, the agent's dependencies, is added).
        id: the toolset's id (pydantic-ai needs one for durable execution).
        retries: how many times the model may fix invalid arguments for a tool.
        **run_defaults: jido run options (``timeout``, ``max_retries``, ``isolation``...).

    Raises:
        jido.InvalidActionError: something in ``actions`` is not an action.
        jido.ConfigError: duplicate names, a bad option, or pydantic-ai not installed.

    Example:
        >>> import jido
        >>> from jido.adapters.pydantic_ai import toolset
        >>> from pydantic_ai import Agent
        >>> from pydantic_ai.models.test import TestModel
        >>> @jido.action
        ... def add(a: int, b: int = 1) -> dict:
        ...     return {"sum": a + b}
        >>> agent = Agent(TestModel(), toolsets=[toolset([add], timeout=2.0)])
        >>> agent.run_sync("add 1 and 2").output
        '{"add":{"sum":1}}'
    """
    try:
        from jido._adapters.pydantic_ai import JidoToolset
    except ImportError as exc:
        raise jido.ConfigError(
            'this adapter needs pydantic-ai: pip install "jido[pydantic-ai]"'
        ) from exc
    return JidoToolset(
        actions, runtime=runtime, context=context, id=id, retries=retries, **run_defaults
    )
