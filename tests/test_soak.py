"""The reliability soak's quick mode runs clean (benchmarks/soak.py --quick)."""

from __future__ import annotations

import subprocess
import sys

from support import TESTS

SOAK = TESTS.parent / "benchmarks" / "soak.py"


def test_the_quick_soak_loses_hangs_and_leaks_nothing() -> None:
    proc = subprocess.run(
        [sys.executable, str(SOAK), "--quick"],
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nothing lost, hung or leaked" in proc.stdout
    for phase in ("mixed", "threads", "leaks", "cancels"):
        assert f"\n{phase}" in "\n" + proc.stdout, proc.stdout
