"""``open_store``: a store URL to an open :class:`~jido._store.base.Store`."""

from __future__ import annotations

from jido._core.errors import ConfigError
from jido._store.base import Store
from jido._store.records import Durability
from jido._store.url import StoreURL, parse_store_url

__all__ = ["open_store"]


def open_store(url: str | StoreURL, durability: Durability = "process") -> Store:
    """Open (creating or migrating its schema as needed) the store at ``url``.

    Args:
        url: ``sqlite:///relative.db``, ``sqlite:////absolute.db`` or ``postgresql://...``.
        durability: ``"process"`` (a commit survives a crash of the process) or
            ``"power"`` (a commit survives a power loss: an fsync per commit).

    Raises:
        jido.ConfigError: a bad URL or durability, a store written by a newer jido, a
            database that is not a jido store, or ``jido[postgres]`` not installed.

    Example:
        >>> store = open_store("sqlite:///:memory:")
        >>> store.counts()["running"]
        0
        >>> store.close()
    """
    parsed = url if isinstance(url, StoreURL) else parse_store_url(url)
    if durability not in ("process", "power"):
        raise ConfigError(f"durability must be 'process' or 'power', got {durability!r}")
    if parsed.dialect == "sqlite":
        from jido._store.sqlite import SQLiteStore

        return SQLiteStore(parsed, durability)
    try:
        from jido._store.postgres import PostgresStore
    except ImportError as exc:
        raise ConfigError(
            f'a Postgres store needs psycopg: pip install "jido[postgres]" ({exc})'
        ) from None
    return PostgresStore(parsed, durability)
