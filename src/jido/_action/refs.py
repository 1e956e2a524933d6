"""Actions by reference: ``"package.module:qualname"``, how they travel to other processes."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["reference_of", "resolve"]


def resolve(reference: str) -> Any:
    """The object ``"package.module:qualname"`` names (imported if needed)."""
    module, _, qualname = reference.partition(":")
    if not module or not qualname:
        raise ValueError(f"expected 'module:qualname', got {reference!r}")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def reference_of(target: object) -> str | None:
    """``"module:qualname"`` when that names ``target`` in a fresh process, else None.

    Objects defined in ``__main__`` or inside a function cannot be imported by name.
    """
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None)
    if not (isinstance(module, str) and isinstance(qualname, str)):
        return None
    if module == "__main__" or "<locals>" in qualname:
        return None
    reference = f"{module}:{qualname}"
    try:
        found = resolve(reference)
    except Exception:  # not importable by that name
        return None
    return reference if found is target else None
