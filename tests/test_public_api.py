"""Pins the public names, so that removing or renaming one is a deliberate act."""

from __future__ import annotations

import types

import pytest

import jido
import jido.adapters
import jido.adapters.langchain
import jido.adapters.openai_agents
import jido.adapters.pydantic_ai
import jido.mcp
import jido.testing
import jido.workflow

JIDO_ALL = [
    "Action",
    "AsyncRef",
    "CancelReason",
    "CancelledError",
    "CompensationError",
    "ConfigError",
    "ExecutionError",
    "FunctionAction",
    "Instruction",
    "InternalError",
    "Interrupted",
    "InvalidActionError",
    "InvalidAsyncRefError",
    "JidoError",
    "Plan",
    "RemoteError",
    "RetryPolicy",
    "RunContext",
    "RunInfo",
    "RunOptions",
    "RunPage",
    "Runtime",
    "StepInfo",
    "TimeoutError",
    "ValidationError",
    "action",
    "arun",
    "await_",
    "cancel",
    "chain",
    "configure",
    "current",
    "default_runtime",
    "run",
    "run_async",
    "shutdown",
]

TESTING_ALL = ["call", "no_backoff", "run_context", "set_no_backoff"]

TELEMETRY_ALL = [
    "EVENTS",
    "Event",
    "HandlerRef",
    "attach",
    "attached",
    "detach",
    "instrument",
    "uninstrument",
]

ENGINES_ALL = ["Ray"]

TOOLS_ALL = [
    "DIALECTS",
    "GEMINI_RECURSION_DEPTH",
    "Dialect",
    "aexecute_tool",
    "execute_tool",
    "parameters_schema",
    "to_tool",
]

MCP_ALL = ["DEFAULT_HEARTBEAT", "TOKEN_ENV", "http_app", "run", "server"]

ADAPTERS_ALL: list[str] = []
PYDANTIC_AI_ALL = ["toolset"]
OPENAI_AGENTS_ALL = ["tools"]
LANGCHAIN_ALL = ["tools"]

WORKFLOW_ALL = [
    "AsyncClosure",
    "ChainInterrupted",
    "Closure",
    "Instruction",
    "Plan",
    "PlanResult",
    "PlanStep",
    "achain",
    "arun",
    "async_closure",
    "await_",
    "cancel",
    "chain",
    "chain_async",
    "check_allowed",
    "closure",
    "normalize",
    "run",
    "run_async",
]

# What the docs and the contract document for the core (must never disappear).
DOCUMENTED_CORE = {
    "Action",
    "action",
    "run",
    "arun",
    "run_async",
    "await_",
    "cancel",
    "AsyncRef",
    "configure",
    "Runtime",
    "shutdown",
    "current",
    "RetryPolicy",
    "Interrupted",
    "JidoError",
    "ValidationError",
    "InvalidActionError",
    "ExecutionError",
    "TimeoutError",
    "CancelledError",
    "InvalidAsyncRefError",
    "CompensationError",
    "ConfigError",
    "InternalError",
    "RemoteError",
}


def _isort_style(name: str) -> tuple[int, str]:
    """The order ruff (RUF022) keeps ``__all__`` in: CONSTANTS, then Classes, then the rest."""
    if name.isupper():
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (jido, JIDO_ALL),
        (jido.testing, TESTING_ALL),
        (jido.workflow, WORKFLOW_ALL),
        (jido.telemetry, TELEMETRY_ALL),
        (jido.engines, ENGINES_ALL),
        (jido.tools, TOOLS_ALL),
        (jido.mcp, MCP_ALL),
        (jido.adapters, ADAPTERS_ALL),
        (jido.adapters.pydantic_ai, PYDANTIC_AI_ALL),
        (jido.adapters.openai_agents, OPENAI_AGENTS_ALL),
        (jido.adapters.langchain, LANGCHAIN_ALL),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_all_is_pinned_sorted_and_importable(module: types.ModuleType, expected: list[str]) -> None:
    assert module.__all__ == expected
    assert sorted(module.__all__, key=_isort_style) == module.__all__
    for name in module.__all__:
        assert hasattr(module, name), name


def test_documented_core_names_are_exported() -> None:
    assert set(jido.__all__) >= DOCUMENTED_CORE
    assert {"no_backoff", "run_context", "call"} <= set(jido.testing.__all__)
    assert {"run", "arun", "run_async", "await_", "cancel"} <= set(jido.workflow.__all__)


def test_workflow_entry_points_are_the_same_functions() -> None:
    for name in ("run", "arun", "run_async", "await_", "cancel"):
        assert getattr(jido.workflow, name) is getattr(jido, name)


def test_star_import_matches_all() -> None:
    namespace: dict[str, object] = {}
    exec("from jido import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(jido.__all__)


def test_version() -> None:
    assert isinstance(jido.__version__, str)
