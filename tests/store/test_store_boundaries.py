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


def test_only_public_jido_names_are_imported() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        for name in _imports(path):
            if not name.startswith("jido"):
                continue
            if name.startswith("jido._store."):
                continue
            parts = name.split(".")
            assert len(parts) <= 2, f"{path.name} imports {name}"
            assert not parts[-1].startswith("_") or name == "jido", f"{path.name}: {name}"


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
