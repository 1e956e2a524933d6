"""Store conformance, part 1: identity and the journal (run on SQLite and Postgres)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

import pytest

import jido
from jido._store import SINGLE_STEP, Store, open_store
from jido._store.codec import error_from_json, error_to_json
from store.helpers import new_run, started
from store.store_workers import start_same_run


def test_start_run_records_a_running_owned_run(store: Store) -> None:
    before = time.time()
    created, row = store.start_run(new_run("r1"), owner="a", lease_until=before + 10)
    assert created
    assert (row.run_id, row.status, row.owner, row.kind) == ("r1", "running", "a", "chain")
    assert row.lease_until == before + 10
    assert row.params == {"order": 42, "items": ["a", "b"]}
    assert row.context == {"tenant": "acme"}
    assert row.definition["steps"][0]["ref"] == "shop.actions:Pay"
    assert row.attempts == 0
    assert row.recoveries == 0
    assert row.finished_at is None
    assert store.get_run("r1") == row


def test_start_run_twice_returns_the_existing_run_untouched(store: Store) -> None:
    first = started(store, "r1", owner="a")
    created, again = store.start_run(
        new_run("r1", params={"other": True}), owner="b", lease_until=time.time() + 99
    )
    assert not created
    assert again == first  # owner, params, lease, seq: all as recorded the first time


def test_exactly_one_of_many_processes_creates_a_run(store_url: str, store: Store) -> None:
    ctx = multiprocessing.get_context("spawn")
    n = 6
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [
        ctx.Process(target=start_same_run, args=(store_url, "shared", f"p{i}", barrier, results))
        for i in range(n)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    winners = [owner for owner, created, _ in outcomes if created]
    assert len(winners) == 1
    assert {row_owner for _, _, row_owner in outcomes} == {winners[0]}
    assert store.counts()["running"] == 1


def test_unencodable_params_are_refused_before_anything_is_recorded(store: Store) -> None:
    with pytest.raises(jido.ValidationError) as info:
        store.start_run(new_run("r1", params={"db": object()}), owner="a", lease_until=1e12)
    assert "params['db']" in str(info.value)
    assert store.get_run("r1") is None


def test_a_completed_step_is_recorded_with_its_attempt(store: Store) -> None:
    started(store, "r1")
    t0 = time.time()
    assert store.attempt_started("r1", "0", 1, at=t0, owner="owner-a")
    history = store.get_history("r1")
    assert history is not None
    assert [(s.key, s.status) for s in history.steps] == [("0", "running")]
    assert store.step_succeeded("r1", "0", 1, at=t0 + 1, result={"paid": 10}, owner="owner-a")
    history = store.get_history("r1")
    assert history is not None
    (step,) = history.steps
    assert (step.status, step.result, step.attempts) == ("succeeded", {"paid": 10}, 1)
    assert (step.started_at, step.finished_at) == (t0, t0 + 1)
    assert history.completed() == {"0": {"paid": 10}}
    assert history.run.attempts == 1


def test_every_write_gives_the_run_a_larger_seq(store: Store) -> None:
    seqs = [started(store, "r1").seq]
    store.attempt_started("r1", "0", 1, at=time.time(), owner="owner-a")
    store.attempt_failed(
        "r1",
        "0",
        1,
        at=time.time(),
        error=jido.ExecutionError("x"),
        retry_at=time.time() + 1,
        owner="owner-a",
    )
    seqs.append(_seq(store, "r1"))
    store.attempt_started("r1", "0", 2, at=time.time(), owner="owner-a")
    seqs.append(_seq(store, "r1"))
    store.step_succeeded("r1", "0", 2, at=time.time(), result=1, owner="owner-a")
    seqs.append(_seq(store, "r1"))
    store.finish_run("r1", owner="owner-a", status="succeeded", at=time.time(), result=1)
    seqs.append(_seq(store, "r1"))
    assert seqs == sorted(set(seqs))


def _seq(store: Store, run_id: str) -> int:
    row = store.get_run(run_id)
    assert row is not None
    return row.seq


def test_retry_state_is_persisted_and_survives_reopening(store_url: str, store: Store) -> None:
    started(store, "r1")
    t0 = time.time()
    store.attempt_started("r1", "charge", 1, at=t0, owner="owner-a")
    err = jido.TimeoutError("attempt timed out", details={"stopped": True})
    assert store.attempt_failed(
        "r1",
        "charge",
        1,
        at=t0 + 1,
        error=err,
        retry_at=t0 + 3,
        stopped=True,
        stop="interrupted",
        owner="owner-a",
    )
    reopened = open_store(store_url)
    try:
        history = reopened.get_history("r1")
    finally:
        reopened.close()
    assert history is not None
    assert (history.run.status, history.run.next_retry_at) == ("retrying", t0 + 3)
    (step,) = history.steps
    assert (step.status, step.next_retry_at, step.attempts) == ("retrying", t0 + 3, 1)
    (attempt,) = history.attempts
    assert (attempt.status, attempt.stopped, attempt.stop, attempt.retry_at) == (
        "failed",
        True,
        "interrupted",
        t0 + 3,
    )
    assert attempt.error is not None
    assert attempt.error["type"] == "timeout"
    # the next attempt puts the run back to running and clears the due time
    assert store.attempt_started("r1", "charge", 2, at=t0 + 3, owner="owner-a")
    row = store.get_run("r1")
    assert row is not None
    assert (row.status, row.next_retry_at) == ("running", None)


def test_every_attempt_is_kept_for_the_timeline(store: Store) -> None:
    started(store, "r1")
    t = time.time()
    for n in (1, 2):
        store.attempt_started("r1", "s", n, at=t + n, owner="owner-a")
        store.attempt_failed(
            "r1",
            "s",
            n,
            at=t + n + 0.5,
            error=jido.ExecutionError(f"e{n}"),
            retry_at=t + n + 1,
            owner="owner-a",
        )
    store.attempt_started("r1", "s", 3, at=t + 3, owner="owner-a")
    store.step_succeeded("r1", "s", 3, at=t + 3.5, result="ok", owner="owner-a")
    history = store.get_history("r1")
    assert history is not None
    assert [(a.attempt, a.status) for a in history.attempts] == [
        (1, "failed"),
        (2, "failed"),
        (3, "succeeded"),
    ]
    backoffs = [a.retry_at - a.finished_at for a in history.attempts[:2]]  # type: ignore[operator]
    assert backoffs == pytest.approx([0.5, 0.5])
    assert history.attempts[1].error["message"] == "e2"  # type: ignore[index]


def test_finish_run_records_the_outcome_once(store: Store) -> None:
    started(store, "r1")
    assert store.finish_run(
        "r1", owner="owner-a", status="succeeded", at=time.time(), result={"total": 3}
    )
    row = store.get_run("r1")
    assert row is not None
    assert (row.status, row.result, row.error, row.lease_until) == (
        "succeeded",
        {"total": 3},
        None,
        None,
    )
    assert row.finished_at is not None
    assert not store.finish_run(
        "r1", owner="owner-a", status="failed", at=time.time(), error=jido.ExecutionError("late")
    )
    assert store.get_run("r1") == row


def test_a_failed_run_keeps_its_error_and_its_cause(store: Store) -> None:
    started(store, "r1")
    err = jido.ExecutionError("card declined", details={"code": 51}, retry_after=2.0)
    err.__cause__ = ValueError("bad card")
    store.attempt_started("r1", SINGLE_STEP, 1, at=time.time(), owner="owner-a")
    assert store.finish_run(
        "r1", owner="owner-a", status="failed", at=time.time(), error=err, attempt=(SINGLE_STEP, 1)
    )
    history = store.get_history("r1")
    assert history is not None
    assert history.run.error == error_to_json(err)
    back = error_from_json(history.run.error)  # type: ignore[arg-type]
    assert (type(back), back.message, back.details, back.retry_after) == (
        jido.ExecutionError,
        "card declined",
        {"code": 51},
        2.0,
    )
    assert isinstance(back.__cause__, jido.RemoteError)
    assert back.__cause__.type_name == "builtins.ValueError"
    (attempt,) = history.attempts
    assert (attempt.status, attempt.error) == ("failed", history.run.error)


def test_finishing_closes_the_given_attempt_and_abandons_others(store: Store) -> None:
    started(store, "r1")
    t = time.time()
    store.attempt_started("r1", "a", 1, at=t, owner="owner-a")
    store.attempt_started("r1", "b", 1, at=t, owner="owner-a")
    store.finish_run(
        "r1", owner="owner-a", status="succeeded", at=t + 1, result=7, attempt=("a", 1)
    )
    history = store.get_history("r1")
    assert history is not None
    by_key = {a.step_key: a for a in history.attempts}
    assert (by_key["a"].status, by_key["a"].result) == ("succeeded", 7)
    assert (by_key["b"].status, by_key["b"].finished_at) == ("abandoned", t + 1)


def test_finish_requires_a_terminal_status_and_an_error_for_failures(store: Store) -> None:
    started(store, "r1")
    with pytest.raises(jido.ConfigError):
        store.finish_run("r1", owner="owner-a", status="running", at=1.0)  # type: ignore[arg-type]
    with pytest.raises(jido.ConfigError):
        store.finish_run("r1", owner="owner-a", status="failed", at=1.0)
    with pytest.raises(jido.ValidationError) as info:
        store.step_succeeded("r1", "0", 1, at=1.0, result={"when": time}, owner="owner-a")
    assert "result['when']" in str(info.value)
    row = store.get_run("r1")
    assert row is not None
    assert row.status == "running"


def test_writes_of_a_former_owner_change_nothing(store: Store) -> None:
    started(store, "r1", owner="a")
    before = store.get_run("r1")
    t = time.time()
    assert not store.attempt_started("r1", "0", 1, at=t, owner="b")
    assert not store.attempt_failed(
        "r1", "0", 1, at=t, error={"type": "x", "message": "m"}, owner="b"
    )
    assert not store.step_succeeded("r1", "0", 1, at=t, result=1, owner="b")
    assert not store.finish_run("r1", owner="b", status="succeeded", at=t, result=1)
    assert not store.attempt_started("missing", "0", 1, at=t, owner="a")
    assert store.get_run("r1") == before
    history = store.get_history("r1")
    assert history is not None
    assert history.attempts == ()


def test_needs_attention_parks_the_run_with_its_reason(store: Store) -> None:
    started(store, "r1")
    store.attempt_started("r1", "0", 1, at=time.time(), owner="owner-a")
    assert not store.needs_attention("r1", reason="x", at=time.time(), owner="someone-else")
    assert store.needs_attention(
        "r1", reason="definition changed: step 'pay' was removed", at=time.time(), owner="owner-a"
    )
    row = store.get_run("r1")
    assert row is not None
    assert (row.status, row.owner, row.lease_until) == ("needs_attention", None, None)
    assert row.reason == "definition changed: step 'pay' was removed"
    assert not store.step_succeeded("r1", "0", 1, at=time.time(), result=1, owner="owner-a")
    history = store.get_history("r1")
    assert history is not None
    assert history.attempts[0].status == "abandoned"


def test_many_threads_share_one_store(store: Store) -> None:
    for i in range(8):
        started(store, f"r{i}")
    errors: list[BaseException] = []

    def drive(run_id: str) -> None:
        try:
            for k in range(10):
                assert store.attempt_started(run_id, str(k), 1, at=time.time(), owner="owner-a")
                assert store.step_succeeded(
                    run_id, str(k), 1, at=time.time(), result=k, owner="owner-a"
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drive, args=(f"r{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    for i in range(8):
        history = store.get_history(f"r{i}")
        assert history is not None
        assert history.completed() == {str(k): k for k in range(10)}


def test_durability_sets_what_a_commit_survives(store_url: str) -> None:
    for durability, sqlite_level, pg_setting in (("process", 1, "off"), ("power", 2, "on")):
        opened: Any = open_store(store_url, durability)  # type: ignore[arg-type]
        try:
            assert opened.durability == durability
            if opened.dialect == "sqlite":
                level = opened._read("PRAGMA synchronous")[0][0]
                assert level == sqlite_level
            else:
                assert opened._all("SHOW synchronous_commit")[0][0] == pg_setting
        finally:
            opened.close()
    with pytest.raises(jido.ConfigError):
        open_store(store_url, "disk")  # type: ignore[arg-type]


def test_a_closed_store_says_so(store_url: str) -> None:
    opened = open_store(store_url)
    opened.close()
    opened.close()
    with pytest.raises(jido.ConfigError, match="closed"):
        opened.get_run("r1")


def test_a_chain_journals_each_step_with_the_start_of_the_next(store: Store) -> None:
    t = time.time()
    created, row = store.start_run(
        new_run("r1", created_at=t - 1), owner="a", lease_until=t + 30, attempt=("0", 1)
    )
    assert created
    assert row.attempts == 1
    for k in range(3):
        nxt = [(str(k + 1), 1)] if k < 2 else []
        assert store.step_succeeded("r1", str(k), 1, at=t + k, result=k, owner="a", start_next=nxt)
    history = store.get_history("r1")
    assert history is not None
    assert [(a.step_key, a.status, a.started_at) for a in history.attempts] == [
        ("0", "succeeded", row.created_at),
        ("1", "succeeded", t),
        ("2", "succeeded", t + 1),
    ]
    assert history.completed() == {"0": 0, "1": 1, "2": 2}


def test_a_plan_starts_several_steps_at_once(store: Store) -> None:
    started(store, "r1", owner="a")
    t = time.time()
    store.attempt_started("r1", "fetch", 1, at=t, owner="a")
    store.step_succeeded(
        "r1", "fetch", 1, at=t, result=1, owner="a", start_next=[("left", 1), ("right", 1)]
    )
    history = store.get_history("r1")
    assert history is not None
    assert {s.key: s.status for s in history.steps} == {
        "fetch": "succeeded",
        "left": "running",
        "right": "running",
    }


def test_start_next_is_checked(store: Store) -> None:
    started(store, "r1", owner="a")
    with pytest.raises(jido.ConfigError):
        store.step_succeeded("r1", "0", 1, at=1.0, result=1, owner="a", start_next=[("0", 1)])
    with pytest.raises(jido.ConfigError):
        store.step_succeeded("r1", "0", 1, at=1.0, result=1, owner="a", start_next=[("1", "one")])  # type: ignore[list-item]
    assert not store.step_succeeded(
        "r1", "0", 1, at=1.0, result=1, owner="b", start_next=[("1", 1)]
    )
    history = store.get_history("r1")
    assert history is not None
    assert history.attempts == ()


def test_a_second_start_does_not_record_its_first_attempt(store: Store) -> None:
    store.start_run(new_run("r1"), owner="a", lease_until=time.time() + 9, attempt=("", 1))
    created, row = store.start_run(new_run("r1"), owner="b", lease_until=0.0, attempt=("", 2))
    assert not created
    assert row.attempts == 1
