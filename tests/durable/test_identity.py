"""Identity and exactly-once results: run_id on every entry point, finished runs answered
from the store, runs in flight joined (in this process and from another), idempotency keys.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

import jido
import jido.telemetry
from durable import durable_actions as da
from durable.durable_helpers import LEASE, counts
from durable.zygote import Zygote
from jido.workflow import Plan, achain, chain, chain_async


def _params(log: str) -> dict[str, Any]:
    return {"value": 0, "log": log}


def _plan() -> Plan:
    return Plan().add("a", da.branch).add("b", da.branch, depends_on="a")


ENTRY_POINTS = [
    "run",
    "arun",
    "run_async",
    "chain",
    "achain",
    "chain_async",
    "plan.run",
    "plan.arun",
    "plan.run_async",
]


def _start(rt: jido.Runtime, how: str, log: str, run_id: str | None) -> Any:
    """Start through entry point ``how`` and return its outcome."""
    steps = [da.step, da.step]
    if how == "run":
        return rt.run(da.step, _params(log), run_id=run_id)
    if how == "arun":
        return asyncio.run(rt.arun(da.step, _params(log), run_id=run_id))
    if how == "run_async":
        return rt.run_async(da.step, _params(log), run_id=run_id).result(timeout=30)
    if how == "chain":
        return chain(steps, _params(log), runtime=rt, run_id=run_id)
    if how == "achain":
        return asyncio.run(achain(steps, _params(log), runtime=rt, run_id=run_id))
    if how == "chain_async":
        return chain_async(steps, _params(log), runtime=rt, run_id=run_id).result(timeout=30)
    if how == "plan.run":
        return _plan().run({"log": log}, runtime=rt, run_id=run_id)
    if how == "plan.arun":
        return asyncio.run(_plan().arun({"log": log}, runtime=rt, run_id=run_id))
    assert how == "plan.run_async"
    return _plan().run_async({"log": log}, runtime=rt, run_id=run_id).result(timeout=30)


def _expected(how: str, log: str) -> Any:
    if how.startswith("plan"):
        return {"a": {"m_a": True, "seen": 0}, "b": {"m_b": True, "seen": 1}}
    if how in ("chain", "achain", "chain_async"):
        return {"value": 2, "log": log}
    return {"value": 1}


@pytest.mark.parametrize("how", ENTRY_POINTS)
def test_every_entry_point_records_its_run_under_the_given_run_id(
    drt: jido.Runtime, log: str, how: str
) -> None:
    first = _start(drt, how, log, f"order-{how}")
    assert first == _expected(how, log)
    info = drt.runs.get(f"order-{how}")
    assert info is not None
    assert info.status == "succeeded"
    kind = "plan" if how.startswith("plan") else "chain" if "chain" in how else "action"
    assert info.kind == kind
    ran = len(da.executions(log))
    again = _start(drt, how, log, f"order-{how}")
    assert again == first
    assert type(again) is type(first)
    assert len(da.executions(log)) == ran, "a finished run ran again"


@pytest.mark.parametrize("how", ["run_async", "chain_async", "plan.run_async"])
def test_a_run_without_run_id_gets_one_it_is_recorded_under(
    drt: jido.Runtime, log: str, how: str
) -> None:
    steps = [da.step, da.step]
    if how == "run_async":
        ref = drt.run_async(da.step, _params(log))
    elif how == "chain_async":
        ref = chain_async(steps, _params(log), runtime=drt)
    else:
        ref = _plan().run_async({"log": log}, runtime=drt)
    ref.result(timeout=30)
    info = drt.runs.get(ref.run_id)
    assert info is not None
    assert info.status == "succeeded"


def test_generated_run_ids_differ_between_forked_processes(
    zygote: Zygote, store_url: str, tmp_path: Path, drt: jido.Runtime
) -> None:
    """Processes forked from one parent (a pre-fork server) never share a generated id."""
    results = [str(tmp_path / f"r{i}.json") for i in range(4)]
    children = [
        zygote.fork("generated_id", url=store_url, lease=LEASE, log=str(tmp_path / "l"), result=r)
        for r in results
    ]
    for c in children:
        c.wait(60)
    ids = [_read(r)["run_id"] for r in results]
    assert len(set(ids)) == len(ids), ids
    assert all(drt.runs.get(i) is not None for i in ids)


def _read(path: str) -> Any:
    import json

    return json.loads(Path(path).read_text())


@pytest.mark.parametrize("kind", ["action", "chain", "plan"])
def test_a_failed_run_raises_its_recorded_error_without_running(
    drt: jido.Runtime, log: str, kind: str
) -> None:
    def start() -> Any:
        if kind == "action":
            return drt.run(da.broken, {"log": log}, run_id="bad")
        if kind == "chain":
            return chain([da.step, da.broken], _params(log), runtime=drt, run_id="bad")
        return Plan().add("x", da.broken).run({"log": log}, runtime=drt, run_id="bad")

    with pytest.raises(jido.ExecutionError) as first:
        start()
    ran = len(da.executions(log))
    with pytest.raises(jido.ExecutionError) as second:
        start()
    assert len(da.executions(log)) == ran
    assert "broken for good" in second.value.message
    assert second.value.message == first.value.message
    assert second.value.retryable is False
    info = drt.runs.get("bad")
    assert info is not None
    assert info.status == "failed"
    assert info.error is not None
    assert info.error["type"] == "execution_error"


def test_a_run_in_flight_in_this_process_is_joined(drt: jido.Runtime, log: str) -> None:
    params = {"log": log, "seconds": 0.5}
    first = drt.run_async(da.sleepy, params, run_id="join-me", timeout=None)
    second = drt.run_async(da.sleepy, params, run_id="join-me", timeout=None)
    third = drt.run(da.sleepy, params, run_id="join-me", timeout=None)
    assert first.result(timeout=30) == second.result(timeout=30) == third == {"slept": 0.5}
    assert counts(log) == {"join-me": 1}


def test_a_chain_in_flight_in_another_process_is_joined(
    zygote: Zygote, drt: jido.Runtime, store_url: str, log: str
) -> None:
    child = zygote.fork(
        "hold_chain", url=store_url, lease=LEASE, run_id="held", log=log, seconds=1.5
    )
    deadline = time.monotonic() + 30
    while len(da.executions(log)) < 2:  # the sleeping step has started over there
        assert time.monotonic() < deadline, child.output()
        time.sleep(0.01)
    steps = [da.step, (da.sleepy, {"seconds": 1.5}), da.step]
    began = time.monotonic()
    joined = chain(steps, {"value": 0, "log": log}, runtime=drt, run_id="held")
    assert time.monotonic() - began > 0.3, "returned before the other process finished"
    assert joined == {"value": 2, "log": log, "seconds": 1.5, "slept": 1.5}
    child.wait(30)
    assert sorted(counts(log).values()) == [1, 1, 1], counts(log)
    assert {e["pid"] for e in da.executions(log)} == {child.pid}


def test_idempotency_keys(drt: jido.Runtime, log: str) -> None:
    assert drt.run(da.keyed, {"log": log}, run_id="k1") == {"key": "k1"}
    out = chain([da.keyed, da.keyed], {"log": log}, runtime=drt, run_id="k2")
    assert out["key"] == "k2/1"
    plan = Plan().add("charge", da.keyed).add("mail", da.keyed, depends_on="charge")
    result = plan.run({"log": log}, runtime=drt, run_id="k3")
    assert result["charge"] == {"key": "k3/charge"}
    assert result["mail"] == {"key": "k3/mail"}
    assert [e["key"] for e in da.executions(log)] == ["k1", "k2/0", "k2/1", "k3/charge", "k3/mail"]


def test_idempotency_key_is_stable_across_retries(drt: jido.Runtime, log: str) -> None:
    with jido.testing.no_backoff():
        drt.run(da.flaky, {"log": log, "fail_times": 2}, run_id="retry-key", max_retries=3)
    assert [(e["key"], e["attempt"]) for e in da.executions(log)] == [
        ("retry-key", 1),
        ("retry-key", 2),
        ("retry-key", 3),
    ]


def test_one_run_id_started_from_many_threads_executes_once(drt: jido.Runtime, log: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def start(_: int) -> Any:
        return drt.run(da.sleepy, {"log": log, "seconds": 0.3}, run_id="threads", timeout=None)

    seen: list[str] = []
    with jido.telemetry.attached(lambda e: seen.append(e.name), events=["run."]):
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(start, range(8)))
    assert results == [{"slept": 0.3}] * 8
    assert counts(log) == {"threads": 1}
    assert seen.count("run.start") == seen.count("run.stop") >= 1, "a run that never ends"
