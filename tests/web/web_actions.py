"""Actions run by the web view's end-to-end test (importable by reference, in any process)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jido


@jido.action
def spin(path: str) -> dict[str, Any]:
    """Burn CPU forever, writing how far it got to ``path`` (its visible side effect)."""
    count = 0
    while True:
        for _ in range(20_000):
            count += 1
        Path(f"{path}.tmp").write_text(str(count))
        os.replace(f"{path}.tmp", path)  # a reader never sees a half-written count


@jido.action
def fails_once(marker: str) -> dict[str, Any]:
    """Fail the first time (leaving ``marker``), succeed after."""
    seen = Path(marker)
    if not seen.exists():
        seen.write_text("1")
        raise jido.ExecutionError("first time fails")
    return {"second": True}
