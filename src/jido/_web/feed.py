"""Live updates: one poller of the store's change feed per web process, fanned out as SSE.

The :class:`Hub` reads :meth:`Store.changes` every ``interval`` seconds and keeps the last
pages it read (bounded by their number of runs). A client's stream follows the hub when
its position is one the hub has read from; otherwise (a client reconnecting with the
``Last-Event-ID`` of an older event, or one ahead of the hub) it reads the store itself
from its own position until it meets the hub again. Each event's id is the change-feed
cursor after it, so a reconnecting client resumes exactly where it stopped: no run change
is lost or sent twice. Run counts per status are read in the background after changes,
never on a request, at most as often as they are cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from anyio import to_thread

from jido._store import UNFINISHED, ChangePage, Store
from jido._store.records import Status
from jido._web.present import detail, summary

__all__ = ["Hub", "dumps", "run_events", "runs_events"]

_log = logging.getLogger("jido.web")
KEEPALIVE = 15.0
PAGE = 500
MAX_KEPT = 5000
"""Runs kept in the hub's recent pages (bounds its memory whatever the store holds)."""


def dumps(value: Any) -> str:
    """Compact JSON (the API's and the events' encoding)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class _Page:
    version: int
    after: str
    cursor: str
    ids: frozenset[str]
    event: str


def _render(after: str, page: ChangePage, version: int) -> _Page:
    data = dumps([summary(r) for r in page.items])
    event = f"id: {page.cursor}\nevent: runs\ndata: {data}\n\n"
    ids = frozenset(r.run_id for r in page.items)
    return _Page(version, after, page.cursor, ids, event)


class Hub:
    """The change-feed poller and run counter shared by every stream of one app."""

    def __init__(
        self,
        store: Store,
        *,
        interval: float = 0.05,
        counter: Callable[[], Mapping[Status, int]] | None = None,
    ) -> None:
        self.store = store
        self.interval = interval
        self._counter = counter or store.counts
        self.head = ""
        self.version = 0
        self.counts: dict[str, int] | None = None
        self.counts_version = 0
        self.closed = False
        self._pages: OrderedDict[str, _Page] = OrderedDict()
        self._kept = 0
        self._wake = asyncio.Event()
        self._dirty = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Read the feed's current position and start polling."""
        self.head = await to_thread.run_sync(self.store.change_cursor)
        self._dirty.set()
        self._tasks = [
            asyncio.create_task(self._supervise(self._poll_once, self.interval)),
            asyncio.create_task(self._supervise(self._count_once, 0.0)),
        ]

    async def stop(self) -> None:
        """Stop polling and end every stream."""
        self.closed = True
        self._notify()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def page_after(self, cursor: str) -> _Page | None:
        """The page the hub read right after ``cursor``, if it still has it."""
        return self._pages.get(cursor)

    def touched(self, run_id: str, since_version: int) -> bool:
        """Whether a page read after ``since_version`` changed ``run_id``."""
        return any(p.version > since_version and run_id in p.ids for p in self._pages.values())

    async def wait(self, version: int, timeout: float) -> None:
        """Return once the hub has news after ``version`` (or is closed), or after ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.version == version and not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            wake = self._wake
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), left)

    def _notify(self) -> None:
        self.version += 1
        wake, self._wake = self._wake, asyncio.Event()
        wake.set()

    async def _supervise(self, step: Callable[[], Any], pause: float) -> None:
        """Run ``step`` forever; a failure is logged (once a minute while it repeats)."""
        said, said_at = "", 0.0
        while not self.closed:
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a store hiccup must not end live updates
                now = time.monotonic()
                if repr(exc) != said or now - said_at >= 60.0:
                    said, said_at = repr(exc), now
                    _log.error("jido web: reading the store failed; trying again every second",
                               exc_info=True)  # fmt: skip
                await asyncio.sleep(1.0)
            else:
                said = ""
                await asyncio.sleep(pause)

    async def _poll_once(self) -> None:
        while True:
            page = await to_thread.run_sync(lambda: self.store.changes(self.head, limit=PAGE))
            if not page.items:
                return
            self._keep(_render(self.head, page, self.version + 1))
            self.head = page.cursor
            self._dirty.set()
            self._notify()
            if len(page.items) < PAGE:
                return

    def _keep(self, page: _Page) -> None:
        self._pages[page.after] = page
        self._kept += len(page.ids)
        while self._kept > MAX_KEPT and len(self._pages) > 1:
            _, old = self._pages.popitem(last=False)
            self._kept -= len(old.ids)

    async def _count_once(self) -> None:
        await self._dirty.wait()
        self._dirty.clear()
        started = time.monotonic()
        counts = await to_thread.run_sync(self._counter)
        took = time.monotonic() - started
        if counts != self.counts:
            self.counts = {str(k): v for k, v in counts.items()}
            self.counts_version += 1
            self._notify()
        await asyncio.sleep(max(1.0, 20 * took))  # counting a million runs takes a while


async def runs_events(hub: Hub, cursor: str) -> AsyncIterator[str]:
    """The SSE stream of run changes after ``cursor``, then run counts when they change."""
    yield "retry: 1000\n\n"
    counts_seen = 0
    sent = time.monotonic()
    while not hub.closed:
        version = hub.version
        event: str | None = None
        if hub.counts_version != counts_seen and hub.counts is not None:
            counts_seen = hub.counts_version
            event = f"event: counts\ndata: {dumps(hub.counts)}\n\n"
        elif (page := hub.page_after(cursor)) is not None:
            cursor, event = page.cursor, page.event
        elif cursor != hub.head and (found := await _read(hub, cursor)) is not None:
            cursor, event = found.cursor, found.event
        if event is None:
            await hub.wait(version, KEEPALIVE)
            if time.monotonic() - sent < KEEPALIVE:
                continue
            event = ": keepalive\n\n"
        sent = time.monotonic()
        yield event


async def _read(hub: Hub, cursor: str) -> _Page | None:
    page = await to_thread.run_sync(lambda: hub.store.changes(cursor, limit=PAGE))
    return _render(cursor, page, 0) if page.items else None


async def run_events(hub: Hub, run_id: str, poll: float = 0.5) -> AsyncIterator[str]:
    """The SSE stream of one run's page: its full state whenever it changes.

    Changes come from the hub; while the run is unfinished it is also re-read every
    ``poll`` seconds, because an attempt that starts within a running run does not move
    the change feed.
    """
    yield "retry: 1000\n\n"
    last = ""
    sent = time.monotonic()
    while not hub.closed:
        version = hub.version
        history = await to_thread.run_sync(lambda: hub.store.get_history(run_id))
        body = None if history is None else detail(history, 0.0)
        state = dumps(body)
        if state != last:
            last = state
            if body is not None:
                body["now"] = time.time()
            sent = time.monotonic()
            yield f"event: run\ndata: {dumps(body)}\n\n"
        live = history is not None and history.run.status in UNFINISHED
        await _wait_for_run(hub, run_id, version, poll if live else KEEPALIVE)
        if time.monotonic() - sent >= KEEPALIVE:
            sent = time.monotonic()
            yield ": keepalive\n\n"


async def _wait_for_run(hub: Hub, run_id: str, version: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not hub.closed and (left := deadline - time.monotonic()) > 0:
        await hub.wait(version, left)
        if hub.touched(run_id, version):
            return
        version = hub.version
