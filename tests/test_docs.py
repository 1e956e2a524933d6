"""The documentation cannot drift from the code.

- Every code block of ``README.md`` and ``docs/**/*.md`` marked as runnable is executed, page
  by page, each in a fresh interpreter with a timeout (the marker convention is described
  in ``tests/docs_blocks.py`` and ``docs/CONTRIBUTING.md``). Mark every block that can run
  on a plain machine; a block that needs something absent (a Ray cluster, the network, an
  LLM) stays unmarked.
- Every example in the package's docstrings is run as a doctest (the API reference is
  generated from them), and every public function has one.
- Every script in ``examples/`` runs.
- ``mkdocs build --strict`` succeeds: no broken link, anchor or API reference.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import os
import pkgutil
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import pytest

from docs_blocks import ROOT, Block, blocks, execute, name_of, pages

RUNNER = Path(__file__).resolve().parent / "docs_blocks.py"
EXAMPLES = ROOT / "examples"
PAGE_TIMEOUT = 120.0
NAMESPACES = [
    "jido",
    "jido.workflow",
    "jido.telemetry",
    "jido.testing",
    "jido.engines",
    "jido.tools",
    "jido.mcp",
    "jido.adapters.pydantic_ai",
    "jido.adapters.openai_agents",
    "jido.adapters.langchain",
]


# -- runnable blocks ------------------------------------------------------------------------------
RUNNABLE_PAGES = [page for page in pages() if blocks(page)]


def test_pages_have_runnable_blocks() -> None:
    names = {name_of(page) for page in RUNNABLE_PAGES}
    assert {"README.md", "docs/getting-started.md", "docs/workflows.md"} <= names


@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=name_of)
def test_runnable_blocks(page: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(page)],
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


def test_markers_inside_other_code_blocks_are_text(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "````markdown\n<!-- runnable -->\n```python\nraise SystemExit\n```\n````\n\n"
        "- a list item:\n\n  <!-- runnable -->\n  ```python\n  x = 1\n  ```\n",
        encoding="utf-8",
    )
    assert [(b.line, b.source) for b in blocks(page)] == [(12, "x = 1")]


def test_failure_names_the_page_and_line(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# t\n\n<!-- runnable -->\n```python\nx = 1\n```\n\n<!-- runnable\nassert x == 2\n-->\n",
        encoding="utf-8",
    )
    found = blocks(page)
    assert [(b.line, b.source) for b in found] == [(5, "x = 1"), (9, "assert x == 2")]
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(page)],
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
    execute(block, namespace)
    assert namespace["x"] == 1


# -- docstring examples ---------------------------------------------------------------------------
OPTIONAL = ("ray", "opentelemetry", "rich")  # extras a module may need (all in jido[test])


def _modules() -> list[types.ModuleType]:
    """Every module of the package, public and private (each docstring example once)."""
    import jido

    found = [jido]
    for info in pkgutil.walk_packages(jido.__path__, "jido."):
        if info.name == "jido.__main__":
            continue
        try:
            found.append(importlib.import_module(info.name))
        except ImportError as exc:
            if exc.name is None or exc.name.split(".")[0] not in OPTIONAL:
                raise
            if os.environ.get("CI") == "true":
                raise
    return found


def _doctests() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder()
    tests = [test for module in _modules() for test in finder.find(module) if test.examples]
    return sorted(tests, key=lambda test: test.name)


DOCTESTS = _doctests()


def _public() -> dict[str, object]:
    """Every public name of every public namespace, with the object it names."""
    found: dict[str, object] = {}
    for name in NAMESPACES:
        module = importlib.import_module(name)
        found.update({f"{name}.{member}": getattr(module, member) for member in module.__all__})
    return found


def test_public_functions_have_examples() -> None:
    """The API reference shows each public function with an example (house style)."""
    lacking = [
        name
        for name, obj in _public().items()
        if inspect.isfunction(obj) and ">>>" not in (inspect.getdoc(obj) or "")
    ]
    assert lacking == []


def test_public_classes_and_functions_have_docstrings() -> None:
    lacking = [
        name
        for name, obj in _public().items()
        if (inspect.isclass(obj) or inspect.isroutine(obj)) and not inspect.getdoc(obj)
    ]
    assert lacking == []
    assert len(DOCTESTS) > 40


@pytest.mark.parametrize("test", DOCTESTS, ids=lambda test: test.name)
def test_docstring_examples(test: doctest.DocTest) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)


# -- the API reference ----------------------------------------------------------------------------
def _directives() -> list[str]:
    """The identifiers of every ``::: identifier`` directive under docs/reference/."""
    return [
        line.removeprefix(":::").strip()
        for page in sorted((ROOT / "docs" / "reference").glob("*.md"))
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith(":::")
    ]


def _resolve(identifier: str) -> object:
    module_name, _, attribute = identifier.rpartition(".")
    try:
        return importlib.import_module(identifier)
    except ImportError:
        return getattr(importlib.import_module(module_name), attribute)


def test_reference_uses_public_names_only() -> None:
    private = [d for d in _directives() if any(part.startswith("_") for part in d.split("."))]
    assert private == []


def test_reference_renders_every_public_name_once() -> None:
    """Each object of every public ``__all__`` has exactly one directive (by any public name)."""
    rendered = [id(_resolve(identifier)) for identifier in _directives()]
    missing = [name for name, obj in _public().items() if id(obj) not in rendered]
    twice = [name for name, obj in _public().items() if rendered.count(id(obj)) > 1]
    assert missing == []
    assert twice == []


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
