"""Live updates over Server-Sent Events: changes arrive, and a reconnect loses nothing."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import journal as j
import pytest
from sse import Event, Stream, runs_in
from webtest import Server

from jido._store import Store
from jido._web import feed


def _feed(c: httpx.Client) -> str:
    feed_position: str = c.get("/api/runs").json()["feed"]
    return feed_position


def _has(run_id: str, status: str) -> Callable[[list[Event]], bool]:
    return lambda events: any(r["id"] == run_id and r["status"] == status for r in runs_in(events))


def test_a_new_run_and_its_status_changes_arrive_live(
    store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    c = client(serve(store).url)
    stream = Stream(c, f"/api/events?after={_feed(c)}")
    try:
        j.start(store, "r1")
        events = stream.collect(_has("r1", "running"))
        assert events[-1].id is not None
        j.attempt(store, "r1")
        j.fail(store, "r1", retry_in=30)
        stream.collect(_has("r1", "retrying"))
        store.request_cancel("r1", at=time.time())
        j.attempt(store, "r1", 2)
        assert store.finish_run(
            "r1", owner=j.OWNER, status="cancelled", at=time.time(), error={"type": "cancelled",
            "message": "cancelled by a caller"}, attempt=("", 2)
        )  # fmt: skip
        stream.collect(_has("r1", "cancelled"))
    finally:
        stream.close()


def test_counts_per_status_arrive_and_follow_changes(
    sqlite_store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    c = client(serve(sqlite_store).url)
    stream = Stream(c, f"/api/events?after={_feed(c)}")
    try:
        j.start(sqlite_store, "r1")
        j.attempt(sqlite_store, "r1")
        j.fail(sqlite_store, "r1", retry_in=30)

        def counted(events: list[Event]) -> bool:
            return any(e.event == "counts" and e.data["retrying"] == 1 for e in events)

        stream.collect(counted, timeout=15)
    finally:
        stream.close()


def _write_many(store: Store, prefix: str, n: int) -> None:
    for i in range(n):
        j.start(store, f"{prefix}{i}")


@pytest.mark.parametrize("kept", [feed.MAX_KEPT, 3], ids=["from-the-hub", "from-the-store"])
def test_a_reconnect_with_last_event_id_resumes_with_nothing_lost_or_repeated(
    store: Store,
    serve: Callable[..., Server],
    client: Callable[..., httpx.Client],
    monkeypatch: pytest.MonkeyPatch,
    kept: int,
) -> None:
    monkeypatch.setattr(feed, "MAX_KEPT", kept)  # 3: the hub forgets, the stream reads the store
    reads: list[str] = []
    read = feed._read

    async def counted(hub: feed.Hub, cursor: str) -> object:
        reads.append(cursor)
        return await read(hub, cursor)

    monkeypatch.setattr(feed, "_read", counted)
    c = client(serve(store).url)
    stream = Stream(c, f"/api/events?after={_feed(c)}")
    _write_many(store, "a", 5)
    before = runs_in(stream.collect(lambda ev: len(runs_in(ev)) >= 5))
    last_id = stream.last_id
    stream.close()

    for batch in range(4):  # while disconnected, in several reads of the hub
        _write_many(store, f"b{batch}", 5)
        time.sleep(0.15)
    j.attempt(store, "a1")
    j.fail(store, "a1", retry_in=30)  # an earlier run changes too
    time.sleep(0.3)  # the hub reads them (and, with kept=3, forgets most of them)

    again = Stream(c, "/api/events", headers={"Last-Event-ID": str(last_id)})
    try:
        after = runs_in(again.collect(lambda ev: len(runs_in(ev)) >= 21))
        time.sleep(0.3)
        while not again.events.empty():
            after += runs_in([again.next_event()])
    finally:
        again.close()
    assert [r["id"] for r in before] == [f"a{i}" for i in range(5)]
    assert [r["id"] for r in after] == [f"b{b}{i}" for b in range(4) for i in range(5)] + ["a1"]
    assert after[-1]["status"] == "retrying"
    seqs = [r["seq"] for r in before + after]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert (len(reads) > 0) == (kept == 3), reads


def test_a_stream_from_a_position_the_store_never_gave_is_refused(
    sqlite_store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    c = client(serve(sqlite_store).url)
    assert c.get("/api/events", headers={"Last-Event-ID": "garbage"}).status_code == 400


def test_a_runs_page_stream_shows_each_attempt_as_it_starts(
    store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    j.start(store, "c1", kind="chain", definition={"steps": [{"action": "a"}, {"action": "b"}]})
    c = client(serve(store).url)
    stream = Stream(c, "/api/run-events/c1")

    def attempts(n: int, last: str) -> Callable[[list[Event]], bool]:
        def done(events: list[Event]) -> bool:
            seen = [e.data for e in events if e.event == "run"]
            return (
                bool(seen)
                and len(seen[-1]["attempts"]) == n
                and (seen[-1]["attempts"][-1]["status"] == last if n else True)
            )

        return done

    try:
        stream.collect(attempts(0, ""))
        j.attempt(store, "c1", step="0")  # does not move the change feed: the page polls
        stream.collect(attempts(1, "running"), timeout=5)
        j.step_ok(store, "c1", "0")
        j.attempt(store, "c1", step="1")
        events = stream.collect(attempts(2, "running"), timeout=5)
        graph = [e.data for e in events if e.event == "run"][-1]["graph"]
        assert [(n["key"], n["status"]) for n in graph["nodes"]] == [
            ("0", "succeeded"),
            ("1", "running"),
        ]
    finally:
        stream.close()


def test_a_run_page_stream_of_an_unknown_run_says_so(
    sqlite_store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    c = client(serve(sqlite_store).url)
    stream = Stream(c, "/api/run-events/nope")
    try:
        event = stream.next_event()
        assert (event.event, event.data) == ("run", None)
    finally:
        stream.close()
