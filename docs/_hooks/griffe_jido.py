"""Griffe extension: render jido's docstrings with mkdocstrings.

jido's docstrings are written for ``help()`` and for the site alike: Google style, with
Sphinx-style cross-reference roles (:func:`jido.run`, :class:`~jido.AsyncRef`) and
``Example:`` sections. This extension, loaded by ``mkdocs.yml``, turns each role into
an autorefs link (so ``mkdocs build --strict`` fails on a reference to a name that is not
documented) and each ``Example:`` heading into ``Examples:``, which mkdocstrings renders
as highlighted code. The source docstrings stay readable in a terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import griffe

_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|exc|obj):`(?P<tilde>~?)(?P<name>[^`]+)`")
_EXAMPLE = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", re.MULTILINE)


def _target(obj: griffe.Object | griffe.Alias, name: str) -> str:
    """The full path that ``name`` means in ``obj``'s scope (as written if unresolved)."""
    name = name.removesuffix("()")
    if name.startswith("jido."):
        return name
    first, _, rest = name.partition(".")
    try:
        resolved = obj.resolve(first)
    except griffe.NameResolutionError:
        return name
    return f"{resolved}.{rest}" if rest else resolved


def convert(text: str, obj: griffe.Object | griffe.Alias) -> str:
    """Rewrite the roles and ``Example:`` headings of one docstring."""

    def link(match: re.Match[str]) -> str:
        name = match["name"]
        shown = name.rsplit(".", 1)[-1] if match["tilde"] else name
        return f"[`{shown}`][{_target(obj, name)}]"

    return _EXAMPLE.sub(r"\g<indent>Examples:", _ROLE.sub(link, text))


def _walk(obj: griffe.Object) -> Iterator[griffe.Object]:
    """``obj`` and every object defined in it (not what it merely imports)."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)  # type: ignore[arg-type]


class JidoDocstrings(griffe.Extension):
    """Convert every docstring of the package once it is fully loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = convert(obj.docstring.value, obj)
