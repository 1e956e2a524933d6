"""The ASGI app: the page, its JSON API and its event streams, over one store.

====================================  ===============================================
``GET /``, ``GET /runs/<run_id>``     the page (one static HTML file; the URL is state)
``GET /static/<file>``                its script and style sheet
``GET /api/runs?status=&action=&since=&cursor=&limit=``
                                      one page of runs, newest first, with the change
                                      feed's position read before it and run counts
``GET /api/run/<run_id>``             a run with its steps, every attempt and its graph
``GET /api/events?after=``            SSE: run changes after a feed position (or the
                                      ``Last-Event-ID`` header), and run counts
``GET /api/run-events/<run_id>``      SSE: a run's full state whenever it changes
``POST /api/cancel/<run_id>``         cancel one run
``POST /api/resume/<run_id>``         resume a failed or needs_attention run
``POST /api/bulk-cancel``             ``{"filter": {...}, "confirm": false}`` counts what
                                      a bulk cancel would ask; ``"confirm": true`` asks
====================================  ===============================================
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from importlib import resources
from typing import Any

from anyio import to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from jido import ConfigError
from jido._store import Store
from jido._store.records import Status
from jido._web.actions import Outcome, RunActions, StoreActions
from jido._web.feed import Hub, dumps, run_events, runs_events
from jido._web.present import detail, summary
from jido._web.query import Filter, FilterError, parse_filter, parse_limit
from jido._web.security import Guard

__all__ = ["BULK_LIMIT", "create_app"]

BULK_LIMIT = 10_000
"""Runs one bulk cancel asks for at most (the page says when more remain)."""
_JS = "text/javascript; charset=utf-8"
_STATIC = {
    "app.js": _JS,
    "common.js": _JS,
    "list.js": _JS,
    "run.js": _JS,
    "draw.js": _JS,
    "app.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


def _json(value: Any, status: int = 200) -> Response:
    return Response(dumps(value), status, media_type="application/json")


def _bad(message: str, status: int = 400) -> Response:
    return _json({"ok": False, "message": message}, status)


def _asset(name: str) -> bytes:
    return resources.files("jido._web").joinpath("static", name).read_bytes()


class _Api:
    """The route handlers, sharing the store, the hub and the actions."""

    def __init__(self, store: Store, actions: RunActions, hub: Hub) -> None:
        self.store = store
        self.actions = actions
        self.hub = hub
        self.page = _asset("index.html")
        self.assets = {name: _asset(name) for name in _STATIC}

    async def index(self, request: Request) -> Response:
        return Response(self.page, media_type="text/html; charset=utf-8")

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in self.assets:
            return _bad("not found", 404)
        return Response(self.assets[name], media_type=_STATIC[name])

    async def runs(self, request: Request) -> Response:
        try:
            wanted = parse_filter(request.query_params, time.time())
            limit = parse_limit(request.query_params.get("limit"))
        except FilterError as exc:
            return _bad(str(exc))
        cursor = request.query_params.get("cursor") or None

        def read() -> dict[str, Any]:
            feed = self.store.change_cursor()
            page = self.store.list_runs(
                status=wanted.statuses or None,
                action=wanted.action,
                since=wanted.since,
                limit=limit,
                cursor=cursor,
            )
            items = [summary(r) for r in page.items]
            return {"items": items, "cursor": page.cursor, "feed": feed, "now": time.time()}

        try:
            body = await to_thread.run_sync(read)
        except ConfigError as exc:  # a cursor that is not one
            return _bad(exc.message)
        body["counts"] = self.hub.counts
        return _json(body)

    async def run(self, request: Request) -> Response:
        run_id = request.path_params["run_id"]
        history = await to_thread.run_sync(lambda: self.store.get_history(run_id))
        if history is None:
            return _bad(f"no run {run_id!r} in the store", 404)
        return _json(detail(history, time.time()))

    async def events(self, request: Request) -> Response:
        cursor = request.headers.get("last-event-id") or request.query_params.get("after")
        if not cursor:
            cursor = self.hub.head
        if len(cursor) > 200 or any(c in cursor for c in "\r\n"):
            return _bad("not a change feed position")
        try:  # a position the store cannot read is refused now, not mid-stream
            await to_thread.run_sync(lambda: self.store.changes(cursor, limit=1))
        except ConfigError as exc:
            return _bad(exc.message)
        return _sse(runs_events(self.hub, cursor))

    async def run_events(self, request: Request) -> Response:
        return _sse(run_events(self.hub, request.path_params["run_id"]))

    async def cancel(self, request: Request) -> Response:
        return await self._act(self.actions.cancel, request.path_params["run_id"])

    async def resume(self, request: Request) -> Response:
        return await self._act(self.actions.resume, request.path_params["run_id"])

    async def _act(self, action: Callable[[str], Outcome], run_id: str) -> Response:
        outcome = await to_thread.run_sync(lambda: action(run_id))
        return _json(outcome.as_json(), 200 if outcome.ok else 409)

    async def bulk_cancel(self, request: Request) -> Response:
        try:
            body = await request.json()
            raw = body.get("filter", {}) if isinstance(body, dict) else None
            if not isinstance(raw, dict):
                raise FilterError("the body is {'filter': {...}, 'confirm': true|false}")
            wanted = parse_filter({str(k): str(v) for k, v in raw.items()}, time.time())
        except (ValueError, FilterError) as exc:
            return _bad(str(exc))
        confirm = body.get("confirm") is True
        result = await to_thread.run_sync(lambda: self._bulk(wanted, confirm))
        return _json(result)

    def _bulk(self, wanted: Filter, confirm: bool) -> dict[str, Any]:
        ids, more = self._matching(wanted)
        label = wanted.describe()
        if not confirm:
            return {"ok": True, "count": len(ids), "more": more, "filter": label}
        done = sum(1 for run_id in ids if self.actions.cancel(run_id).ok)
        message = f"cancel asked for {done} of {len(ids)} runs ({label})"
        if more:
            message += f"; more than {BULK_LIMIT} matched: run it again for the rest"
        return {"ok": True, "count": len(ids), "cancelled": done, "more": more, "message": message}

    def _matching(self, wanted: Filter) -> tuple[list[str], bool]:
        statuses = wanted.cancellable()
        if not statuses:
            return [], False
        ids: list[str] = []
        cursor: str | None = None
        while len(ids) <= BULK_LIMIT:
            page = self.store.list_runs(
                status=statuses,
                action=wanted.action,
                since=wanted.since,
                limit=1000,
                cursor=cursor,
            )
            ids.extend(r.run_id for r in page.items)
            cursor = page.cursor
            if cursor is None:
                break
        return ids[:BULK_LIMIT], len(ids) > BULK_LIMIT


def _sse(stream: AsyncIterator[str]) -> StreamingResponse:
    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


def create_app(
    store: Store,
    *,
    actions: RunActions | None = None,
    token: str | None = None,
    bind_host: str = "127.0.0.1",
    poll_interval: float = 0.05,
    counter: Callable[[], Mapping[Status, int]] | None = None,
) -> Starlette:
    """The web view of ``store`` as an ASGI app (its change-feed hub is ``app.state.hub``).

    Args:
        store: an open store; the app reads it and never closes it.
        actions: what cancel and resume do (default: :class:`StoreActions` over ``store``).
        token: when set, required on every request (see :mod:`jido._web.security`).
        bind_host: the address served on (also accepted as a ``Host`` without a token).
        poll_interval: seconds between reads of the store's change feed.
        counter: counts the runs per status (default ``store.counts``).

    Example:
        >>> from jido._store import open_store
        >>> app = create_app(open_store("sqlite:///:memory:"))
    """
    hub = Hub(store, interval=poll_interval, counter=counter)
    if actions is None:
        url: Any = getattr(store, "url", "")
        actions = StoreActions(store, url)
    api = _Api(store, actions, hub)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()

    routes = [
        Route("/", api.index, methods=["GET"]),
        Route("/runs/{run_id:path}", api.index, methods=["GET"]),
        Route("/static/{name}", api.static, methods=["GET"]),
        Route("/api/runs", api.runs, methods=["GET"]),
        Route("/api/events", api.events, methods=["GET"]),
        Route("/api/bulk-cancel", api.bulk_cancel, methods=["POST"]),
        Route("/api/run/{run_id:path}", api.run, methods=["GET"]),
        Route("/api/run-events/{run_id:path}", api.run_events, methods=["GET"]),
        Route("/api/cancel/{run_id:path}", api.cancel, methods=["POST"]),
        Route("/api/resume/{run_id:path}", api.resume, methods=["POST"]),
    ]
    guard = Middleware(Guard, token=token, bind_host=bind_host)
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[guard])
    app.state.hub = hub
    return app
