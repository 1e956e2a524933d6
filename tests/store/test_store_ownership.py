"""Store conformance, part 2: leases, recovery, claims and cancel (SQLite and Postgres)."""

from __future__ import annotations

import multiprocessing
import threading
import time

from jido._store import Store, open_store
from store.helpers import LEASE, new_run, orphaned, started
from store.store_workers import claim_all


def test_renew_extends_the_leases_of_the_owners_active_runs(store: Store) -> None:
    started(store, "r1", owner="a")
    started(store, "r2", owner="a")
    started(store, "r3", owner="b")
    started(store, "done", owner="a")
    store.finish_run("done", owner="a", status="succeeded", at=time.time(), result=None)
    until = time.time() + 500
    assert store.renew("a", until) == []
    leases = {r: store.get_run(r).lease_until for r in ("r1", "r2", "r3", "done")}  # type: ignore[union-attr]
    assert leases["r1"] == leases["r2"] == until
    assert leases["r3"] != until
    assert leases["done"] is None


def test_a_lease_renewal_is_not_a_change(store: Store) -> None:
    row = started(store, "r1", owner="a")
    store.renew("a", time.time() + 500)
    after = store.get_run("r1")
    assert after is not None
    assert after.seq == row.seq


def test_live_leases_are_not_claimed_expired_ones_are(store: Store) -> None:
    started(store, "live", owner="a")
    orphaned(store, "gone", owner="dead")
    now = time.time()
    claimed = store.claim_orphans("b", now=now, lease_until=now + LEASE)
    assert [r.run_id for r in claimed] == ["gone"]
    (row,) = claimed
    assert (row.owner, row.lease_until, row.recoveries, row.status) == (
        "b",
        now + LEASE,
        1,
        "running",
    )
    assert store.claim_orphans("c", now=now, lease_until=now + LEASE) == []
    # the former owner has lost it: its writes are refused
    assert not store.step_succeeded("gone", "0", 1, at=now, result=1, owner="dead")
    assert store.step_succeeded("gone", "0", 1, at=now, result=1, owner="b")


def test_a_lease_expires_when_it_is_not_renewed(store: Store) -> None:
    t0 = time.time()
    store.start_run(new_run("r1"), owner="a", lease_until=t0 + 10)
    assert store.claim_orphans("b", now=t0 + 9.9, lease_until=t0 + 20) == []
    assert [r.run_id for r in store.claim_orphans("b", now=t0 + 10.1, lease_until=t0 + 20)] == [
        "r1"
    ]


def test_recovery_abandons_the_attempt_that_was_running(store: Store) -> None:
    orphaned(store, "r1")
    store.attempt_started("r1", "0", 1, at=time.time(), owner="dead")
    store.claim_orphans("b", now=time.time(), lease_until=time.time() + LEASE)
    history = store.get_history("r1")
    assert history is not None
    assert [(a.attempt, a.status) for a in history.attempts] == [(1, "abandoned")]
    assert history.steps[0].status == "abandoned"


def test_retry_schedule_survives_recovery(store: Store) -> None:
    orphaned(store, "r1")
    due = time.time() + 42
    store.attempt_started("r1", "s", 1, at=time.time(), owner="dead")
    store.attempt_failed(
        "r1",
        "s",
        1,
        at=time.time(),
        error={"type": "timeout", "message": "m"},
        retry_at=due,
        owner="dead",
    )
    (row,) = store.claim_orphans("b", now=time.time(), lease_until=time.time() + LEASE)
    assert (row.status, row.next_retry_at) == ("retrying", due)


def test_claim_orphans_respects_its_limit(store: Store) -> None:
    for i in range(5):
        orphaned(store, f"r{i}")
    now = time.time()
    assert len(store.claim_orphans("b", now=now, lease_until=now + LEASE, limit=2)) == 2
    assert len(store.claim_orphans("c", now=now, lease_until=now + LEASE, limit=10)) == 3


def test_racing_processes_claim_each_orphan_exactly_once(store_url: str, store: Store) -> None:
    for i in range(10):
        orphaned(store, f"r{i}")
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(3), ctx.Queue()
    procs = [
        ctx.Process(target=claim_all, args=(store_url, f"p{i}", barrier, results)) for i in range(3)
    ]
    for p in procs:
        p.start()
    outcomes = dict(results.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(30)
    claimed = [run_id for ids in outcomes.values() for run_id in ids]
    assert sorted(claimed) == sorted(f"r{i}" for i in range(10))
    for owner, ids in outcomes.items():
        for run_id in ids:
            row = store.get_run(run_id)
            assert row is not None
            assert (row.owner, row.recoveries) == (owner, 1)


def test_racing_threads_claim_each_orphan_exactly_once(store: Store) -> None:
    for i in range(30):
        orphaned(store, f"r{i}")
    got: dict[str, list[str]] = {f"t{i}": [] for i in range(4)}
    gate = threading.Barrier(4)

    def claim(owner: str) -> None:
        gate.wait(10)
        while rows := store.claim_orphans(
            owner, now=time.time(), lease_until=time.time() + 60, limit=3
        ):
            got[owner].extend(r.run_id for r in rows)

    threads = [threading.Thread(target=claim, args=(o,)) for o in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    claimed = [r for ids in got.values() for r in ids]
    assert sorted(claimed) == sorted(f"r{i}" for i in range(30))


def test_release_lets_another_process_claim_at_once(store: Store) -> None:
    started(store, "r1", owner="a")
    started(store, "r2", owner="b")
    assert store.release("a") == 1
    now = time.time()
    assert [r.run_id for r in store.claim_orphans("c", now=now, lease_until=now + 9)] == ["r1"]


def test_claim_resumes_a_failed_or_parked_run(store: Store) -> None:
    started(store, "failed", owner="a")
    store.finish_run(
        "failed",
        owner="a",
        status="failed",
        at=time.time(),
        error={"type": "execution_error", "message": "boom"},
    )
    started(store, "parked", owner="a")
    store.needs_attention("parked", reason="changed", at=time.time())
    now = time.time()
    for run_id in ("failed", "parked"):
        row = store.claim(run_id, owner="b", now=now, lease_until=now + 9)
        assert row is not None
        assert (row.status, row.owner, row.recoveries) == ("running", "b", 1)
        assert (row.error, row.reason, row.finished_at) == (None, None, None)


def test_claim_refuses_live_finished_and_unknown_runs(store: Store) -> None:
    started(store, "live", owner="a")
    started(store, "done", owner="a")
    store.finish_run("done", owner="a", status="succeeded", at=time.time(), result=1)
    now = time.time()
    assert store.claim("live", owner="b", now=now, lease_until=now + 9) is None
    assert store.claim("done", owner="b", now=now, lease_until=now + 9) is None
    assert store.claim("nope", owner="b", now=now, lease_until=now + 9) is None
    again = store.claim("live", owner="a", now=now, lease_until=now + 9)  # its own: idempotent
    assert again is not None
    assert again.owner == "a"
    orphaned(store, "orphan")
    taken = store.claim("orphan", owner="b", now=now, lease_until=now + 9)
    assert taken is not None
    assert taken.owner == "b"


def test_cancel_of_an_owned_run_is_a_request_the_owner_sees(store: Store) -> None:
    started(store, "r1", owner="a")
    started(store, "r2", owner="a")
    at = time.time()
    assert store.request_cancel("r1", at=at)
    row = store.get_run("r1")
    assert row is not None
    assert (row.status, row.cancel_requested_at) == ("running", at)
    assert store.cancel_requested("a") == ["r1"]
    assert store.renew("a", time.time() + 30) == ["r1"]
    assert store.finish_run(
        "r1",
        owner="a",
        status="cancelled",
        at=time.time(),
        error={"type": "cancelled", "message": "cancelled"},
    )
    assert store.cancel_requested("a") == []


def test_cancel_of_an_unowned_run_cancels_it_at_once(store: Store) -> None:
    orphaned(store, "orphan")
    store.attempt_started("orphan", "0", 1, at=time.time(), owner="dead")
    started(store, "parked", owner="a")
    store.needs_attention("parked", reason="r", at=time.time())
    for run_id in ("orphan", "parked"):
        assert store.request_cancel(run_id, at=time.time())
        history = store.get_history(run_id)
        assert history is not None
        assert history.run.status == "cancelled"
        assert history.run.finished_at is not None
        assert history.run.error is not None
        assert history.run.error["type"] == "cancelled"
        assert all(a.status == "abandoned" for a in history.attempts)


def test_cancel_of_a_finished_or_unknown_run_is_false(store: Store) -> None:
    started(store, "done", owner="a")
    store.finish_run("done", owner="a", status="succeeded", at=time.time(), result=1)
    assert not store.request_cancel("done", at=time.time())
    assert not store.request_cancel("nope", at=time.time())
    row = store.get_run("done")
    assert row is not None
    assert row.status == "succeeded"


def test_listen_delivers_a_cancel_request_within_100ms(store: Store) -> None:
    started(store, "r1", owner="a")
    arrived = threading.Event()
    got: list[tuple[str, float]] = []

    def on_cancel(run_id: str) -> None:
        got.append((run_id, time.perf_counter()))
        arrived.set()

    close = store.listen(on_cancel)
    if store.dialect == "sqlite":
        assert close is None  # SQLite cannot push: the owner polls cancel_requested()
        return
    assert close is not None
    try:
        delays = []
        for i in range(5):
            arrived.clear()
            got.clear()
            started(store, f"n{i}", owner="a")
            sent = time.perf_counter()
            store.request_cancel(f"n{i}", at=time.time())
            assert arrived.wait(5)
            assert got[0][0] == f"n{i}"
            delays.append(got[0][1] - sent)
        assert sorted(delays)[2] < 0.1, delays  # the median, so that one stall on a busy
    finally:  # machine does not decide
        close()


def test_a_raising_listener_stays_attached(pg_url: str) -> None:
    store = open_store(pg_url)
    calls: list[str] = []

    def bad(run_id: str) -> None:
        calls.append(run_id)
        raise RuntimeError("listener bug")

    close = store.listen(bad)
    assert close is not None
    try:
        for run_id in ("x1", "x2"):
            started(store, run_id, owner="a")
            store.request_cancel(run_id, at=time.time())
        deadline = time.monotonic() + 5
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert calls == ["x1", "x2"]
    finally:
        close()
        store.close()
