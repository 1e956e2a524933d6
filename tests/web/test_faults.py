"""Faults: a store that fails for a while does not end live updates, and says so once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import httpx
import journal as j
import pytest
from sse import Event, Stream, runs_in
from webtest import Server

import jido
from jido._store import Store


class Flaky:
    """A real store whose change feed and counts fail while ``failing`` is set."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.failing = threading.Event()
        self.failures = 0

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.store, name)
        if name not in ("changes", "counts"):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.failing.is_set():
                self.failures += 1
                raise jido.InternalError("the store is unreachable")
            return found(*args, **kwargs)

        return call


def test_live_updates_survive_a_store_outage_and_it_is_logged_once(
    sqlite_store: Store,
    serve: Callable[..., Server],
    client: Callable[..., httpx.Client],
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = Flaky(sqlite_store)
    c = client(serve(flaky).url)  # type: ignore[arg-type]
    feed = c.get("/api/runs").json()["feed"]
    stream = Stream(c, f"/api/events?after={feed}")
    try:
        with caplog.at_level(logging.ERROR, logger="jido.web"):
            flaky.failing.set()
            j.start(sqlite_store, "during")
            assert j.wait_until(lambda: flaky.failures >= 3, timeout=10)
            flaky.failing.clear()

            def seen(events: list[Event]) -> bool:
                return any(r["id"] == "during" for r in runs_in(events))

            stream.collect(seen, timeout=10)
        logged = [r for r in caplog.records if "reading the store failed" in r.getMessage()]
        assert 1 <= len(logged) <= 2  # once per failing task (the feed, the counts)
        assert c.get("/api/runs").status_code == 200
    finally:
        stream.close()
