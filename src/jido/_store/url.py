"""Store URLs: ``sqlite:///relative.db``, ``sqlite:////absolute.db``, ``postgresql://...``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from jido._core.errors import ConfigError

__all__ = ["DEFAULT_STORE", "ENV_VAR", "StoreURL", "parse_store_url", "resolve_store_url"]

ENV_VAR = "JIDO_STORE"
DEFAULT_STORE = "sqlite:///.jido/runs.db"
"""The store of ``jido runs`` and ``jido web`` when neither ``--store`` nor ``JIDO_STORE`` says."""
_FORMS = "sqlite:///relative/path.db, sqlite:////absolute/path.db or postgresql://user@host/db"


@dataclass(frozen=True, slots=True)
class StoreURL:
    """A parsed store URL.

    Attributes:
        dialect: ``"sqlite"`` or ``"postgresql"``.
        url: the URL as given (for Postgres, what is handed to the driver).
        path: the database file for SQLite (``":memory:"`` for a private in-memory store);
            ``None`` for Postgres.
    """

    dialect: Literal["sqlite", "postgresql"]
    url: str
    path: str | None = None

    def __str__(self) -> str:
        return self.redacted()

    def redacted(self) -> str:
        """The URL with any password replaced by ``***`` (safe to log or show)."""
        if self.dialect == "sqlite":
            return self.url
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()


def parse_store_url(url: str) -> StoreURL:
    """Parse a store URL, or raise a one-line :class:`jido.ConfigError`.

    Example:
        >>> parse_store_url("sqlite:///runs.db").path
        'runs.db'
        >>> parse_store_url("sqlite:////var/lib/jido/runs.db").path
        '/var/lib/jido/runs.db'
        >>> parse_store_url("postgres://app@db:5432/jido").dialect
        'postgresql'
    """
    if not isinstance(url, str):
        raise ConfigError(f"a store URL must be a string ({_FORMS}), got {type(url).__name__}")
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or "\x00" in url:
        raise ConfigError(f"not a store URL: {url!r} (expected {_FORMS})")
    if scheme == "sqlite":
        return _parse_sqlite(url, rest)
    if scheme in ("postgresql", "postgres"):
        return _parse_postgres(url)
    raise ConfigError(f"unsupported store URL scheme {scheme!r} in {url!r} (expected {_FORMS})")


def _parse_sqlite(url: str, rest: str) -> StoreURL:
    if not rest.startswith("/"):
        raise ConfigError(
            f"a SQLite store URL has no host: {url!r} (use sqlite:///relative/path.db "
            "or sqlite:////absolute/path.db)"
        )
    path = rest[1:]
    if not path or path.endswith("/") or "?" in path or "#" in path:
        raise ConfigError(f"a SQLite store URL needs a file path and no query: {url!r}")
    return StoreURL("sqlite", url, path)


def _parse_postgres(url: str) -> StoreURL:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        raise ConfigError(f"malformed Postgres store URL {url!r}: {exc}") from None
    if parts.fragment:
        raise ConfigError(f"a Postgres store URL has no #fragment: {url!r}")
    return StoreURL("postgresql", url, None)


def resolve_store_url(
    explicit: str | None, environ: Mapping[str, str] | None = None
) -> StoreURL | None:
    """The store to use: ``explicit`` if given, else ``$JIDO_STORE`` if set, else ``None``.

    Example:
        >>> resolve_store_url(None, {"JIDO_STORE": "sqlite:///runs.db"}).path
        'runs.db'
        >>> resolve_store_url(None, {}) is None
        True
    """
    if explicit is not None:
        return parse_store_url(explicit)
    value = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if not value:
        return None
    try:
        return parse_store_url(value)
    except ConfigError as exc:
        raise ConfigError(f"${ENV_VAR}: {exc.message}") from None
