"""``jido.adapters.langchain``: actions as LangChain tools.

Needs ``pip install "jido[langchain]"``. Each tool is a ``StructuredTool`` whose call
(``invoke`` or ``ainvoke``) is a jido run. Failures become an error ``ToolMessage``
(invalid arguments with a request to fix them; other failures as
``{"error": {type, message, retryable, retry_after, details}}``), never an exception
that ends the agent's loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import jido

if TYPE_CHECKING:
    from langchain_core.tools import StructuredTool

__all__ = ["tools"]


def tools(
    actions: object,
    *,
    runtime: jido.Runtime | None = None,
    context: Mapping[str, Any] | None = None,
    **run_defaults: Any,
) -> list[StructuredTool]:
    """One ``StructuredTool`` per action, each call a jido run.

    Args:
        actions: an action or a list of actions; names must be unique.
        runtime: the runtime calls run on (default: jido's default runtime).
        context: the context of every run.
        **run_defaults: jido run options (``timeout``, ``max_retries``, ``isolation``...).

    Raises:
        jido.InvalidActionError: something in ``actions`` is not an action.
        jido.ConfigError: duplicate names, a bad option, or langchain-core not installed.

    Example:
        >>> import jido
        >>> from jido.adapters.langchain import tools
        >>> @jido.action(description="Add two numbers")
        ... def add(a: int, b: int = 1) -> dict:
        ...     return {"sum": a + b}
        >>> [add_tool] = tools([add], timeout=2.0)
        >>> add_tool.invoke({"a": 2})
        {'sum': 3}
        >>> add_tool.invoke({"a": "two"})[:40]
        "Invalid params for action 'add': a: Inpu"
    """
    try:
        from jido._adapters.langchain import make_tools
    except ImportError as exc:
        raise jido.ConfigError(
            'this adapter needs langchain-core: pip install "jido[langchain]"'
        ) from exc
    return make_tools(actions, runtime, context, run_defaults)
