"""Timeouts and cancellation, engine-specific: abandoned worker threads, process children
that are reused, nested async runs (contract item 1, docs/guarantees.md). How every engine
stops every kind of action is in tests/conformance/test_stop.py.

Every TimeoutError/CancelledError for a stopped attempt carries ``details["stopped"]``
(True: confirmed stopped; False: abandoned, still running) and ``details["stop"]``.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest

import actions
import jido
import jido.testing
from actions import Probe
from support import Stopwatch, wait_until

BOUND = 2.0  # a 0.2 s timeout must return within this


def assert_frozen(probe: Probe, settle: float = 0.1) -> None:
    """The action's loop is no longer running: its counter does not move."""
    before = probe.counter
    time.sleep(settle)
    assert probe.counter == before


# -- sync actions on a worker thread -------------------------------------------------------------


@pytest.mark.slow
def test_blocked_sync_action_is_abandoned_and_runtime_stays_usable() -> None:
    probe = Probe()
    with jido.Runtime(name="abandon", stop_timeout=0.05) as rt:
        rt.run(actions.square, {"x": 1}, timeout=1)  # warm up: one worker, the timer thread
        baseline = threading.active_count()
        with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
            rt.run(
                actions.blocked_sleep,
                {"seconds": 1.5},
                {"probe": probe},
                timeout=0.1,
                max_retries=0,
            )
        assert sw.elapsed < 1.2  # reported long before the sleep ends
        err = info.value
        assert err.details["stopped"] is False
        assert err.details["stop"] == "abandoned"
        assert not probe.finished.is_set()  # really still running
        # the runtime is still usable, on a replacement worker
        assert rt.run(actions.square, {"x": 3}, timeout=1) == {"x": 9}
        assert rt.run(actions.square, {"x": 4}, timeout=0) == {"x": 16}
        # the abandoned thread exits when its call returns: nothing leaks
        assert probe.finished.wait(3)
        assert wait_until(lambda: threading.active_count() <= baseline, timeout=3)


def test_abandoned_result_is_not_delivered_later() -> None:
    probe = Probe()
    with jido.Runtime(name="late", stop_timeout=0.05) as rt:
        ref = rt.run_async(
            actions.blocked_sleep, {"seconds": 0.4}, {"probe": probe}, timeout=0.1, max_retries=0
        )
        with pytest.raises(jido.TimeoutError):
            ref.result(2)
        assert probe.finished.wait(2)
        time.sleep(0.05)
        with pytest.raises(jido.TimeoutError):  # still the same outcome
            ref.result(0)


# -- process isolation ---------------------------------------------------------------------------
@pytest.fixture
def prt() -> Any:
    with jido.Runtime(name="proc", max_processes=1, stop_timeout=0.1) as runtime:
        runtime.run(actions.pid, isolation="process")  # start the child outside timed sections
        yield runtime


def test_process_child_blocked_in_sleep_is_interrupted_and_reused(prt: jido.Runtime) -> None:
    first = prt.run(actions.pid, isolation="process")["pid"]
    assert first != os.getpid()
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        prt.run(
            actions.proc_sleep, {"seconds": 30}, isolation="process", timeout=0.2, max_retries=0
        )
    assert sw.elapsed < BOUND
    assert info.value.details["stopped"] is True
    assert info.value.details["stop"] == "interrupted"
    assert prt.run(actions.pid, isolation="process")["pid"] == first  # the child stayed


# -- an expired deadline is not retried (contract item 7) ----------------------------------------


def test_child_started_after_the_parent_deadline_is_not_run_nor_retried() -> None:
    child_probe = Probe()
    report = Probe()

    class LateParent(jido.Action):
        """Ignores its token, outlives its deadline, then tries to start a child."""

        name = "late_parent"
        interruptible = False

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            while jido.current().remaining():
                pass
            time.sleep(0.02)
            start = time.monotonic()
            try:
                jido.run(
                    actions.always_fail, None, {"probe": child_probe}, max_retries=5, backoff=1.0
                )
            except jido.JidoError as exc:
                report.seen.append((exc, time.monotonic() - start))
            finally:
                report.finished.set()
            return {}

    with jido.Runtime(name="late-parent", stop_timeout=0.05) as rt:
        with pytest.raises(jido.TimeoutError):
            rt.run(LateParent, timeout=0.2, max_retries=0)
        assert report.finished.wait(3)
    [(err, elapsed)] = report.seen
    assert isinstance(err, jido.TimeoutError | jido.CancelledError)
    assert child_probe.attempts == []  # never started
    assert elapsed < 0.5  # and not retried with backoff


# -- nested runs inherit the parent's deadline and cancellation ----------------------------------


def test_async_nested_run_inherits_deadline() -> None:
    probe = Probe()

    class AsyncParent(jido.Action):
        name = "async_parent"

        async def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            parent_deadline = jido.current().deadline

            @jido.action
            async def child() -> dict[str, Any]:
                probe.seen.append(("child", jido.current().deadline))
                probe.seen.append(("parent", parent_deadline))
                return await jido.arun(
                    actions.async_sleep, {"seconds": 30}, {"probe": probe}, timeout=10
                )

            return await jido.arun(child, timeout=10)

    with Stopwatch() as sw, pytest.raises(jido.TimeoutError):
        jido.run(AsyncParent, timeout=0.3, max_retries=0)
    assert sw.elapsed < BOUND
    seen = dict(item for item in probe.seen if isinstance(item, tuple))
    assert seen["child"] <= seen["parent"] + 1e-6
    assert probe.finished.wait(1.0)
    assert probe.seen[-1] == "cancelled"
