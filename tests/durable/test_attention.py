"""A definition that changed, or actions that cannot be imported, park a run in
``needs_attention`` with the reason; ``rt.runs.resume`` after the fix runs it on.
Also: a runtime's shutdown leaves its runs resumable by another runtime.
"""

from __future__ import annotations

from typing import Any

import pytest

import jido
from durable import durable_actions as da
from durable.durable_helpers import LEASE, counts, sql, wait_for
from jido.workflow import Plan, chain_async


@jido.action
def step_new_schema(value: int, log: str, pause: float = 0.0, extra: int = 0) -> dict[str, Any]:
    """:func:`durable_actions.step` with another params schema (same version)."""
    da.record(log)
    return {"value": value + 1}


def _orphan_chain(url: str, log: str, run_id: str) -> None:
    """A chain whose first step completed and whose second ran when its runtime shut down."""
    with jido.Runtime(name="first", store=url, lease=LEASE) as first:
        chain_async(
            [da.step, (da.hang_once, {"seconds": 1.0}), da.step],
            {"value": 0, "log": log},
            runtime=first,
            run_id=run_id,
        )
        wait_for(lambda: len(da.executions(log)) == 2, "the second step started")


CHANGES = {
    "version": (lambda mp: mp.setattr(da, "step", da.step_v2), "version"),
    "schema": (lambda mp: mp.setattr(da, "step", step_new_schema), "schema"),
    "missing": (lambda mp: mp.delattr(da, "step"), "cannot be loaded"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_changed_chain_needs_attention_until_fixed(
    store_url: str, log: str, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    _orphan_chain(store_url, log, "changed")
    alter, reason = CHANGES[change]
    with jido.Runtime(name="second", store=store_url, lease=LEASE) as rt:
        alter(monkeypatch)
        refs = rt.recover()
        assert [r.run_id for r in refs] == ["changed"]
        with pytest.raises(jido.ExecutionError, match="needs attention") as err:
            refs[0].result(timeout=10)
        assert err.value.details["status"] == "needs_attention"
        info = rt.runs.get("changed")
        assert info is not None
        assert info.status == "needs_attention"
        assert info.reason is not None
        assert reason in info.reason
        assert info.owner is None
        assert rt.recover() == [], "a parked run is not an orphan"
        with pytest.raises(jido.ExecutionError, match="needs attention"):
            rt.runs.wait("changed")
        assert rt.runs.prune(older_than=0) == 0, "an unfinished run was pruned"
        monkeypatch.undo()
        out = rt.runs.resume("changed").result(timeout=30)
    assert out == {"value": 2, "log": log, "seconds": 1.0, "attempt": 2}
    assert counts(log) == {"changed/0": 1, "changed/1": 2, "changed/2": 1}


def test_a_changed_single_action_needs_attention_until_fixed(
    store_url: str, log: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with jido.Runtime(name="first", store=store_url, lease=LEASE) as first:
        first.run_async(da.hang_once, {"log": log, "seconds": 1.0}, run_id="single", timeout=None)
        wait_for(lambda: len(da.executions(log)) == 1, "the action started")
    with jido.Runtime(name="second", store=store_url, lease=LEASE) as rt:
        monkeypatch.setattr(da, "hang_once", da.step_v2)
        (ref,) = rt.recover()
        with pytest.raises(jido.ExecutionError, match="needs attention"):
            ref.result(timeout=10)
        info = rt.runs.get("single")
        assert info is not None
        assert info.status == "needs_attention"
        assert info.reason is not None
        assert "version" in info.reason or "changed" in info.reason
        with pytest.raises(jido.ExecutionError, match="needs attention"):
            rt.run(da.hang_once, {"log": log, "seconds": 1.0}, run_id="single")
        monkeypatch.undo()
        assert rt.runs.resume("single").result(timeout=30) == {"attempt": 2}


def test_a_parked_run_can_be_cancelled(
    store_url: str, log: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _orphan_chain(store_url, log, "parked")
    with jido.Runtime(name="second", store=store_url, lease=LEASE) as rt:
        monkeypatch.delattr(da, "step")
        (ref,) = rt.recover()
        with pytest.raises(jido.ExecutionError):
            ref.result(timeout=10)
        assert rt.runs.cancel("parked") is True
        info = rt.runs.get("parked")
        assert info is not None
        assert info.status == "cancelled"


def test_shutdown_leaves_runs_resumable_by_another_runtime(store_url: str, log: str) -> None:
    plan = (
        Plan()
        .add("a", da.branch)
        .add("slow", da.hang_once, {"seconds": 1.0}, depends_on="a")
        .add("z", da.branch, depends_on="slow")
    )
    with jido.Runtime(name="first", store=store_url, lease=30.0) as first:
        plan.run_async({"log": log}, runtime=first, run_id="plan")
        wait_for(lambda: len(da.executions(log)) == 2, "the slow step started")
    with jido.Runtime(name="second", store=store_url, lease=LEASE) as rt:
        info = rt.runs.get("plan")
        assert info is not None
        assert info.status == "running", "a shutdown recorded an outcome"
        (ref,) = rt.recover()  # at once: the first runtime released its lease (30 s)
        result = ref.result(timeout=30)
    assert result["a"] == {"m_a": True, "seen": 0}
    assert result["slow"] == {"attempt": 2}
    assert result["z"]["m_z"] is True
    assert counts(log) == {"plan/a": 1, "plan/slow": 2, "plan/z": 1}


def test_a_runtime_created_with_recover_resumes_orphans_at_start(store_url: str, log: str) -> None:
    with jido.Runtime(name="first", store=store_url, lease=LEASE) as first:
        first.run_async(da.hang_once, {"log": log, "seconds": 1.0}, run_id="boot", timeout=None)
        wait_for(lambda: len(da.executions(log)) == 1, "the action started")
    with jido.Runtime(name="second", store=store_url, lease=LEASE, recover=True) as second:
        assert second.runs.wait("boot", timeout=30) == {"attempt": 2}
    assert counts(log) == {"boot": 2}


def test_a_damaged_definition_parks_that_run_and_recovery_goes_on(store_url: str, log: str) -> None:
    steps = [da.step, (da.hang_once, {"seconds": 1.0})]
    with jido.Runtime(name="first", store=store_url, lease=LEASE) as first:
        for run_id in ("damaged", "fine"):
            chain_async(steps, {"value": 0, "log": log}, runtime=first, run_id=run_id)
        wait_for(lambda: len(da.executions(log)) == 4, "both long steps started")
    sql(
        store_url,
        "UPDATE jido_runs SET definition = ? WHERE run_id = ?",
        '{"steps": "xy"}',
        "damaged",
    )
    with jido.Runtime(name="second", store=store_url, lease=LEASE) as rt:
        refs = {ref.run_id: ref for ref in rt.recover()}
        assert sorted(refs) == ["damaged", "fine"]
        assert refs["fine"].result(timeout=30)["attempt"] == 2
        with pytest.raises(jido.ExecutionError, match="needs attention"):
            refs["damaged"].result(timeout=10)
        info = rt.runs.get("damaged")
        assert info is not None
        assert info.status == "needs_attention"
        assert info.reason is not None
        assert "definition cannot be read" in info.reason
