"""The tree shows the design: private folders import downward only, and stay small.

Reads every module's imports (function-level ones included; imports made only for type
checking excluded) and checks them against the layer order below, so a change that
makes a lower folder import a higher one, or a folder cycle, fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "jido"

LAYERS = [
    "_core",
    "_observe",
    "_action",
    "_store",
    "_run",
    "_engines",
    "_durable",
    "_runtime",
    "_workflow",
    "_tools",
    "_mcp",
    "_adapters",
    "_web",
    "_cli",
]
"""Private folders from the bottom up: each may import only folders listed before it."""

MAX_LINES = 500


def _folder(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "jido":
        return None
    return parts[1] if parts[1].startswith("_") else None


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if _folder_of_path(p) is not None)


def _folder_of_path(path: Path) -> str | None:
    rel = path.relative_to(SRC).parts
    return rel[0] if len(rel) > 1 and rel[0].startswith("_") else None


def test_every_private_folder_has_a_place_in_the_layer_order() -> None:
    folders = {p.name for p in SRC.iterdir() if p.is_dir() and p.name.startswith("_")}
    folders.discard("__pycache__")
    assert folders <= set(LAYERS), f"add {sorted(folders - set(LAYERS))} to LAYERS"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_a_module_imports_only_its_own_folder_and_lower_ones(path: Path) -> None:
    home = _folder_of_path(path)
    assert home is not None
    rank = LAYERS.index(home)
    tree = ast.parse(path.read_text(), str(path))
    wrong = []
    for line, module in _imports(tree):
        target = _folder(module)
        if target is None or target == home:
            continue
        if target not in LAYERS or LAYERS.index(target) > rank:
            wrong.append(f"line {line}: {module}")
    assert not wrong, f"{path.relative_to(SRC)} imports upward: {wrong}"


def test_private_folders_form_no_cycle() -> None:
    edges: dict[str, set[str]] = {}
    for path in _modules():
        home = _folder_of_path(path)
        assert home is not None
        for _, module in _imports(ast.parse(path.read_text())):
            target = _folder(module)
            if target is not None and target != home:
                edges.setdefault(home, set()).add(target)
    seen: set[str] = set()
    stack: list[str] = []

    def visit(node: str) -> None:
        if node in stack:
            raise AssertionError(f"import cycle: {' -> '.join([*stack, node])}")
        if node in seen:
            return
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for folder in sorted(edges):
        visit(folder)


def test_every_private_package_says_what_it_owns() -> None:
    for init in SRC.rglob("__init__.py"):
        if init.parent == SRC:
            continue
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc, f"{init.relative_to(SRC)} needs a docstring"
        assert len(doc) > 40, f"{init.relative_to(SRC)}: say what the package owns"


def test_no_module_over_the_size_limit() -> None:
    big = {
        str(p.relative_to(SRC)): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not big, f"modules over {MAX_LINES} lines: {big}"
