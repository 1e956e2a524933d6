"""The web view's docstring examples and its example script keep working."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from jido._store import open_store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "web_view.py"


@pytest.mark.parametrize(
    "name",
    [
        "jido._web.query",
        "jido._web.present",
        "jido._web.security",
        "jido._web.app",
        "jido._web.server",
    ],
)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0


def test_the_example_records_runs_and_prints_the_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), url, "--live", "1.2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"jido web --store {url}" in done.stdout
    store = open_store(url)
    try:
        counts = store.counts()
        assert counts["needs_attention"] == 1
        assert counts["retrying"] == 1
        assert counts["failed"] == 1
        assert sum(counts.values()) >= 10  # the 9 example runs and the live ones
    finally:
        store.close()
