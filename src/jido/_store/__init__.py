"""The durable run store: where durable runs, their attempts and their outcomes are kept.

This package owns the journal's data model (:mod:`.records`), its JSON codec
(:mod:`.codec`), store URLs (:mod:`.url`), the versioned schema (:mod:`.schema`) and the
two backends behind one :class:`~jido._store.base.Store` interface: SQLite through the
standard library (:mod:`.sqlite`) and Postgres through psycopg 3 (:mod:`.postgres`, the
``jido[postgres]`` extra, imported only when a ``postgresql://`` store is opened). It
knows nothing of actions, engines or runtimes: it may import the standard library, the
public ``jido`` names (errors), and psycopg; nothing else from jido.
"""

from __future__ import annotations

from jido._store.base import Store
from jido._store.open import open_store
from jido._store.records import (
    ACTIVE,
    SINGLE_STEP,
    STATUSES,
    TERMINAL,
    UNFINISHED,
    AttemptRow,
    ChangePage,
    Durability,
    NewRun,
    RunHistory,
    RunPage,
    RunRow,
    StepRow,
)
from jido._store.url import StoreURL, parse_store_url, resolve_store_url

__all__ = [
    "ACTIVE",
    "SINGLE_STEP",
    "STATUSES",
    "TERMINAL",
    "UNFINISHED",
    "AttemptRow",
    "ChangePage",
    "Durability",
    "NewRun",
    "RunHistory",
    "RunPage",
    "RunRow",
    "StepRow",
    "Store",
    "StoreURL",
    "open_store",
    "parse_store_url",
    "resolve_store_url",
]
