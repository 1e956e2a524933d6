"""Helpers shared by the adapter tests: golden files and a side effect that must stop.

Regenerate the golden files after an intended change with
``JIDO_UPDATE_GOLDEN=1 pytest tests/serving`` and review the diff of ``tests/golden/``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def check_golden(name: str, data: Any) -> None:
    path = GOLDEN / name
    plain = json.loads(json.dumps(data))
    if os.environ.get("JIDO_UPDATE_GOLDEN"):
        path.write_text(json.dumps(plain, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    assert path.exists(), f"missing golden file {path.name}; run with JIDO_UPDATE_GOLDEN=1"
    assert plain == json.loads(path.read_text())


async def wait_growing(path: Path, timeout: float = 30.0) -> None:
    """Until the ``spin`` action writing to ``path`` is running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size > 3:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the action never started")


def side_effect_stopped(path: Path, timeout: float = 5.0) -> bool:
    """True once ``spin`` wrote its stop stamp and ``path`` no longer grows."""
    stop = Path(f"{path}.stop")
    deadline = time.monotonic() + timeout
    while not stop.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not stop.exists():
        return False
    size = path.stat().st_size
    time.sleep(0.3)
    return path.stat().st_size == size
