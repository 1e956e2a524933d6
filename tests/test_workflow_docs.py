"""The examples in the workflow docstrings and ``examples/`` keep working."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

MODULES = [
    "jido._workflow.instruction",
    "jido._workflow.chain",
    "jido._workflow.plan",
    "jido._workflow.plan_run",
    "jido._workflow.closure",
    "jido._workflow.dag",
    "jido._tools.convert",
]
EXAMPLES = Path(__file__).parent.parent / "examples"
WORKFLOW_EXAMPLES = ["chain", "closure", "instructions", "plan", "saga", "tools"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("name", WORKFLOW_EXAMPLES)
def test_example_runs(name: str) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout
