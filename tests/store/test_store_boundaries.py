"""The store package imports only public jido names, and psycopg only for a Postgres store."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import jido._store

PACKAGE = Path(jido._store.__file__).parent


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.extend(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.extend(a.name for a in node.names)
    return found


def test_only_the_vocabulary_below_the_store_is_imported() -> None:
    """The store knows nothing of actions, drivers, engines or runtimes (errors, redaction)."""
    allowed = ("jido._store", "jido._core", "jido._observe")
    for path in sorted(PACKAGE.glob("*.py")):
        for name in _imports(path):
            if name.startswith("jido"):
                assert name.startswith(allowed), f"{path.name} imports {name}"


def test_psycopg_is_imported_only_by_the_postgres_backend() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name == "postgres.py":
            continue
        assert not any(n.startswith("psycopg") for n in _imports(path)), path.name
    code = (
        "import sys, jido._store as s; st = s.open_store('sqlite:///:memory:'); st.close();"
        "assert not [m for m in sys.modules if m.startswith('psycopg')], 'psycopg imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_modules_stay_small() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        assert len(path.read_text().splitlines()) < 500, path.name
