"""How a runtime gets its store (explicit, ``jido.configure``, ``JIDO_STORE``) and base context.

The durable machinery itself (``jido._durable``) is imported only when a store is given,
so a runtime without one pays nothing for it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from typing import Any

from jido._core.errors import ConfigError, ValidationError
from jido._core.normalize import normalize_context
from jido._core.options import UNSET
from jido._runtime.config import SETTINGS

__all__ = ["check_context", "check_run_id", "open_durable", "provided_context", "store_url"]

_MAX_ID = 255

BaseContext = Mapping[Any, Any] | Callable[[], Mapping[Any, Any]]
"""A runtime's base context: values, or a function returning them (called per run)."""


def store_url(store: object) -> str | None:
    """The store URL a runtime uses: ``store``, else the configured one, else ``JIDO_STORE``."""
    if store is UNSET:
        store = SETTINGS.store if SETTINGS.store is not UNSET else os.environ.get("JIDO_STORE")
    if store is None or store == "":
        return None
    if not isinstance(store, str):
        raise ConfigError(f"store must be a store URL string or None, got {type(store).__name__}")
    return store


def open_durable(runtime: Any, store: object, durability: object, lease: object) -> Any:
    """The runtime's durable side, or None without a store."""
    url = store_url(store)
    if durability not in ("process", "power"):
        raise ConfigError(f"durability must be 'process' or 'power', got {durability!r}")
    if (
        isinstance(lease, bool)
        or not isinstance(lease, int | float)
        or not math.isfinite(lease)
        or not 0.5 <= lease <= 86_400
    ):
        raise ConfigError(f"lease must be between 0.5 and 86400 seconds, got {lease!r}")
    if url is None:
        return None
    from jido._durable.manager import Durable

    return Durable(runtime, url, durability, float(lease))


def check_context(context: object) -> BaseContext | None:
    """A runtime's base context: a mapping, a function returning one, or None."""
    if context is None or callable(context):
        return context
    try:
        return normalize_context(context)
    except ValidationError as exc:
        raise ConfigError(
            f"context must be a mapping or a function returning one, got {type(context).__name__}"
        ) from exc


def provided_context(
    context: Mapping[Any, Any] | Callable[[], Mapping[Any, Any]],
) -> dict[Any, Any]:
    """The values a runtime adds to a run's context (a factory is called once per run)."""
    if not callable(context):
        return dict(context)
    try:
        values = context()
    except Exception as exc:
        raise ConfigError(
            f"the runtime's context factory failed: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        return normalize_context(values)
    except ValidationError as exc:
        raise ConfigError(
            f"the runtime's context factory must return a mapping, got {type(values).__name__}"
        ) from exc


def check_run_id(run_id: object) -> str:
    """``run_id`` if it is a string of 1 to 255 characters, else a ConfigError."""
    if not isinstance(run_id, str) or not run_id or len(run_id) > _MAX_ID:
        raise ConfigError(
            f"run_id must be a string of 1 to {_MAX_ID} characters, got "
            f"{type(run_id).__name__}"
            + (f" of length {len(run_id)}" if isinstance(run_id, str) else ""),
            details={"option": "run_id"},
        )
    return run_id
