"""Find and run the runnable code of a documentation page (used by tests/test_docs.py).

The convention (also in docs/CONTRIBUTING.md):

- ``<!-- runnable -->`` alone on the line before a fenced ``python`` block: the block is
  executed. An HTML comment is invisible on GitHub and on the site.
- A multi-line HTML comment opening with ``<!-- runnable`` (and closed by ``-->`` on a line
  of its own) holds Python code that is executed at that point but not shown: the
  definitions a visible block assumes (an action named ``fetch``, a ``url``), or
  assertions that check what a block's comments claim (``# -> {"value": 6}``).

The runnable code of one page runs in order, in one namespace (a module named
``docs_page``), in a fresh interpreter: ``python tests/docs_blocks.py PAGE``. Top-level
``await`` is allowed (such a block runs in its own event loop). The first failure is
reported with the page and the line, and the exit status is 1. A marker that is not
followed by a ``python`` block is an error.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

_MARKER = re.compile(r"^<!--\s*runnable\s*-->\s*$")
_HIDDEN_START = re.compile(r"^<!--\s*runnable\s*$")
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")


@dataclass(frozen=True)
class Block:
    """Runnable code found in a page: its first line (1-based) and its source."""

    page: Path
    line: int
    source: str


def name_of(page: Path) -> str:
    """How a page is named in messages: its path from the repository root if inside it."""
    return str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else str(page)


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def _closing(lines: list[str], start: int, fence: str) -> int | None:
    """The index of the line closing the fence opened at ``start`` (CommonMark's rule)."""
    for end in range(start + 1, len(lines)):
        line = lines[end].strip()
        if line and set(line) == {fence[0]} and len(line) >= len(fence):
            return end
    return None


def _fenced_body(lines: list[str], start: int, where: str) -> tuple[int, str]:
    """The body of the fenced ``python`` block opening at ``start`` and where it ends."""
    opening = _FENCE.match(lines[start].lstrip()) if start < len(lines) else None
    if opening is None or opening["lang"] not in ("python", "py"):
        raise ValueError(f"{where}: <!-- runnable --> must be followed by a ```python block")
    end = _closing(lines, start, opening["fence"])
    if end is None:
        raise ValueError(f"{where}: unclosed code block")
    indent = len(lines[start]) - len(lines[start].lstrip())
    return end, "\n".join(line[indent:] for line in lines[start + 1 : end])


def _hidden_body(lines: list[str], start: int, where: str) -> tuple[int, str]:
    """The code of a ``<!-- runnable`` ... ``-->`` comment opening at ``start``."""
    for end in range(start + 1, len(lines)):
        if lines[end].strip() == "-->":
            return end, "\n".join(lines[start + 1 : end])
    raise ValueError(f"{where}: unclosed <!-- runnable comment (end it with --> on a line)")


def blocks(page: Path) -> list[Block]:
    """The runnable code of ``page``, in order (visible blocks and hidden comments).

    Markers inside another code block (an example of the convention itself) are text.
    """
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        where = f"{name_of(page)}:{index + 1}"
        line = lines[index].strip()
        other = _FENCE.match(line)
        if _MARKER.match(line):
            end, source = _fenced_body(lines, index + 1, where)
            found.append(Block(page, index + 3, source))
            index = end
        elif _HIDDEN_START.match(line):
            end, source = _hidden_body(lines, index, where)
            found.append(Block(page, index + 2, source))
            index = end
        elif other is not None:  # any other code block: skip it whole
            index = _closing(lines, index, other["fence"]) or len(lines)
        index += 1
    return found


def execute(block: Block, namespace: dict[str, object]) -> None:
    """Run one block in ``namespace``; tracebacks point at the page's own lines."""
    name = name_of(block.page)
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
    module = types.ModuleType("docs_page", f"The runnable code of {name_of(page)}")
    sys.modules[module.__name__] = module  # so that pydantic and pickle can find its names
    namespace = vars(module)
    for block in blocks(page):
        try:
            execute(block, namespace)
        except BaseException:
            where = f"{name_of(block.page)}:{block.line}"
            print(f"{where}: the runnable block starting here failed", file=sys.stderr)
            traceback.print_exc()
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(run_page(Path(sys.argv[1]).resolve()))
