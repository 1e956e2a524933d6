"""Several processes on one store: one execution per run_id, one recoverer per orphan, the
retry schedule carried over a crash, and a cancel from another process stopping CPU-bound
work.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import jido
from durable import durable_actions as da
from durable.durable_helpers import LEASE, counts, orphaned, read_json, store_of, wait_for
from durable.zygote import Zygote


def test_one_run_id_started_by_several_processes_at_once_executes_once(
    zygote: Zygote, drt: jido.Runtime, store_url: str, tmp_path: Path, log: str
) -> None:
    go = tmp_path / "go"
    n = 4
    ready = [tmp_path / f"ready-{i}" for i in range(n)]
    results = [tmp_path / f"result-{i}.json" for i in range(n)]
    children = [
        zygote.fork(
            "start_and_report",
            url=store_url,
            lease=LEASE,
            run_id="only-once",
            log=log,
            seconds=0.5,
            result=str(results[i]),
            go=str(go),
            ready=str(ready[i]),
        )
        for i in range(n)
    ]
    wait_for(lambda: all(r.exists() for r in ready), "every starter ready", 60, *children)
    go.touch()
    for child in children:
        child.wait(60)
    outcomes = [read_json(r) for r in results]
    assert all(o["ok"] for o in outcomes), outcomes
    assert all(o["value"] == {"slept": 0.5} for o in outcomes), outcomes
    assert counts(log) == {"only-once": 1}
    info = drt.runs.get("only-once")
    assert info is not None
    assert info.status == "succeeded"
    assert info.attempts == 1


def test_racing_recoverers_resume_each_orphan_exactly_once(
    zygote: Zygote, drt: jido.Runtime, store_url: str, tmp_path: Path, log: str
) -> None:
    ids = [f"orphan-{i}" for i in range(10)]
    victim = zygote.fork(
        "orphan_many", url=store_url, lease=LEASE, ids=ids, log=log, ready=str(tmp_path / "held")
    )
    wait_for((tmp_path / "held").exists, "ten runs started", 60, victim)
    victim.kill()
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{i}" for i in range(3)]
    results = [tmp_path / f"result-{i}.json" for i in range(3)]
    recoverers = [
        zygote.fork(
            "recover_all",
            url=store_url,
            lease=LEASE,
            go=str(go),
            result=str(results[i]),
            ready=str(ready[i]),
        )
        for i in range(3)
    ]
    wait_for(lambda: all(r.exists() for r in ready), "every recoverer ready", 60, *recoverers)
    for run_id in ids:
        orphaned(drt, run_id)
    go.touch()
    for child in recoverers:
        child.wait(90)
    reports = [read_json(r) for r in results]
    claimed = [run_id for r in reports for run_id in r["claimed"]]
    assert sorted(claimed) == sorted(ids), reports  # every orphan, none twice
    for r in reports:
        for run_id, out in r["outcomes"].items():
            assert out == {"ok": True, "value": {"attempt": 2}}, (run_id, out)
    by_run = {run_id: [e for e in da.executions(log) if e["key"] == run_id] for run_id in ids}
    owner = {run_id: r["pid"] for r in reports for run_id in r["claimed"]}
    for run_id, found in by_run.items():
        assert [e["attempt"] for e in found] == [1, 2], found
        assert [e["pid"] for e in found] == [victim.pid, owner[run_id]], found
        info = drt.runs.get(run_id)
        assert info is not None
        assert info.status == "succeeded"
        assert [s.status for s in info.steps] == ["succeeded"]


@pytest.mark.parametrize("kind", ["action", "chain"])
def test_a_run_killed_during_its_backoff_resumes_at_the_next_attempt_on_schedule(
    zygote: Zygote, drt: jido.Runtime, store_url: str, log: str, kind: str
) -> None:
    backoff = 3.0
    victim = zygote.fork(
        "retry_victim",
        url=store_url,
        lease=LEASE,
        run_id="retry",
        log=log,
        backoff=backoff,
        kind=kind,
    )
    store = store_of(drt)

    def retrying() -> bool:
        row = store.get_run("retry")
        return row is not None and row.status == "retrying"

    wait_for(retrying, "the first attempt failed", 60, victim)
    row = store.get_run("retry")
    assert row is not None
    assert row.next_retry_at is not None
    failed_at = row.updated_at
    assert abs(row.next_retry_at - (failed_at + backoff)) < 0.1
    wait_for(lambda: time.time() > failed_at + 1.5, "half the backoff passed")
    victim.kill()
    orphaned(drt, "retry")
    resumed_at = time.time()
    out = drt.runs.resume("retry").result(timeout=30)
    assert out["attempt"] == 2
    flaky = [e for e in da.executions(log) if e["key"] in ("retry", "retry/1")]
    first, second = flaky
    assert (first["attempt"], first["pid"]) == (1, victim.pid)
    assert second["attempt"] == 2, "the resumed run started its attempts over"
    assert second["t"] >= row.next_retry_at - 0.05, "the rest of the backoff was not waited"
    fresh = resumed_at + backoff  # where a backoff started over would end
    assert second["t"] < row.next_retry_at + 1.0 < fresh, (
        f"attempt 2 at +{second['t'] - failed_at:.2f}s; recorded retry at +{backoff}s, "
        f"resumed at +{resumed_at - failed_at:.2f}s"
    )
    info = drt.runs.get("retry")
    assert info is not None
    assert info.status == "succeeded"
    assert info.attempts == (2 if kind == "action" else 3)
    if kind == "chain":
        assert counts(log)["retry/0"] == 1


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_a_cancel_from_another_process_stops_a_cpu_bound_step(
    zygote: Zygote, drt: jido.Runtime, store_url: str, tmp_path: Path, log: str, isolation: str
) -> None:
    counter = tmp_path / "counter"
    result = tmp_path / "result.json"
    burner = zygote.fork(
        "burner",
        url=store_url,
        lease=10.0,  # the default lease: the owner looks for cancel requests every 0.5 s
        run_id="burn",
        log=log,
        counter=str(counter),
        result=str(result),
        isolation=isolation,
    )

    def count() -> int:
        try:
            return int(counter.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0

    wait_for(lambda: count() > 0, "the step is burning", 60, burner)
    asked = time.time()
    assert drt.runs.cancel("burn") is True
    wait_for(result.exists, "the burner reported its outcome", 30, burner)
    outcome = read_json(result)
    assert outcome["ok"] is False
    assert outcome["type"] == "cancelled", outcome
    last = count()
    stopped_at = float(counter.read_text().split()[1])
    time.sleep(0.3)
    assert count() == last, "the step still runs after its run was cancelled"
    latency = stopped_at - asked
    bound = 1.0 if store_url.startswith("sqlite") else 0.1
    escalation = 2 * drt.stop_timeout + 0.5  # jido's stop escalation (interrupt, then kill)
    where = store_url.partition(":")[0]
    print(f"\n{where}, {isolation}: the step stopped {latency * 1000:.0f} ms after the cancel")
    assert latency < bound + escalation + 0.3, f"stopped {latency:.3f}s after the cancel"
    info = drt.runs.get("burn")
    assert info is not None
    assert info.status == "cancelled"
    assert info.error is not None
    assert info.error["type"] == "cancelled"
    burner.wait(30)
