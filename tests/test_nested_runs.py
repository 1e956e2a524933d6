"""Nested runs never deadlock or starve, whatever ``max_threads`` is; a parent's cancel
reaches its nested runs as ``reason="parent"``, every time.

A worker blocked waiting for a run (``jido.run`` of a nested run, ``await_``,
``ref.result``, a chain) lends its slot: the pool may run one more worker meanwhile, and
nested runs that must wait are served before other queued work.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import jido
from actions import Probe, coop_sleep
from support import Stopwatch, wait_until

BOUND = 10.0


@jido.action
def child() -> dict[str, Any]:
    time.sleep(0.1)
    return {"child": True}


@jido.action
def parent() -> dict[str, Any]:
    return jido.run(child, timeout=2)


def _outcomes(refs: list[jido.AsyncRef]) -> collections.Counter[Any]:
    seen: collections.Counter[Any] = collections.Counter()
    for ref in refs:
        try:
            ref.result(BOUND)
            seen["ok"] += 1
        except jido.JidoError as exc:
            seen[(exc.type, exc.details.get("stop"))] += 1
    return seen


def test_issue_reproducer_a_hundred_parents_each_running_a_child() -> None:
    with Stopwatch() as sw:
        refs = [jido.run_async(parent, timeout=2) for _ in range(100)]
        assert _outcomes(refs) == {"ok": 100}
    assert sw.elapsed < BOUND


@pytest.mark.parametrize("max_threads", [1, 2])
def test_issue_reproducer_more_nesting_parents_than_threads(max_threads: int) -> None:
    with jido.Runtime(name="nest", max_threads=max_threads) as rt:

        @jido.action
        def local_parent() -> dict[str, Any]:
            return rt.run(child, timeout=2)

        refs = [rt.run_async(local_parent, timeout=2) for _ in range(4)]
        assert _outcomes(refs) == {"ok": 4}
        assert wait_until(lambda: rt.stats()["threads"] <= max_threads)  # back within bounds


def test_deep_nesting_on_a_single_thread() -> None:
    with jido.Runtime(name="deep", max_threads=1) as rt:

        @jido.action
        def level(depth: int) -> dict[str, Any]:
            if depth == 0:
                return {"depth": 0}
            inner = rt.run(level, {"depth": depth - 1}, timeout=5)
            return {"depth": inner["depth"] + 1}

        assert rt.run(level, {"depth": 6}, timeout=5) == {"depth": 6}


def test_a_parent_awaiting_many_children_on_one_thread() -> None:
    with jido.Runtime(name="fanout", max_threads=1) as rt:

        @jido.action
        def fan_out(n: int) -> dict[str, Any]:
            refs = [rt.run_async(child, timeout=2) for _ in range(n)]
            return {"done": sum(1 for ref in refs if jido.await_(ref, timeout=5)["child"])}

        with Stopwatch() as sw:
            assert rt.run(fan_out, {"n": 8}, timeout=5) == {"done": 8}
        assert sw.elapsed < BOUND


def test_a_parent_running_a_sync_chain_on_one_thread() -> None:
    with jido.Runtime(name="chained", max_threads=1) as rt:

        @jido.action
        def with_chain() -> dict[str, Any]:
            return jido.chain([child, child], runtime=rt)

        refs = [rt.run_async(with_chain, timeout=5) for _ in range(3)]
        assert _outcomes(refs) == {"ok": 3}


def test_nested_runs_go_before_queued_top_level_work() -> None:
    """A child of a running parent is not stuck behind unrelated queued runs."""
    with jido.Runtime(name="urgent", max_threads=1) as rt:
        started = threading.Event()

        @jido.action
        def waiting_parent() -> dict[str, Any]:
            started.set()
            time.sleep(0.1)  # meanwhile the queue fills up with slow top-level runs
            with Stopwatch() as sw:
                rt.run(child, timeout=2)
            return {"child_waited": sw.elapsed}

        top = rt.run_async(waiting_parent, timeout=5)
        assert started.wait(BOUND)
        backlog = [rt.run_async(child, timeout=5) for _ in range(10)]
        assert top.result(BOUND)["child_waited"] < 0.5  # not 10 x 0.1 s behind the backlog
        assert _outcomes(backlog) == {"ok": 10}


def test_lent_slots_are_given_back() -> None:
    with jido.Runtime(name="lend", max_threads=2) as rt:

        @jido.action
        def nests() -> dict[str, Any]:
            return rt.run(child, timeout=2)

        refs = [rt.run_async(nests, timeout=5) for _ in range(20)]
        assert _outcomes(refs) == {"ok": 20}
        assert wait_until(lambda: rt.stats()["threads"] <= 2)
        assert rt.stats()["queued"] == 0


# -- a parent's cancel reaches its nested runs as "parent" -----------------------------------------
REASONS: list[str | None] = []


@jido.action
def fast() -> dict[str, Any]:
    return {}


@jido.action
def recording_step(context: dict[str, Any]) -> dict[str, Any]:
    context["probe"].enter()
    try:
        jido.current().sleep(5)
    finally:
        reason = jido.current().cancel_reason
        REASONS.append(None if reason is None else reason.value)
    return {}


@jido.action
async def async_outer(context: dict[str, Any]) -> dict[str, Any]:
    return await jido.workflow.achain([fast, recording_step], context=context)


@jido.action
def sync_outer(context: dict[str, Any]) -> dict[str, Any]:
    return jido.chain([fast, recording_step], context=context)


@pytest.fixture
def reasons() -> Iterator[list[str | None]]:
    REASONS.clear()
    yield REASONS
    REASONS.clear()


@pytest.mark.parametrize("outer", [async_outer, sync_outer], ids=["async", "sync"])
def test_issue_reproducer_a_cancelled_chain_step_always_reports_parent(
    reasons: list[str | None], outer: Any
) -> None:
    runs = 24
    for _ in range(runs):
        probe = Probe()
        ref = jido.run_async(outer, None, {"probe": probe}, timeout=10)
        assert probe.started.wait(BOUND)
        ref.cancel()
        with pytest.raises(jido.CancelledError):
            ref.result(timeout=BOUND)
    assert wait_until(lambda: len(reasons) == runs, timeout=BOUND)
    assert collections.Counter(reasons) == {"parent": runs}


def test_a_nested_run_stopped_by_its_parents_timeout_says_parent() -> None:
    seen: list[str | None] = []

    @jido.action
    def inner() -> dict[str, Any]:
        try:
            jido.current().sleep(5)
        finally:
            reason = jido.current().cancel_reason
            seen.append(None if reason is None else reason.value)
        return {}

    @jido.action
    def outer() -> dict[str, Any]:
        return jido.run(inner, timeout=5)

    with pytest.raises(jido.TimeoutError):
        jido.run(outer, timeout=0.2, max_retries=0)
    assert wait_until(lambda: seen == ["parent"])


def test_coop_sleep_child_of_cancelled_parent_stops_fast() -> None:
    probe = Probe()

    @jido.action
    def outer() -> dict[str, Any]:
        return jido.run(coop_sleep, {"seconds": 5}, {"probe": probe}, timeout=5)

    ref = jido.run_async(outer, timeout=5)
    assert probe.started.wait(BOUND)
    with Stopwatch() as sw:
        ref.cancel()
    assert sw.elapsed < 1.0
    assert probe.finished.wait(BOUND)
