"""``rt.runs``: get, list (paging, filters), wait, cancel, resume, prune."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

import jido
from durable import durable_actions as da
from durable.durable_helpers import counts, wait_for
from jido.workflow import Plan, chain, chain_async


def test_get_describes_a_chain_and_its_steps(drt: jido.Runtime, log: str) -> None:
    began = datetime.now(UTC)
    out = chain([da.step, da.step], {"value": 0, "log": log}, runtime=drt, run_id="g1")
    info = drt.runs.get("g1")
    assert isinstance(info, jido.RunInfo)
    assert (info.run_id, info.status, info.kind, info.action) == (
        "g1",
        "succeeded",
        "chain",
        "chain",
    )
    assert info.params == {"value": 0, "log": log}
    assert info.result == out
    assert info.attempts == 2
    assert (info.error, info.reason, info.owner) == (None, None, None)
    assert [s.key for s in info.steps] == ["0", "1"]
    assert all(isinstance(s, jido.StepInfo) for s in info.steps)
    assert [(s.status, s.attempts) for s in info.steps] == [("succeeded", 1), ("succeeded", 1)]
    assert info.started_at is not None
    assert info.finished_at is not None
    assert began - timedelta(seconds=1) < info.created_at <= info.finished_at
    assert info.created_at.tzinfo is UTC
    with pytest.raises(AttributeError):
        info.status = "failed"  # type: ignore[misc]
    assert drt.runs.get("unknown") is None


def test_get_shows_the_owner_and_a_running_step(drt: jido.Runtime, log: str) -> None:
    ref = chain_async(
        [da.step, (da.sleepy, {"seconds": 0.6})],
        {"value": 0, "log": log},
        runtime=drt,
        run_id="live",
    )
    wait_for(lambda: len(da.executions(log)) == 2, "the second step started")
    info = drt.runs.get("live")
    assert info is not None
    assert info.status == "running"
    assert info.owner == drt._durable.owner
    assert [(s.key, s.status) for s in info.steps] == [("0", "succeeded"), ("1", "running")]
    assert info.steps[1].finished_at is None
    ref.result(timeout=30)


def test_list_pages_newest_first_with_filters(drt: jido.Runtime, log: str) -> None:
    for i in range(5):
        drt.run(da.step, {"value": i, "log": log}, run_id=f"s{i}")
    with pytest.raises(jido.ExecutionError):
        drt.run(da.broken, {"log": log}, run_id="bad")
    chain([da.step], {"value": 0, "log": log}, runtime=drt, run_id="c")
    Plan().add("x", da.branch).run({"log": log}, runtime=drt, run_id="p")
    everything = drt.runs.list()
    assert isinstance(everything, jido.RunPage)
    assert [r.run_id for r in everything.items] == ["p", "c", "bad", "s4", "s3", "s2", "s1", "s0"]
    assert everything.cursor is None
    assert all(r.steps == () for r in everything.items)

    seen, cursor, pages = [], None, 0
    while True:
        page = drt.runs.list(limit=3, cursor=cursor)
        pages += 1
        seen += [r.run_id for r in page.items]
        if page.cursor is None:
            break
        cursor = page.cursor
    assert seen == [r.run_id for r in everything.items]
    assert pages == 3

    assert [r.run_id for r in drt.runs.list(status="failed").items] == ["bad"]
    both = drt.runs.list(status=["failed", "succeeded"], action="step")
    assert [r.run_id for r in both.items] == ["s4", "s3", "s2", "s1", "s0"]
    assert [r.run_id for r in drt.runs.list(action="chain").items] == ["c"]
    assert [r.run_id for r in drt.runs.list(action="plan").items] == ["p"]
    assert len(drt.runs.list(since=timedelta(minutes=5)).items) == 8
    assert drt.runs.list(since=datetime.now(UTC) + timedelta(minutes=5)).items == ()
    assert len(drt.runs.list(since=time.time() - 300).items) == 8


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": "finished"},
        {"status": ["running", "nope"]},
        {"limit": 0},
        {"cursor": "not-a-cursor"},
        {"since": "yesterday"},
    ],
)
def test_list_refuses_bad_arguments(drt: jido.Runtime, kwargs: dict[str, object]) -> None:
    with pytest.raises(jido.ConfigError):
        drt.runs.list(**kwargs)  # type: ignore[arg-type]


def test_wait_returns_the_result_or_raises_the_error(drt: jido.Runtime, log: str) -> None:
    drt.run(da.step, {"value": 1, "log": log}, run_id="ok")
    assert drt.runs.wait("ok") == {"value": 2}
    with pytest.raises(jido.ExecutionError):
        drt.run(da.broken, {"log": log}, run_id="bad")
    with pytest.raises(jido.ExecutionError, match="broken for good"):
        drt.runs.wait("bad")
    with pytest.raises(jido.InvalidAsyncRefError):
        drt.runs.wait("unknown")


def test_wait_timeout_does_not_cancel_the_run(drt: jido.Runtime, log: str) -> None:
    ref = drt.run_async(da.sleepy, {"log": log, "seconds": 0.8}, run_id="slow", timeout=None)
    began = time.monotonic()
    with pytest.raises(jido.TimeoutError):
        drt.runs.wait("slow", timeout=0.1)
    assert time.monotonic() - began < 0.7
    assert drt.runs.wait("slow", timeout=30) == {"slept": 0.8}
    assert ref.result(timeout=1) == {"slept": 0.8}
    info = drt.runs.get("slow")
    assert info is not None
    assert info.status == "succeeded"


def test_cancel_stops_a_running_chain_and_records_it(drt: jido.Runtime, log: str) -> None:
    ref = chain_async(
        [da.step, (da.sleepy, {"seconds": 30.0}), da.step],
        {"value": 0, "log": log},
        runtime=drt,
        run_id="stop-me",
    )
    wait_for(lambda: len(da.executions(log)) == 2, "the long step started")
    began = time.monotonic()
    assert drt.runs.cancel("stop-me") is True
    with pytest.raises(jido.CancelledError):
        ref.result(timeout=10)
    assert time.monotonic() - began < 2.0
    info = drt.runs.get("stop-me")
    assert info is not None
    assert info.status == "cancelled"
    assert info.error is not None
    assert info.error["type"] == "cancelled"
    assert len(da.executions(log)) == 2, "a step ran after the cancel"
    with pytest.raises(jido.CancelledError):
        drt.runs.wait("stop-me")
    assert drt.runs.cancel("stop-me") is False  # already finished


def test_cancel_of_a_single_action_run(drt: jido.Runtime, log: str) -> None:
    ref = drt.run_async(da.sleepy, {"log": log, "seconds": 30.0}, run_id="one", timeout=None)
    wait_for(lambda: len(da.executions(log)) == 1, "the action started")
    assert drt.runs.cancel("one") is True
    with pytest.raises(jido.CancelledError):
        ref.result(timeout=10)
    info = drt.runs.get("one")
    assert info is not None
    assert info.status == "cancelled"


def test_cancel_of_an_unknown_or_finished_run(drt: jido.Runtime, log: str) -> None:
    with pytest.raises(jido.InvalidAsyncRefError):
        drt.runs.cancel("unknown")
    drt.run(da.step, {"value": 0, "log": log}, run_id="done")
    assert drt.runs.cancel("done") is False
    info = drt.runs.get("done")
    assert info is not None
    assert info.status == "succeeded"


def test_cancel_of_an_orphan_cancels_it_at_once(store_url: str, log: str) -> None:
    with jido.Runtime(store=store_url, lease=0.5) as first:
        chain_async(
            [da.step, (da.sleepy, {"seconds": 30.0})],
            {"value": 0, "log": log},
            runtime=first,
            run_id="orphan",
        )
        wait_for(lambda: len(da.executions(log)) == 2, "the long step started")
    with jido.Runtime(store=store_url, lease=0.5) as second:
        assert second.runs.cancel("orphan") is True
        info = second.runs.get("orphan")
        assert info is not None
        assert info.status == "cancelled"
        with pytest.raises(jido.CancelledError):
            second.runs.wait("orphan")
        with pytest.raises(jido.ConfigError):
            second.runs.resume("orphan")


def test_resume_of_a_failed_chain_keeps_its_completed_steps(drt: jido.Runtime, log: str) -> None:
    steps = [da.step, (da.flaky, {"fail_times": 1}), da.step]
    with pytest.raises(jido.ExecutionError, match="attempt 1 fails"):
        chain(steps, {"value": 0, "log": log}, runtime=drt, run_id="again", max_retries=0)
    info = drt.runs.get("again")
    assert info is not None
    assert info.status == "failed"
    out = drt.runs.resume("again").result(timeout=30)
    assert out == {"value": 2, "log": log, "fail_times": 1, "attempt": 2}
    assert counts(log) == {"again/0": 1, "again/1": 2, "again/2": 1}
    info = drt.runs.get("again")
    assert info is not None
    assert info.status == "succeeded"
    assert (info.error, info.finished_at is not None) == (None, True)


def test_resume_refuses_what_it_cannot_resume(drt: jido.Runtime, log: str) -> None:
    with pytest.raises(jido.InvalidAsyncRefError):
        drt.runs.resume("unknown")
    drt.run(da.step, {"value": 0, "log": log}, run_id="done")
    with pytest.raises(jido.ConfigError, match="succeeded"):
        drt.runs.resume("done")


def test_resume_refuses_a_run_another_process_still_drives(store_url: str, log: str) -> None:
    with jido.Runtime(store=store_url, lease=30.0) as owner, jido.Runtime(store=store_url) as other:
        ref = owner.run_async(da.sleepy, {"log": log, "seconds": 0.5}, run_id="owned", timeout=None)
        with pytest.raises(jido.ConfigError, match="running"):
            other.runs.resume("owned")
        assert ref.result(timeout=30) == {"slept": 0.5}
    assert counts(log) == {"owned": 1}


def test_prune_deletes_old_finished_runs_and_never_unfinished_ones(
    drt: jido.Runtime, log: str
) -> None:
    drt.run(da.step, {"value": 0, "log": log}, run_id="old-ok")
    with pytest.raises(jido.ExecutionError):
        drt.run(da.broken, {"log": log}, run_id="old-bad")
    ref = drt.run_async(da.sleepy, {"log": log, "seconds": 1.0}, run_id="running", timeout=None)
    wait_for(lambda: drt.runs.get("running") is not None, "the run is recorded")
    time.sleep(0.05)
    assert drt.runs.prune(older_than=timedelta(hours=1)) == 0
    assert drt.runs.prune(older_than=0) == 2
    assert drt.runs.get("old-ok") is None
    assert drt.runs.get("old-bad") is None
    assert drt.runs.get("running") is not None
    assert ref.result(timeout=30) == {"slept": 1.0}
    with pytest.raises(jido.ConfigError):
        drt.runs.prune(older_than=-1)
    with pytest.raises(jido.ConfigError):
        drt.runs.prune(older_than="7d")  # type: ignore[arg-type]


def test_runs_needs_a_store() -> None:
    with jido.Runtime(store=None) as rt, pytest.raises(jido.ConfigError, match="no store"):
        rt.runs.get("x")
    with jido.Runtime(store=None) as rt, pytest.raises(jido.ConfigError, match="no store"):
        rt.recover()


def test_resume_of_a_run_driven_here_returns_its_handle(drt: jido.Runtime, log: str) -> None:
    ref = drt.run_async(da.sleepy, {"log": log, "seconds": 0.5}, run_id="here", timeout=None)
    wait_for(lambda: len(da.executions(log)) == 1, "the action started")
    assert drt.runs.resume("here") is ref
    assert ref.result(timeout=30) == {"slept": 0.5}
    assert counts(log) == {"here": 1}


def test_a_durable_chain_compensates_and_is_not_resumed_over_undone_steps(
    drt: jido.Runtime, log: str
) -> None:
    with pytest.raises(jido.ExecutionError) as err:
        chain([da.Reserve, da.broken], {"log": log}, runtime=drt, run_id="saga", compensate=True)
    saga = err.value.details["saga"]
    assert [(r["step"], r["status"]) for r in saga] == [(0, "compensated")]
    assert counts(log) == {"saga/0": 1, "saga/1": 1, "undo": 1}
    info = drt.runs.get("saga")
    assert info is not None
    assert info.status == "failed"
    assert info.error is not None
    assert info.error["details"]["saga"][0]["status"] == "compensated"
    with pytest.raises(jido.ConfigError, match="compensated"):
        drt.runs.resume("saga")
    assert counts(log) == {"saga/0": 1, "saga/1": 1, "undo": 1}
