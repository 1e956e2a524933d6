"""Store conformance, part 3: listing, the change feed, counts and pruning."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

import jido
from jido._store import STATUSES, RunRow, Store
from store.helpers import LEASE, new_run, orphaned, started

T0 = 1_700_000_000.0


def _seed(store: Store, n: int = 25) -> list[str]:
    """``n`` runs created one second apart, alternating two actions; some finished."""
    ids = []
    for i in range(n):
        run_id = f"run-{i:03d}"
        action = "billing.charge" if i % 2 else "mail.send"
        store.start_run(
            new_run(run_id, action=action, created_at=T0 + i),
            owner="a",
            lease_until=time.time() + LEASE,
        )
        if i % 3 == 0:
            store.finish_run(run_id, owner="a", status="succeeded", at=T0 + i + 0.5, result=i)
        ids.append(run_id)
    return ids


def _walk(store: Store, **filters: Any) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = store.list_runs(limit=10, cursor=cursor, **filters)
        pages.append([r.run_id for r in page.items])
        if page.cursor is None:
            return pages
        cursor = page.cursor


def test_list_runs_pages_newest_first_with_a_cursor(store: Store) -> None:
    ids = _seed(store)
    pages = _walk(store)
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [r for p in pages for r in p] == list(reversed(ids))


def test_list_runs_filters(store: Store) -> None:
    ids = _seed(store)
    charged = [r for p in _walk(store, action="billing.charge") for r in p]
    assert charged == [r for i, r in reversed(list(enumerate(ids))) if i % 2]
    done = [r for p in _walk(store, status="succeeded") for r in p]
    assert done == [r for i, r in reversed(list(enumerate(ids))) if i % 3 == 0]
    both = [r for p in _walk(store, status=["succeeded", "running"], action="mail.send") for r in p]
    assert both == [r for i, r in reversed(list(enumerate(ids))) if i % 2 == 0]
    recent = [r for p in _walk(store, since=T0 + 20) for r in p]
    assert recent == list(reversed(ids[20:]))
    assert store.list_runs(action="nothing").items == ()


def test_a_page_ends_exactly_at_the_last_run(store: Store) -> None:
    _seed(store, 10)
    page = store.list_runs(limit=10)
    assert len(page.items) == 10
    assert page.cursor is None


def test_runs_created_at_the_same_time_page_without_loss(store: Store) -> None:
    for i in range(7):
        store.start_run(new_run(f"same-{i}", created_at=T0), owner="a", lease_until=T0)
    pages = []
    cursor = None
    while True:
        page = store.list_runs(limit=3, cursor=cursor)
        pages.extend(r.run_id for r in page.items)
        if (cursor := page.cursor) is None:
            break
    assert sorted(pages) == sorted(f"same-{i}" for i in range(7))
    assert len(set(pages)) == 7


@pytest.mark.parametrize(
    "bad",
    [
        {"status": "weird"},
        {"limit": 0},
        {"limit": 10_001},
        {"limit": True},
        {"cursor": "%%%"},
        {"cursor": "WzEsMl0"},
    ],
)
def test_bad_list_arguments_are_config_errors(store: Store, bad: dict[str, Any]) -> None:
    with pytest.raises(jido.ConfigError):
        store.list_runs(**bad)


def test_changes_follow_every_write_in_order(store: Store) -> None:
    head = store.change_cursor()
    started(store, "r1", owner="a")
    started(store, "r2", owner="a")
    page = store.changes(head)
    assert [r.run_id for r in page.items] == ["r1", "r2"]
    cursor = page.cursor
    assert store.changes(cursor).items == ()
    assert store.changes(cursor).cursor == cursor
    store.renew("a", time.time() + 100)  # not a change
    assert store.changes(cursor).items == ()
    store.attempt_started("r1", "0", 1, at=time.time(), owner="a")
    store.step_succeeded("r1", "0", 1, at=time.time(), result=1, owner="a")
    store.finish_run("r2", owner="a", status="succeeded", at=time.time(), result=2)
    page = store.changes(cursor)
    assert [(r.run_id, r.status) for r in page.items] == [("r1", "running"), ("r2", "succeeded")]
    assert [r.seq for r in page.items] == sorted(r.seq for r in page.items)


def test_changes_page_through_with_a_limit(store: Store) -> None:
    for i in range(7):
        started(store, f"r{i}")
    seen, cursor = [], None
    while page := store.changes(cursor, limit=3):
        if not page.items:
            break
        seen.extend(r.run_id for r in page.items)
        cursor = page.cursor
    assert seen == [f"r{i}" for i in range(7)]


def test_each_claimed_run_is_its_own_change(store: Store) -> None:
    for i in range(4):
        orphaned(store, f"r{i}")
    cursor = store.change_cursor()
    store.claim_orphans("b", now=time.time(), lease_until=time.time() + 60)
    first = store.changes(cursor, limit=2)
    rest = store.changes(first.cursor, limit=10)
    assert sorted(r.run_id for r in (*first.items, *rest.items)) == [f"r{i}" for i in range(4)]


def test_a_bad_change_cursor_is_a_config_error(store: Store) -> None:
    with pytest.raises(jido.ConfigError):
        store.changes("not-a-cursor")


def test_postgres_changes_wait_for_a_transaction_still_in_flight(pg_url: str) -> None:
    """A write that commits late with a smaller seq is not skipped by the feed."""
    import psycopg

    from jido._store import open_store

    store = open_store(pg_url)
    try:
        started(store, "slow", owner="a")
        cursor = store.change_cursor()
        with psycopg.connect(pg_url) as conn:  # a transaction left open
            conn.execute(
                "UPDATE jido_runs SET seq = nextval('jido_seq'), "
                "xid = pg_current_xact_id() WHERE run_id = 'slow'"
            )
            started(store, "fast", owner="a")  # commits first, with a larger seq
            # held back until the older transaction ends (the cursor may re-deliver the
            # version of "slow" from before it, never "fast" ahead of it)
            held = store.changes(cursor)
            assert "fast" not in [r.run_id for r in held.items]
            conn.commit()
        page = store.changes(held.cursor)
        assert [r.run_id for r in page.items] == ["slow", "fast"]
        fresh = store.get_run("slow")
        assert fresh is not None
        assert page.items[0] == fresh
    finally:
        store.close()


def test_counts_cover_every_status(store: Store) -> None:
    assert store.counts() == dict.fromkeys(STATUSES, 0)
    _seed(store, 9)
    started(store, "parked")
    store.needs_attention("parked", reason="r", at=time.time())
    counts = store.counts()
    assert counts["succeeded"] == 3
    assert counts["running"] == 6
    assert counts["needs_attention"] == 1
    assert sum(counts.values()) == 10


def _aged(store: Store, run_id: str, status: str, raw: Callable[..., Any]) -> None:
    store.start_run(new_run(run_id, created_at=T0), owner="a", lease_until=time.time() + 60)
    store.attempt_started(run_id, "0", 1, at=T0, owner="a")
    if status in ("succeeded", "failed", "cancelled"):
        error = None if status == "succeeded" else {"type": "x", "message": "m"}
        store.finish_run(
            run_id,
            owner="a",
            status=status,
            at=T0 + 1,
            result=1,  # type: ignore[arg-type]
            error=error,
        )
    elif status == "retrying":
        store.attempt_failed(
            run_id, "0", 1, at=T0, error={"type": "x", "message": "m"}, retry_at=T0 + 5, owner="a"
        )
    elif status == "needs_attention":
        store.needs_attention(run_id, reason="r", at=T0)


def test_prune_deletes_old_finished_runs_and_never_unfinished_ones(
    store: Store, raw: Callable[..., Any]
) -> None:
    finished = [f"{s}-{i}" for s in ("succeeded", "failed", "cancelled") for i in range(4)]
    unfinished = ["running-0", "retrying-0", "needs_attention-0"]
    for run_id in finished + unfinished:
        _aged(store, run_id, run_id.rsplit("-", 1)[0], raw)
    started(store, "young", owner="a")
    store.finish_run("young", owner="a", status="succeeded", at=time.time(), result=1)
    deleted = store.prune(T0 + 100, batch=5)
    left = {r[0] for r in raw("SELECT run_id FROM jido_runs")}
    # SQLite keeps the run holding the largest seq; here that is "young", which is new anyway
    assert deleted == len(finished)
    assert left == {*unfinished, "young"}
    attempts_left = {r[0] for r in raw("SELECT DISTINCT run_id FROM jido_attempts")}
    assert attempts_left == set(unfinished)
    assert store.prune(T0 + 100) == 0


def test_prune_goes_by_when_a_run_finished_not_when_it_was_created(store: Store) -> None:
    store.start_run(new_run("long", created_at=T0), owner="a", lease_until=time.time() + 60)
    store.finish_run("long", owner="a", status="succeeded", at=T0 + 500, result=1)
    store.start_run(new_run("short", created_at=T0), owner="a", lease_until=time.time() + 60)
    store.finish_run("short", owner="a", status="succeeded", at=T0 + 5, result=1)
    started(store, "newest", owner="a")  # SQLite keeps the run holding the largest seq
    assert store.prune(T0 + 100) == 1
    assert store.get_run("short") is None
    assert store.get_run("long") is not None


def test_prune_keeps_the_feed_position(store: Store) -> None:
    started(store, "only", owner="a")
    store.finish_run("only", owner="a", status="succeeded", at=time.time(), result=1)
    cursor = store.change_cursor()
    store.prune(time.time() + 10)
    started(store, "next", owner="a")
    assert [r.run_id for r in store.changes(cursor).items] == ["next"]


def test_reads_of_unknown_runs_are_none(store: Store) -> None:
    assert store.get_run("nope") is None
    assert store.get_history("nope") is None
    with pytest.raises(jido.ConfigError):
        store.get_run("")


def test_row_is_frozen(store: Store) -> None:
    row: RunRow = started(store, "r1")
    with pytest.raises(AttributeError):
        row.status = "failed"  # type: ignore[misc]


def test_counts_follow_every_kind_of_change(store: Store, raw: Callable[..., Any]) -> None:
    def check() -> None:
        actual = dict.fromkeys(STATUSES, 0)
        actual.update(dict(raw("SELECT status, COUNT(*) FROM jido_runs GROUP BY status")))
        assert store.counts() == actual

    for i in range(6):
        started(store, f"r{i}", owner="a")
    check()
    store.attempt_started("r0", "0", 1, at=T0, owner="a")
    store.attempt_failed(
        "r0", "0", 1, at=T0, error={"type": "x", "message": "m"}, retry_at=T0 + 1, owner="a"
    )
    check()
    store.attempt_started("r0", "0", 2, at=T0, owner="a")
    store.finish_run("r1", owner="a", status="succeeded", at=T0, result=1)
    store.finish_run("r2", owner="a", status="failed", at=T0, error={"type": "x", "message": "m"})
    store.needs_attention("r3", reason="r", at=T0)
    check()
    store.request_cancel("r3", at=T0)
    store.claim("r2", owner="b", now=time.time(), lease_until=time.time() + 9)
    orphaned(store, "o1")
    store.claim_orphans("c", now=time.time(), lease_until=time.time() + 9)
    check()
    store.prune(time.time() + 100)
    check()
