"""The documentation cannot drift from the code.

- Every code block of ``README.md`` and ``docs/**/*.md`` marked as runnable is executed.
- Every example in the docstrings of the public namespaces (the API reference is
  generated from them) is run as a doctest.
- Every script in ``examples/`` runs.
- ``mkdocs build --strict`` succeeds: no broken link, anchor or API reference.

Marking a block as runnable (the same convention is described in docs/CONTRIBUTING.md):

- ``<!-- runnable -->`` alone on the line before a fenced ``python`` block: the block is
  executed. An HTML comment is invisible on GitHub and on the site.
- A multi-line HTML comment opening with ``<!-- runnable`` holds Python code that is
  executed at that point but not shown: the definitions a visible block assumes (an
  action named ``fetch``, a ``url``), or assertions that check what a block's comments
  claim (``# -> {"value": 6}``).

The runnable code of one page runs in order, in one namespace, in a fresh interpreter (so
pages cannot leak into each other) with a timeout; top-level ``await`` is allowed (such a
block runs in its own event loop). A failure names the page and the line. Mark every
block that can run on a plain machine; a block that needs something absent (a Ray
cluster, the network, an LLM) stays unmarked. A marker that is not followed by a
``python`` block is an error.
"""

from __future__ import annotations

import ast
import asyncio
import doctest
import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
PAGE_TIMEOUT = 120.0
NAMESPACES = ["jido", "jido.workflow", "jido.telemetry", "jido.testing", "jido.engines", "jido.tools"]

_MARKER = re.compile(r"^<!--\s*runnable\s*-->\s*$")
_HIDDEN_START = re.compile(r"^<!--\s*runnable\s*$")
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")


@dataclass(frozen=True)
class Block:
    """Runnable code found in a page: its first line (1-based) and its source."""

    page: Path
    line: int
    source: str


def _name(page: Path) -> str:
    """How a page is named in messages: its path from the repository root if inside it."""
    return str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else str(page)


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def _fenced_body(lines: list[str], start: int, where: str) -> tuple[int, str]:
    """The body of the fenced ``python`` block opening at ``start`` and where it ends."""
    opening = _FENCE.match(lines[start]) if start < len(lines) else None
    if opening is None or opening["lang"] not in ("python", "py"):
        raise ValueError(f"{where}: <!-- runnable --> must be followed by a ```python block")
    fence = opening["fence"]
    for end in range(start + 1, len(lines)):
        if lines[end].strip() == fence:
            return end, "\n".join(lines[start + 1 : end])
    raise ValueError(f"{where}: unclosed code block")


def _hidden_body(lines: list[str], start: int, where: str) -> tuple[int, str]:
    """The code of a ``<!-- runnable`` ... ``-->`` comment opening at ``start``."""
    for end in range(start + 1, len(lines)):
        if lines[end].strip() == "-->":
            return end, "\n".join(lines[start + 1 : end])
    raise ValueError(f"{where}: unclosed <!-- runnable comment (end it with --> on a line)")


def blocks(page: Path) -> list[Block]:
    """The runnable code of ``page``, in order (visible blocks and hidden comments)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        where = f"{_name(page)}:{index + 1}"
        if _MARKER.match(lines[index]):
            end, source = _fenced_body(lines, index + 1, where)
            found.append(Block(page, index + 3, source))
            index = end
        elif _HIDDEN_START.match(lines[index]):
            end, source = _hidden_body(lines, index, where)
            found.append(Block(page, index + 2, source))
            index = end
        index += 1
    return found


def _execute(block: Block, namespace: dict[str, object]) -> None:
    """Run one block in ``namespace``; tracebacks point at the page's own lines."""
    name = _name(block.page)
    padded = "\n" * (block.line - 1) + block.source
    code = compile(padded, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    if code.co_flags & inspect.CO_COROUTINE:

        async def main() -> None:
            await types.FunctionType(code, namespace)()

        asyncio.run(main())
    else:
        exec(code, namespace)


def run_page(page: Path) -> int:
    """Execute ``page``'s runnable code in order; report the first failure. Exit code."""
    module = types.ModuleType("docs_page", f"The runnable code of {_name(page)}")
    sys.modules[module.__name__] = module  # so that pydantic and pickle can find its names
    namespace = vars(module)
    for block in blocks(page):
        try:
            _execute(block, namespace)
        except BaseException:
            where = f"{_name(block.page)}:{block.line}"
            print(f"{where}: the runnable block starting here failed", file=sys.stderr)
            traceback.print_exc()
            return 1
    return 0


# -- runnable blocks ------------------------------------------------------------------------------
RUNNABLE_PAGES = [page for page in pages() if blocks(page)]


def test_pages_have_runnable_blocks() -> None:
    names = {_name(page) for page in RUNNABLE_PAGES}
    assert {"README.md", "docs/getting-started.md", "docs/workflows.md"} <= names


@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=_name)
def test_runnable_blocks(page: Path) -> None:
    done = subprocess.run(
        [sys.executable, __file__, str(page)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout


def test_marker_must_precede_a_python_block(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    cases = {
        "<!-- runnable -->\n\n```python\nx = 1\n```\n": "must be followed",
        "<!-- runnable -->\n```sh\nls\n```\n": "must be followed",
        "<!-- runnable -->\n```python\nx = 1\n": "unclosed code block",
        "<!-- runnable\nx = 1\n": "unclosed <!-- runnable",
    }
    for text, message in cases.items():
        page.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            blocks(page)


def test_failure_names_the_page_and_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# t\n\n<!-- runnable -->\n```python\nx = 1\n```\n\n<!-- runnable\nassert x == 2\n-->\n",
        encoding="utf-8",
    )
    found = blocks(page)
    assert [(b.line, b.source) for b in found] == [(5, "x = 1"), (9, "assert x == 2")]
    done = subprocess.run(
        [sys.executable, __file__, str(page)],
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT,
        check=False,
    )
    assert done.returncode == 1
    name = str(page)
    assert f"{name}:9: the runnable block starting here failed" in done.stderr
    assert f'File "{name}", line 9' in done.stderr


def test_top_level_await_runs_in_an_event_loop() -> None:
    namespace: dict[str, object] = {}
    block = Block(ROOT / "README.md", 1, "import asyncio\nawait asyncio.sleep(0)\nx = 1")
    _execute(block, namespace)
    assert namespace["x"] == 1


# -- docstring examples ---------------------------------------------------------------------------
def _public_objects() -> dict[str, object]:
    """Each public module and object once, by its first public name."""
    found: dict[int, tuple[str, object]] = {}
    for name in NAMESPACES:
        module = importlib.import_module(name)
        found.setdefault(id(module), (name, module))
        for member in module.__all__:
            obj = getattr(module, member)
            found.setdefault(id(obj), (f"{name}.{member}", obj))
    return dict(found.values())


def _doctests() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder()
    tests: list[doctest.DocTest] = []
    for name, obj in _public_objects().items():
        if isinstance(obj, types.ModuleType):
            found = finder.find(obj, name, module=False, globs=vars(obj).copy())[:1]
        elif inspect.isclass(obj) or inspect.isroutine(obj):
            module = inspect.getmodule(obj)
            found = finder.find(obj, name, module=module, globs=vars(module).copy())
        else:
            continue
        tests.extend(test for test in found if test.examples)
    return sorted(tests, key=lambda test: test.name)


DOCTESTS = _doctests()


def test_public_docstrings_have_examples() -> None:
    assert len(DOCTESTS) > 30
    names = {test.name for test in DOCTESTS}
    assert {"jido.run", "jido.Plan", "jido.telemetry.attached", "jido.tools.to_tool"} <= names


@pytest.mark.parametrize("test", DOCTESTS, ids=lambda test: test.name)
def test_docstring_examples(test: doctest.DocTest) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)


# -- examples/ ------------------------------------------------------------------------------------
@pytest.mark.parametrize("script", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_example_runs(script: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout


# -- the site -------------------------------------------------------------------------------------
def _mkdocs() -> list[str]:
    """The command that runs mkdocs, or a loud skip (a failure in CI) if it is missing."""
    try:
        importlib.import_module("mkdocs")
        importlib.import_module("mkdocstrings_handlers.python")
        importlib.import_module("material")
    except ImportError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f'mkdocs is required in CI (pip install -e ".[docs]"): {exc}')
        pytest.skip(f'SKIPPED: the site was not built, pip install -e ".[docs]" ({exc})')
    return [sys.executable, "-m", "mkdocs"]


@pytest.mark.slow
def test_site_builds_strict() -> None:
    command = _mkdocs()
    site = tempfile.mkdtemp(prefix="jido-site-")
    try:
        done = subprocess.run(
            [*command, "build", "--strict", "--site-dir", site],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        )
        assert done.returncode == 0, done.stderr
        assert (Path(site) / "reference" / "jido" / "index.html").exists()
    finally:
        shutil.rmtree(site, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(run_page(Path(sys.argv[1]).resolve()))
