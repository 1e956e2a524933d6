"""Timeouts against the clock and against the queue.

- ``timeout`` bounds each attempt's execution (start to close): waiting for a free worker
  does not count, and the wait is reported (``details["queued"]``, the ``queued``
  measurement of ``attempt.stop``/``attempt.exception``).
- ``total_timeout`` bounds the whole run, queueing included (``stop="not_started"``).
- Any duration the options accept works: huge values are clamped, no clock overflows,
  and the timer thread keeps enforcing every deadline afterwards.
- The worker pool's books stay exact: abandoned workers are replaced, idle never drifts.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from collections.abc import Iterator
from typing import Any

import pytest

import jido
import jido.telemetry
from actions import Probe, always_fail, async_always_fail, blocked_sleep, coop_sleep, spin, square
from support import Stopwatch, wait_until

BOUND = 5.0
HUGE = [1e10, 2**63, 1e300]


@jido.action
def nap(seconds: float) -> dict[str, Any]:
    time.sleep(seconds)
    return {"slept": seconds}


@jido.action
async def async_square(x: int) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"x": x * x}


@jido.action
def long_token_sleep() -> dict[str, Any]:
    jido.current().sleep(1e10)
    return {}


@pytest.fixture
def trt() -> Iterator[jido.Runtime]:
    with jido.Runtime(name="timeouts", max_threads=4) as runtime:
        yield runtime


# -- any duration works ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", HUGE, ids=["1e10", "2**63", "1e300"])
@pytest.mark.parametrize("option", ["timeout", "total_timeout"])
def test_huge_durations_work_in_every_mode(trt: jido.Runtime, option: str, value: float) -> None:
    opts: dict[str, Any] = {option: value}
    assert trt.run(square, {"x": 3}, **opts) == {"x": 9}
    assert trt.run(async_square, {"x": 3}, **opts) == {"x": 9}
    assert trt.run_async(square, {"x": 3}, **opts).result(BOUND) == {"x": 9}
    assert asyncio.run(trt.arun(async_square, {"x": 3}, **opts)) == {"x": 9}
    assert asyncio.run(trt.arun(square, {"x": 3}, **opts)) == {"x": 9}
    # issue reproducer: afterwards every deadline is still enforced
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError):
        trt.run(spin, None, {"probe": Probe()}, timeout=0.2, max_retries=0)
    assert sw.elapsed < 1.5
    assert trt.stats()["restarts"] == 0


@pytest.mark.parametrize("wait", [*HUGE, math.inf, 10**400], ids=str)
def test_await_accepts_any_wait(trt: jido.Runtime, wait: float) -> None:
    ref = trt.run_async(square, {"x": 4})
    assert jido.await_(ref, timeout=wait) == {"x": 16}
    pending = trt.run_async(coop_sleep, {"seconds": 0.1}, {"probe": Probe()}, timeout=5)
    assert pending.result(timeout=wait) == {"slept": 0.1}


@pytest.mark.parametrize("wait", [math.nan, "5", -1.0, True], ids=repr)
def test_a_wait_that_is_not_a_duration_is_a_config_error(trt: jido.Runtime, wait: Any) -> None:
    ref = trt.run_async(coop_sleep, {"seconds": 0.2}, {"probe": Probe()}, timeout=5)
    with pytest.raises(jido.ConfigError):
        jido.await_(ref, timeout=wait)
    assert ref.result(timeout=BOUND) == {"slept": 0.2}  # the run itself was left alone


def test_a_very_long_token_sleep_still_stops_at_the_deadline(trt: jido.Runtime) -> None:
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        trt.run(long_token_sleep, timeout=0.2, max_retries=0)
    assert sw.elapsed < 1.5
    assert info.value.details["stop"] == "cooperative"


@pytest.mark.parametrize("action", [always_fail, async_always_fail], ids=["sync", "async"])
def test_a_huge_backoff_waits_and_can_still_be_cancelled(trt: jido.Runtime, action: Any) -> None:
    ref = trt.run_async(
        action,
        None,
        {"probe": Probe()},
        timeout=1,
        max_retries=1,
        backoff=1e300,
        max_backoff=1e300,
    )
    time.sleep(0.2)  # the first attempt failed; the retry is scheduled for ~31 years from now
    assert not ref.done()
    with Stopwatch() as sw:
        ref.cancel()
        with pytest.raises(jido.CancelledError) as info:
            ref.result(timeout=BOUND)
    assert sw.elapsed < 1.0
    assert info.value.details["stop"] == "not_started"


# -- waiting for a worker is not the attempt's time -----------------------------------------------
def test_waiting_for_a_free_worker_does_not_count_against_timeout() -> None:
    with jido.Runtime(name="queueing", max_threads=2) as rt:
        with Stopwatch() as sw:
            refs = [rt.run_async(nap, {"seconds": 0.3}, timeout=0.5) for _ in range(6)]
            results = [ref.result(BOUND) for ref in refs]
        assert results == [{"slept": 0.3}] * 6  # the last two waited 0.6 s for a worker
        assert 0.85 < sw.elapsed < BOUND


@pytest.mark.slow
def test_issue_reproducer_a_thousand_concurrent_short_runs_all_succeed() -> None:
    with jido.Runtime(name="thousand") as rt:
        refs = [rt.run_async(nap, {"seconds": 0.1}, timeout=1.0) for _ in range(1000)]
        outcomes = collections.Counter()
        for ref in refs:
            try:
                ref.result(30)
                outcomes["ok"] += 1
            except jido.JidoError as exc:
                outcomes[exc.type] += 1
        assert outcomes == {"ok": 1000}


def test_a_queued_attempt_that_times_out_reports_its_wait() -> None:
    events: list[jido.telemetry.Event] = []
    handler = jido.telemetry.attach(events.append, events=["attempt."])
    try:
        with jido.Runtime(name="waited", max_threads=1) as rt:
            blocker = rt.run_async(nap, {"seconds": 0.4}, timeout=5)
            time.sleep(0.05)
            with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
                rt.run(spin, None, {"probe": Probe()}, timeout=0.2, max_retries=0)
            blocker.result(BOUND)
    finally:
        jido.telemetry.detach(handler)
    details = info.value.details
    assert details["stop"] == "interrupted"  # it ran, then timed out: 0.2 s of execution
    assert details["queued"] >= 0.25
    assert sw.elapsed >= details["queued"] + 0.2
    assert "timed out after 0.2s" in info.value.message
    failed = [e for e in events if e.name == "attempt.exception" and e.action == "spin"]
    assert failed[0].measurements["queued"] == pytest.approx(details["queued"], abs=1e-3)


def test_total_timeout_bounds_queueing_and_says_the_attempt_never_started() -> None:
    with jido.Runtime(name="deadline", max_threads=1) as rt:
        blocker = rt.run_async(nap, {"seconds": 0.6}, timeout=5)
        time.sleep(0.05)
        probe = Probe()
        with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
            rt.run(coop_sleep, {"seconds": 1}, {"probe": probe}, total_timeout=0.2)
        assert sw.elapsed < 0.55
        assert not probe.started.is_set()
        details = info.value.details
        assert details["stop"] == "not_started"
        assert details["stopped"] is True
        assert details["queued"] >= 0.15
        assert "not started" in info.value.message
        blocker.result(BOUND)


# -- the pool's books ------------------------------------------------------------------------
def test_issue_reproducer_abandoned_workers_are_replaced_and_idle_never_drifts() -> None:
    with jido.Runtime(name="books", max_threads=4) as rt:
        refs = [rt.run_async(square, {"x": i}) for i in range(200)]
        assert [ref.result(BOUND)["x"] for ref in refs] == [i * i for i in range(200)]
        stats = rt.stats()
        assert stats["idle"] <= stats["threads"] <= 4
        probes = [Probe() for _ in range(4)]
        for probe in probes:
            with pytest.raises(jido.TimeoutError) as info:
                rt.run(blocked_sleep, {"seconds": 3}, {"probe": probe}, timeout=0.1, max_retries=0)
            assert info.value.details["stop"] == "abandoned"
        stats = rt.stats()
        assert stats["abandoned"] == 4
        assert stats["idle"] <= stats["threads"] <= 4
        with Stopwatch() as sw:
            assert rt.run(square, {"x": 5}, timeout=1) == {"x": 25}
            assert rt.run_async(square, {"x": 6}, timeout=None).result(BOUND) == {"x": 36}
        assert sw.elapsed < 1.0


def test_a_run_queued_behind_an_abandoned_worker_starts_at_once() -> None:
    with jido.Runtime(name="replaced", max_threads=1) as rt:
        stuck = rt.run_async(blocked_sleep, {"seconds": 3}, {"probe": Probe()}, timeout=0.2)
        time.sleep(0.05)
        queued = rt.run_async(square, {"x": 7}, timeout=5)
        with Stopwatch() as sw:
            assert queued.result(BOUND) == {"x": 49}
        assert sw.elapsed < 1.0  # not after the 3 s sleep: a replacement took it
        with pytest.raises(jido.TimeoutError):
            stuck.result(BOUND)


def test_idle_workers_are_reused_not_multiplied(trt: jido.Runtime) -> None:
    for i in range(300):
        assert trt.run(square, {"x": i}, timeout=1) == {"x": i * i}
    stats = trt.stats()
    assert stats["threads"] <= 2  # sequential runs need one worker (two in a race)
    assert wait_until(lambda: trt.stats()["idle"] == trt.stats()["threads"])
    assert trt.stats()["queued"] == 0
