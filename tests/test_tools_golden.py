"""Golden tool definitions per dialect: any change to what we emit shows up as a diff.

Regenerate after an intended change with ``JIDO_UPDATE_GOLDEN=1 pytest tests/test_tools_golden.py``
and review the diff of ``tests/golden/``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import jido.tools
from tool_models import CreateCategories, PlaceOrder

GOLDEN = Path(__file__).parent / "golden"
CASES = [
    (PlaceOrder, "openai", False),
    (PlaceOrder, "openai", True),
    (PlaceOrder, "anthropic", False),
    (PlaceOrder, "anthropic", True),
    (PlaceOrder, "gemini", False),
    (CreateCategories, "openai", False),
    (CreateCategories, "openai", True),
    (CreateCategories, "anthropic", False),
    (CreateCategories, "gemini", False),
]


def _name(action: Any, dialect: str, strict: bool) -> str:
    suffix = "_strict" if strict else ""
    return f"tool_{action.name}_{dialect}{suffix}.json"


@pytest.mark.parametrize(
    ("action", "dialect", "strict"), CASES, ids=[_name(*c)[5:-5] for c in CASES]
)
def test_tool_definition_matches_golden(action: Any, dialect: Any, strict: bool) -> None:
    tool = jido.tools.to_tool(action, dialect, strict=strict)
    path = GOLDEN / _name(action, dialect, strict)
    if os.environ.get("JIDO_UPDATE_GOLDEN"):
        path.write_text(json.dumps(tool, indent=2, sort_keys=True) + "\n")
    assert path.exists(), f"missing golden file {path.name}; run with JIDO_UPDATE_GOLDEN=1"
    assert tool == json.loads(path.read_text())
