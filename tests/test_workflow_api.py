"""The public workflow and tools namespaces: removing a name is a deliberate act."""

from __future__ import annotations

import jido
import jido.tools
import jido.workflow


def test_workflow_namespace() -> None:
    assert jido.workflow.__all__ == [
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
    for name in jido.workflow.__all__:
        assert getattr(jido.workflow, name) is not None


def test_tools_namespace() -> None:
    assert jido.tools.__all__ == [
        "DIALECTS",
        "GEMINI_RECURSION_DEPTH",
        "Dialect",
        "aexecute_tool",
        "execute_tool",
        "parameters_schema",
        "to_tool",
    ]
    assert jido.tools.DIALECTS == ("openai", "anthropic", "gemini")


def test_the_most_used_workflow_names_are_at_the_top_level() -> None:
    assert jido.chain is jido.workflow.chain
    assert jido.Plan is jido.workflow.Plan
    assert jido.Instruction is jido.workflow.Instruction
    assert {"Instruction", "Plan", "chain"} <= set(jido.__all__)


def test_the_seed_entry_points_are_still_there() -> None:
    assert jido.workflow.run is jido.run
    assert jido.workflow.await_ is jido.await_
