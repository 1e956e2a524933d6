"""The workflow and tools namespaces as users reach them (their names are pinned in
test_public_api.py)."""

from __future__ import annotations

import jido
import jido.tools
import jido.workflow


def test_tools_dialects() -> None:
    assert jido.tools.DIALECTS == ("openai", "anthropic", "gemini")


def test_the_most_used_workflow_names_are_at_the_top_level() -> None:
    assert jido.chain is jido.workflow.chain
    assert jido.Plan is jido.workflow.Plan
    assert jido.Instruction is jido.workflow.Instruction
    assert {"Instruction", "Plan", "chain"} <= set(jido.__all__)


def test_the_seed_entry_points_are_still_there() -> None:
    assert jido.workflow.run is jido.run
    assert jido.workflow.await_ is jido.await_
