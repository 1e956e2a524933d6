"""Who drives a run when its owner goes away: a starter or a joiner takes over an orphan, a
cancel asked of a dying owner is honoured by whoever resumes the run, and an owner that
lost its run stops driving it. Also: cancel from another process through a joined handle.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

import jido
from durable import durable_actions as da
from durable.durable_helpers import LEASE, counts, orphaned, store_of, wait_for
from durable.zygote import Zygote
from jido.workflow import chain, chain_async

HELD = [da.step, (da.sleepy, {"seconds": 1.5}), da.step]


def _hold(zygote: Zygote, url: str, log: str, lease: float = LEASE, seconds: float = 1.5) -> Any:
    """A child driving ``HELD`` under run id ``held``, once its long step has started."""
    child = zygote.fork("hold_chain", url=url, lease=lease, run_id="held", log=log, seconds=seconds)
    wait_for(lambda: len(da.executions(log)) >= 2, "the long step started", 60, child)
    return child


def test_starting_an_orphaned_run_id_takes_it_over(store_url: str, log: str) -> None:
    steps = [da.step, (da.hang_once, {"seconds": 1.0}), da.step]
    with jido.Runtime(name="first", store=store_url, lease=LEASE) as first:
        chain_async(steps, {"value": 0, "log": log}, runtime=first, run_id="orphan")
        wait_for(lambda: len(da.executions(log)) == 2, "the second step started")
    with jido.Runtime(name="second", store=store_url, lease=LEASE) as second:
        out = chain(steps, {"value": 0, "log": log}, runtime=second, run_id="orphan")
    assert out == {"value": 2, "log": log, "seconds": 1.0, "attempt": 2}
    assert counts(log) == {"orphan/0": 1, "orphan/1": 2, "orphan/2": 1}


def test_a_joiner_takes_over_when_the_owner_dies(
    zygote: Zygote, drt: jido.Runtime, store_url: str, log: str
) -> None:
    child = _hold(zygote, store_url, log, seconds=30.0)
    steps = [da.step, (da.sleepy, {"seconds": 30.0}), da.step]
    ref = chain_async(steps, {"value": 0, "log": log}, runtime=drt, run_id="held")
    time.sleep(0.2)
    assert not ref.done()
    child.kill()
    began = time.monotonic()
    wait_for(lambda: len(da.executions(log)) >= 3, "the joiner resumed the run", 30)
    assert time.monotonic() - began < 10
    assert drt.runs.cancel("held") is True  # do not wait 30 s for the re-run sleep
    with pytest.raises(jido.CancelledError):
        ref.result(timeout=10)


def test_a_cancel_asked_of_a_dying_owner_is_honoured_on_resume(
    zygote: Zygote, store_url: str, log: str
) -> None:
    child = _hold(zygote, store_url, log, lease=2.0, seconds=30.0)
    child.kill()
    with jido.Runtime(name="second", store=store_url, lease=LEASE) as rt:
        assert rt.runs.cancel("held") is True  # its lease has not expired: a request
        orphaned(rt, "held")
        refs = rt.recover()
        for ref in refs:
            with pytest.raises(jido.CancelledError):
                ref.result(timeout=10)
        info = rt.runs.get("held")
        assert info is not None
        assert info.status == "cancelled"
    assert counts(log) == {"held/0": 1, "held/1": 1}, "a step ran after the cancel"


@pytest.mark.parametrize("how", ["runs.cancel", "joined handle"])
def test_a_chain_in_another_process_is_cancelled_from_here(
    zygote: Zygote, drt: jido.Runtime, store_url: str, log: str, tmp_path: Path, how: str
) -> None:
    child = _hold(zygote, store_url, log, seconds=30.0)
    waited: list[BaseException] = []

    def waiter() -> None:
        try:
            drt.runs.wait("held", timeout=30)
        except BaseException as exc:
            waited.append(exc)

    thread = threading.Thread(target=waiter)
    thread.start()
    began = time.monotonic()
    if how == "runs.cancel":
        assert drt.runs.cancel("held") is True
    else:
        joined = chain_async(HELD, {"value": 0, "log": log}, runtime=drt, run_id="held")
        joined.cancel()
    thread.join(30)
    assert len(waited) == 1
    assert isinstance(waited[0], jido.CancelledError), waited
    assert time.monotonic() - began < 5
    child.wait(30)
    info = drt.runs.get("held")
    assert info is not None
    assert info.status == "cancelled"
    assert counts(log) == {"held/0": 1, "held/1": 1}


def test_an_owner_that_lost_its_run_stops_driving_it(drt: jido.Runtime, log: str) -> None:
    steps = [da.step, (da.sleepy, {"seconds": 0.5}), da.step, da.step]
    ref = chain_async(steps, {"value": 0, "log": log}, runtime=drt, run_id="stolen")
    wait_for(lambda: len(da.executions(log)) == 2, "the second step started")
    store = store_of(drt)
    _steal(store, "stolen")
    with pytest.raises(jido.JidoError):
        ref.result(timeout=10)
    time.sleep(0.3)
    assert counts(log) == {"stolen/0": 1, "stolen/1": 1}, "it went on driving a run it lost"
    row = store.get_run("stolen")
    assert row is not None
    assert (row.status, row.owner) == ("running", "thief")


def _steal(store: Any, run_id: str) -> None:
    """Another owner takes the run over (as after a lease expired unnoticed)."""
    sql = "UPDATE jido_runs SET owner = 'thief', lease_until = ? WHERE run_id = ?"
    until = time.time() + 60
    if store.dialect == "sqlite":
        store._tx(lambda db: db.execute(sql, (until, run_id)))
    else:
        with store._conn() as conn:
            conn.execute(sql.replace("?", "%s"), (until, run_id))


def test_a_plan_with_failures_answers_with_the_same_result(drt: jido.Runtime, log: str) -> None:
    from jido.workflow import Plan

    plan = (
        Plan().add("ok", da.branch).add("bad", da.broken).add("after", da.branch, depends_on="bad")
    )
    first = plan.run({"log": log}, runtime=drt, run_id="mixed", fail_fast=False)
    again = plan.run({"log": log}, runtime=drt, run_id="mixed", fail_fast=False)
    assert type(again) is type(first)
    assert dict(again) == dict(first) == {"ok": {"m_ok": True, "seen": 0}}
    assert again.skipped == first.skipped == ("after",)
    assert list(again.errors) == ["bad"]
    assert type(again.errors["bad"]) is jido.ExecutionError
    assert again.errors["bad"].message == first.errors["bad"].message
    assert counts(log) == {"mixed/ok": 1, "mixed/bad": 1}


def test_steps_in_child_processes_are_journaled(drt: jido.Runtime, log: str) -> None:
    assert drt.run(da.step, {"value": 0, "log": log}, run_id="p1", isolation="process") == {
        "value": 1
    }
    out = chain(
        [da.step, da.step], {"value": 0, "log": log}, runtime=drt, run_id="p2", isolation="process"
    )
    assert out["value"] == 2
    info = drt.runs.get("p2")
    assert info is not None
    assert [s.status for s in info.steps] == ["succeeded", "succeeded"]


def test_async_steps_resume(store_url: str, log: str) -> None:
    steps = [da.astep, (da.hang_once, {"seconds": 1.0}), da.astep]
    with jido.Runtime(name="first", store=store_url, lease=LEASE) as first:
        chain_async(steps, {"value": 0, "log": log}, runtime=first, run_id="async")
        wait_for(lambda: len(da.executions(log)) == 2, "the second step started")
    with jido.Runtime(name="second", store=store_url, lease=LEASE) as second:
        (ref,) = second.recover()
        assert ref.result(timeout=30)["value"] == 2
    assert counts(log) == {"async/0": 1, "async/1": 2, "async/2": 1}


def test_waiting_on_a_run_elsewhere_watches_it_once(
    zygote: Zygote, drt: jido.Runtime, store_url: str, log: str
) -> None:
    child = _hold(zygote, store_url, log, seconds=3.0)
    before = threading.active_count()
    for _ in range(20):
        with pytest.raises(jido.TimeoutError):
            drt.runs.wait("held", timeout=0.01)
    assert threading.active_count() <= before + 1, "a polling thread per wait"
    assert drt.runs.wait("held", timeout=30)["value"] == 2
    child.wait(30)


def test_waiting_never_takes_an_orphan_over(store_url: str, log: str) -> None:
    with jido.Runtime(name="first", store=store_url, lease=LEASE) as first:
        first.run_async(da.hang_once, {"log": log, "seconds": 1.0}, run_id="orphan", timeout=None)
        wait_for(lambda: len(da.executions(log)) == 1, "the action started")
    with jido.Runtime(name="second", store=store_url, lease=LEASE) as second:
        with pytest.raises(jido.TimeoutError):
            second.runs.wait("orphan", timeout=1.0)
        info = second.runs.get("orphan")
        assert info is not None
        assert info.owner != second._durable.owner
        assert counts(log) == {"orphan": 1}
        (ref,) = second.recover()
        assert second.runs.wait("orphan", timeout=30) == {"attempt": 2}
        assert ref.result(timeout=1) == {"attempt": 2}


def test_cancel_during_a_backoff(drt: jido.Runtime, log: str) -> None:
    ref = drt.run_async(
        da.flaky, {"log": log, "fail_times": 5}, run_id="backing-off", max_retries=5, backoff=30
    )
    wait_for(lambda: (drt.runs.get("backing-off") or da).status == "retrying", "a retry is due")
    began = time.monotonic()
    assert drt.runs.cancel("backing-off") is True
    with pytest.raises(jido.CancelledError):
        ref.result(timeout=10)
    assert time.monotonic() - began < 2
    info = drt.runs.get("backing-off")
    assert info is not None
    assert info.status == "cancelled"
    assert counts(log) == {"backing-off": 1}
