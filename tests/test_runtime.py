"""Runtimes: isolation, context managers, shutdown, stats, and no leaks (issue points 5, 7)."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from typing import Any

import pytest

import actions
import jido
from actions import Probe
from support import Stopwatch, wait_until


def test_runtime_run_arun_run_async() -> None:
    with jido.Runtime(max_threads=4) as rt:
        assert rt.run(actions.square, {"x": 3}) == {"x": 9}
        assert rt.run(actions.async_square, {"x": 3}) == {"x": 9}
        assert rt.run_async(actions.square, {"x": 4}).result(5) == {"x": 16}
        assert asyncio.run(rt.arun(actions.square, {"x": 5})) == {"x": 25}


def test_runtimes_have_their_own_pools() -> None:
    probe = Probe()
    with (
        jido.Runtime(name="one", max_threads=1) as one,
        jido.Runtime(name="two", max_threads=1) as two,
    ):
        blocker = one.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)
        assert probe.started.wait(2)
        # one's only worker is busy; two is not affected
        with Stopwatch() as sw:
            assert two.run(actions.square, {"x": 2}, timeout=1) == {"x": 4}
        assert sw.elapsed < 0.5
        assert one.stats()["in_flight"] == 1
        assert two.stats()["in_flight"] == 0
        assert one.stats()["threads"] == 1
        assert two.stats()["threads"] == 1
        blocker.cancel()


def test_total_timeout_covers_waiting_for_a_free_worker() -> None:
    probe = Probe()
    with jido.Runtime(name="queue", max_threads=1) as rt:
        blocker = rt.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)
        assert probe.started.wait(2)
        with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
            rt.run(actions.square, {"x": 2}, timeout=5, total_timeout=0.2, max_retries=0)
        assert sw.elapsed < 2.0
        details = info.value.details
        assert details["stopped"] is True  # it never started
        assert details["stop"] == "not_started"
        assert "not started" in info.value.message
        blocker.cancel()
        assert rt.run(actions.square, {"x": 2}, timeout=1) == {"x": 4}


def test_cancel_of_a_queued_run_is_immediate_and_it_never_starts() -> None:
    blocker_probe, queued_probe = Probe(), Probe()
    with jido.Runtime(name="queued", max_threads=1) as rt:
        blocker = rt.run_async(
            actions.coop_sleep, {"seconds": 30}, {"probe": blocker_probe}, timeout=30
        )
        assert blocker_probe.started.wait(2)
        queued = rt.run_async(
            actions.coop_sleep, {"seconds": 1}, {"probe": queued_probe}, timeout=30
        )
        with Stopwatch() as sw:
            queued.cancel()
            with pytest.raises(jido.CancelledError) as info:
                queued.result(5)
        assert sw.elapsed < 0.5
        assert info.value.details["stopped"] is True
        blocker.cancel()
        assert rt.run(actions.square, {"x": 2}, timeout=1) == {"x": 4}
        assert queued_probe.attempts == []  # it never ran


def test_shutdown_during_a_backoff_delay_is_prompt() -> None:
    probe = Probe()
    rt = jido.Runtime(name="shutdown-backoff")
    ref = rt.run_async(
        actions.always_fail, None, {"probe": probe}, timeout=5, max_retries=3, backoff=30
    )
    assert wait_until(lambda: len(probe.attempts) == 1, timeout=2)
    with Stopwatch() as sw:
        rt.shutdown()
    assert sw.elapsed < 2.0
    with pytest.raises(jido.CancelledError) as info:
        ref.result(0)
    assert info.value.details["reason"] == "shutdown"
    assert len(probe.attempts) == 1


def test_process_runs_queue_for_a_free_child() -> None:
    with jido.Runtime(name="proc-queue", max_processes=1) as rt:
        refs = [rt.run_async(actions.square, {"x": i}, isolation="process") for i in range(5)]
        assert [r.result(30) for r in refs] == [{"x": i * i} for i in range(5)]
        assert rt.stats()["processes"] == 1


def test_max_threads_limits_concurrency() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    @jido.action
    def busy() -> dict[str, Any]:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        jido.current().sleep(0.05)
        with lock:
            active -= 1
        return {}

    with jido.Runtime(name="limited", max_threads=2) as rt:
        refs = [rt.run_async(busy, timeout=5) for _ in range(8)]
        for ref in refs:
            ref.result(5)
        assert peak <= 2
        assert rt.stats()["threads"] <= 2


def test_context_manager_shuts_down() -> None:
    with jido.Runtime() as rt:
        assert rt.run(actions.square, {"x": 1}) == {"x": 1}
        assert not rt.closed
    assert rt.closed


def test_async_context_manager_shuts_down() -> None:
    async def main() -> jido.Runtime:
        async with jido.Runtime() as rt:
            assert await rt.arun(actions.async_square, {"x": 2}) == {"x": 4}
        return rt

    assert asyncio.run(main()).closed


def test_runs_after_shutdown_are_config_errors() -> None:
    rt = jido.Runtime()
    rt.run(actions.square, {"x": 1})
    rt.shutdown()
    rt.shutdown()  # idempotent
    for timeout in (0, 1.0):
        with pytest.raises(jido.ConfigError):
            rt.run(actions.square, {"x": 1}, timeout=timeout)
    with pytest.raises(jido.ConfigError):
        rt.run(actions.async_square, {"x": 1})
    with pytest.raises(jido.ConfigError):
        rt.run_async(actions.square, {"x": 1}).result(1)
    with pytest.raises(jido.ConfigError):
        asyncio.run(rt.arun(actions.square, {"x": 1}))


@pytest.mark.parametrize(
    ("action", "params"),
    [
        (actions.coop_sleep, {"seconds": 30}),
        (actions.spin, {}),
        (actions.async_sleep, {"seconds": 30}),
    ],
    ids=["thread-coop", "thread-spin", "async"],
)
def test_shutdown_cancels_running_work_and_waits(action: Any, params: dict[str, Any]) -> None:
    probe = Probe()
    rt = jido.Runtime(name="shutdown")
    ref = rt.run_async(action, params, {"probe": probe}, timeout=60)
    assert probe.started.wait(2)
    with Stopwatch() as sw:
        rt.shutdown()
    assert sw.elapsed < 2.0
    assert probe.finished.is_set()  # the work stopped before shutdown returned
    assert ref.done()
    with pytest.raises(jido.CancelledError) as info:
        ref.result(0)
    assert info.value.details["reason"] == "shutdown"
    assert info.value.details["stopped"] is True


def test_shutdown_without_cancel_lets_work_finish() -> None:
    probe = Probe()
    rt = jido.Runtime(name="graceful")
    ref = rt.run_async(actions.coop_sleep, {"seconds": 0.2}, {"probe": probe}, timeout=5)
    assert probe.started.wait(2)
    rt.shutdown(cancel=False)
    assert ref.result(0) == {"slept": 0.2}


def test_shutdown_stops_process_children() -> None:
    rt = jido.Runtime(name="proc-shutdown", max_processes=1)
    pid = rt.run(actions.pid, isolation="process")["pid"]
    ref = rt.run_async(actions.proc_sleep, {"seconds": 30}, isolation="process", timeout=60)
    with Stopwatch() as sw:
        rt.shutdown()
    assert sw.elapsed < 3.0
    assert ref.done()
    with pytest.raises(jido.CancelledError):
        ref.result(0)
    assert wait_until(lambda: not _alive(pid), timeout=3)


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stats_reports_live_counts() -> None:
    probe = Probe()
    with jido.Runtime(name="stats") as rt:
        stats = rt.stats()
        for key in ("threads", "idle", "abandoned", "in_flight", "processes"):
            assert isinstance(stats[key], int)
        assert stats["in_flight"] == 0
        ref = rt.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)
        assert probe.started.wait(2)
        assert rt.stats()["in_flight"] == 1
        assert rt.stats()["threads"] >= 1
        ref.cancel()
        assert wait_until(lambda: rt.stats()["in_flight"] == 0, timeout=1)
        rt.run(actions.pid, isolation="process")
        assert rt.stats()["processes"] >= 1


def test_default_runtime_restarts_after_shutdown() -> None:
    first = jido.default_runtime()
    assert jido.run(actions.square, {"x": 2}) == {"x": 4}
    jido.shutdown()
    assert first.closed
    assert jido.run(actions.square, {"x": 3}) == {"x": 9}
    assert jido.default_runtime() is not first
    assert not jido.default_runtime().closed


def test_runtime_rejects_bad_arguments() -> None:
    for kwargs in (
        {"max_threads": 0},
        {"max_threads": "4"},
        {"max_processes": 0},
        {"stop_timeout": 0},
        {"stop_timeout": -1},
        {"defaults": {"timeout": "soon"}},
        {"defaults": {"nope": 1}},
    ):
        with pytest.raises(jido.ConfigError):
            jido.Runtime(**kwargs)  # type: ignore[arg-type]


# -- leaks ---------------------------------------------------------------------------------------
def _settled_thread_count(target: int, timeout: float = 3.0) -> int:
    wait_until(lambda: threading.active_count() <= target, timeout=timeout)
    return threading.active_count()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("action", "count"),
    # A CPU-bound action gets stop_timeout/5 to notice its token before it is interrupted, so
    # each of its runs costs ~30-45 ms here: 100 of them make the same point much faster.
    [(actions.coop_check, 1000), (actions.spin, 100)],
    ids=["token-checking-x1000", "cpu-bound-x100"],
)
def test_a_thousand_timed_out_sync_runs_leak_no_threads(action: Any, count: int) -> None:
    with jido.Runtime(name="leak") as rt:
        for _ in range(20):  # warm up: worker, timer thread
            with pytest.raises(jido.TimeoutError):
                rt.run(action, None, {"probe": Probe()}, timeout=0.005, max_retries=0)
        baseline = threading.active_count()
        stopped = 0
        for _ in range(count):
            try:
                rt.run(action, None, {"probe": Probe()}, timeout=0.005, max_retries=0)
            except jido.TimeoutError as exc:
                stopped += exc.details["stopped"] is True
        assert stopped == count  # every one confirmed stopped, none abandoned
        assert _settled_thread_count(baseline) <= baseline
        assert rt.stats()["abandoned"] == 0
        assert rt.stats()["in_flight"] == 0


def test_timed_out_async_runs_leak_no_tasks() -> None:
    async def main() -> None:
        me = asyncio.current_task()
        probe = Probe()
        for _ in range(50):
            with pytest.raises(jido.TimeoutError):
                await jido.arun(
                    actions.async_sleep,
                    {"seconds": 30},
                    {"probe": probe},
                    timeout=0.005,
                    max_retries=0,
                )
        refs = [
            jido.run_async(actions.async_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)
            for _ in range(50)
        ]
        await asyncio.sleep(0.01)
        for ref in refs:
            ref.cancel()
        for ref in refs:
            with pytest.raises(jido.CancelledError):
                await ref
        with pytest.raises(jido.TimeoutError):
            await jido.arun(actions.spin, None, {"probe": Probe()}, timeout=0.01, max_retries=0)
        for _ in range(100):
            left = [t for t in asyncio.all_tasks() if t is not me]
            if not left:
                break
            await asyncio.sleep(0.01)
        assert left == []

    asyncio.run(main())


def _children() -> int:
    return len(multiprocessing.active_children())


@pytest.mark.slow
def test_timed_out_process_runs_leak_no_processes() -> None:
    with jido.Runtime(name="proc-leak", max_processes=2, stop_timeout=0.1) as rt:
        for _ in range(2):  # warm up
            rt.run(actions.pid, isolation="process")
        baseline_children = _children()
        mine = rt.stats()["processes"]
        assert mine >= 1
        baseline_threads = threading.active_count()
        for i in range(12):
            action = actions.proc_ignore_sigterm if i % 4 == 0 else actions.proc_spin
            with pytest.raises(jido.TimeoutError) as info:
                rt.run(action, isolation="process", timeout=0.05, max_retries=0)
            assert info.value.details["stopped"] is True
        assert rt.run(actions.square, {"x": 2}, isolation="process") == {"x": 4}
        assert wait_until(lambda: _children() <= baseline_children, timeout=3)
        assert rt.stats()["processes"] <= 2
        assert _settled_thread_count(baseline_threads) <= baseline_threads
    assert wait_until(lambda: _children() <= baseline_children - mine, timeout=3)


def test_shutdown_of_an_isolated_runtime_releases_its_threads() -> None:
    before = threading.active_count()
    rt = jido.Runtime(name="release")
    for _ in range(4):
        rt.run(actions.square, {"x": 1}, timeout=1)
    rt.run(actions.async_square, {"x": 1})
    with pytest.raises(jido.TimeoutError):
        rt.run(actions.spin, None, {"probe": Probe()}, timeout=0.02, max_retries=0)
    rt.shutdown()
    assert _settled_thread_count(before) <= before
