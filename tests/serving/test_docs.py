"""A missing agent framework is a clear error (examples and docstrings: tests/test_docs.py)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import jido

MODULES = [
    "jido.mcp",
    "jido.adapters.pydantic_ai",
    "jido.adapters.openai_agents",
    "jido.adapters.langchain",
    "jido._core.context",
]
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
AGENT_EXAMPLES = ["mcp_server", "agents_pydantic_ai", "agents_openai_agents", "agents_langchain"]


@pytest.mark.parametrize(
    ("module", "function", "package"),
    [
        ("jido.adapters.pydantic_ai", "toolset", "pydantic_ai"),
        ("jido.adapters.openai_agents", "tools", "agents"),
        ("jido.adapters.langchain", "tools", "langchain_core"),
        ("jido.mcp", "server", "mcp"),
    ],
)
def test_a_missing_framework_is_a_clear_error(
    module: str, function: str, package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = importlib.import_module(module)
    for name in list(sys.modules):
        if name == package or name.startswith((f"{package}.", "jido._adapters")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, package, None)  # makes `import package` fail

    @jido.action
    def ping() -> dict[str, bool]:
        return {"pong": True}

    with pytest.raises(jido.ConfigError, match="pip install"):
        getattr(public, function)([ping])
