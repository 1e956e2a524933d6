"""``examples/durable.py`` runs: a chain killed mid-way is recovered by another process.

The example asserts its own claims (completed steps ran once, the running one ran again);
this test runs it as CI would and checks what it printed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "durable.py"


def test_durable_example_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "exit status -9" in done.stdout
    assert "order-42/2 ran in process(es) " in done.stdout
    assert "steps 0 and 1 were not run again" in done.stdout
