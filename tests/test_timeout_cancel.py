"""Timeouts and cancellation stop the work, and say how (contract item 1, README guarantees).

Every TimeoutError/CancelledError for a stopped attempt carries ``details["stopped"]``
(True: confirmed stopped; False: abandoned, still running) and ``details["stop"]``.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

import pytest

import actions
import jido
import jido.testing
from actions import Probe
from conftest import Stopwatch, wait_until

BOUND = 2.0  # a 0.2 s timeout must return within this


def assert_frozen(probe: Probe, settle: float = 0.1) -> None:
    """The action's loop is no longer running: its counter does not move."""
    before = probe.counter
    time.sleep(settle)
    assert probe.counter == before


# -- async actions are cancelled -----------------------------------------------------------------
def test_async_action_is_cancelled_on_timeout_from_sync_code() -> None:
    probe = Probe()
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        jido.run(actions.async_sleep, {"seconds": 30}, {"probe": probe}, timeout=0.2, max_retries=0)
    assert sw.elapsed < BOUND
    err = info.value
    assert err.type == "timeout"
    assert err.details["stopped"] is True
    assert err.details["stop"] == "cancelled"
    assert probe.seen == ["cancelled"]  # CancelledError reached the action at its await
    assert probe.finished.is_set()


def test_async_action_is_cancelled_on_timeout_in_arun() -> None:
    probe = Probe()

    async def main() -> jido.TimeoutError:
        loop_ticks = 0

        async def ticker() -> None:
            nonlocal loop_ticks
            while True:
                loop_ticks += 1
                await asyncio.sleep(0.01)

        tick = asyncio.create_task(ticker())
        try:
            with pytest.raises(jido.TimeoutError) as info:
                await jido.arun(
                    actions.async_sleep,
                    {"seconds": 30},
                    {"probe": probe},
                    timeout=0.2,
                    max_retries=0,
                )
        finally:
            tick.cancel()
        assert loop_ticks > 3  # the caller's loop kept running
        return info.value

    with Stopwatch() as sw:
        err = asyncio.run(main())
    assert sw.elapsed < BOUND
    assert err.details["stopped"] is True
    assert err.details["stop"] == "cancelled"
    assert probe.seen == ["cancelled"]


def test_cancelling_the_caller_task_cancels_an_async_action() -> None:
    probe = Probe()

    async def main() -> None:
        task = asyncio.create_task(
            jido.arun(actions.async_sleep, {"seconds": 30}, {"probe": probe}, timeout=10)
        )
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task  # the caller's own cancellation is never swallowed

    asyncio.run(main())
    assert probe.seen == ["cancelled"]
    assert probe.finished.is_set()


# -- sync actions on a worker thread -------------------------------------------------------------
@pytest.mark.parametrize("via", ["run", "arun", "run_async"])
def test_cpu_bound_sync_action_is_interrupted(via: str) -> None:
    probe = Probe()
    args = (actions.spin, None, {"probe": probe})
    opts: dict[str, Any] = {"timeout": 0.2, "max_retries": 0}
    calls = {
        "run": lambda: jido.run(*args, **opts),
        "arun": lambda: asyncio.run(jido.arun(*args, **opts)),
        "run_async": lambda: jido.await_(jido.run_async(*args, **opts), timeout=10),
    }
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        calls[via]()
    assert sw.elapsed < BOUND
    err = info.value
    assert err.details["stopped"] is True
    assert err.details["stop"] == "interrupted"
    assert probe.finished.is_set()  # its finally block ran
    assert_frozen(probe)


@pytest.mark.parametrize("action", [actions.coop_sleep, actions.coop_check], ids=["sleep", "check"])
def test_token_checking_action_stops_promptly(action: Any) -> None:
    probe = Probe()
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        jido.run(action, {"seconds": 30}, {"probe": probe}, timeout=0.2, max_retries=0)
    assert sw.elapsed < BOUND
    err = info.value
    assert err.details["stopped"] is True
    assert err.details["stop"] == "cooperative"  # it noticed its token and stopped by itself
    assert probe.finished.is_set()
    assert_frozen(probe)


def test_uninterruptible_action_that_checks_its_token_stops_cooperatively() -> None:
    probe = Probe()
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        jido.run(actions.UninterruptibleCoop, None, {"probe": probe}, timeout=0.2, max_retries=0)
    assert sw.elapsed < BOUND
    assert info.value.details["stopped"] is True
    assert info.value.details["stop"] == "cooperative"
    assert probe.finished.is_set()


def test_cancel_observed_by_a_sleeping_action_quickly() -> None:
    probe = Probe()
    ref = jido.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)
    assert probe.started.wait(2)
    with Stopwatch() as sw:
        ref.cancel()
    assert sw.elapsed < 0.5
    assert probe.finished.wait(0.5)
    with pytest.raises(jido.CancelledError) as info:
        ref.result(0)
    assert info.value.details["stopped"] is True
    assert info.value.details["reason"] == "caller"


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


def test_uninterruptible_action_ignoring_its_token_is_abandoned() -> None:
    probe = Probe()
    with jido.Runtime(name="uninterruptible", stop_timeout=0.05) as rt:
        with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
            rt.run(
                actions.UninterruptibleSpin,
                {"seconds": 1.0},
                {"probe": probe},
                timeout=0.1,
                max_retries=0,
            )
        assert sw.elapsed < 0.8
        assert info.value.details["stopped"] is False
        assert info.value.details["stop"] == "abandoned"
        assert probe.finished.wait(3)  # it ran to its own end: it was not interrupted
        assert rt.run(actions.square, {"x": 2}, timeout=1) == {"x": 4}


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


def test_process_child_cpu_bound_is_interrupted(prt: jido.Runtime) -> None:
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        prt.run(actions.proc_spin, isolation="process", timeout=0.2, max_retries=0)
    assert sw.elapsed < BOUND
    assert info.value.details["stopped"] is True
    assert info.value.details["stop"] in {"interrupted", "killed"}
    assert prt.run(actions.square, {"x": 5}, isolation="process") == {"x": 25}


def test_process_child_ignoring_sigterm_is_killed_and_replaced(prt: jido.Runtime) -> None:
    first = prt.run(actions.pid, isolation="process")["pid"]
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        prt.run(actions.proc_ignore_sigterm, isolation="process", timeout=0.2, max_retries=0)
    assert sw.elapsed < BOUND
    err = info.value
    assert err.details["stopped"] is True
    assert err.details["stop"] == "killed"
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)  # really gone
    # the pool stays usable: a replacement child
    second = prt.run(actions.pid, isolation="process")["pid"]
    assert second != first
    assert prt.run(actions.square, {"x": 6}, isolation="process") == {"x": 36}


def test_process_cancel_stops_the_child(prt: jido.Runtime) -> None:
    ref = prt.run_async(actions.proc_ignore_sigterm, isolation="process", timeout=30)
    time.sleep(0.1)  # let the child get into the action
    with Stopwatch() as sw:
        ref.cancel()
    assert sw.elapsed < 1.0
    with Stopwatch() as sw, pytest.raises(jido.CancelledError) as info:
        jido.await_(ref, timeout=5)
    assert sw.elapsed < 0.5
    assert info.value.details["stopped"] is True
    assert prt.run(actions.square, {"x": 7}, isolation="process") == {"x": 49}


def test_process_async_action_times_out(prt: jido.Runtime) -> None:
    assert prt.run(actions.async_square, {"x": 2}, isolation="process") == {"x": 4}
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        prt.run(
            actions.proc_async_sleep,
            {"seconds": 30},
            isolation="process",
            timeout=0.2,
            max_retries=0,
        )
    assert sw.elapsed < BOUND
    assert info.value.details["stopped"] is True


def test_process_isolation_reports_attempt_context(prt: jido.Runtime) -> None:
    out = prt.run(actions.proc_current, isolation="process")
    assert out["action"] == "proc_current"
    assert out["attempt"] == 1
    assert out["pid"] != os.getpid()


def test_process_isolation_unpicklable_context_is_a_clear_error(prt: jido.Runtime) -> None:
    with pytest.raises(jido.JidoError) as info:
        prt.run(actions.pid, None, {"lock": threading.Lock()}, isolation="process")
    assert "pickl" in info.value.message.lower()


def test_process_isolation_unpicklable_result_is_an_error(prt: jido.Runtime) -> None:
    with pytest.raises(jido.JidoError) as info:
        prt.run(actions.proc_unpicklable_result, isolation="process", max_retries=0, timeout=5)
    assert not isinstance(info.value, jido.TimeoutError)  # reported, not hung
    assert prt.run(actions.square, {"x": 3}, isolation="process") == {"x": 9}


# -- an expired deadline is not retried (contract item 7) ----------------------------------------
def test_expired_run_deadline_is_not_retried() -> None:
    probe = Probe()
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError):
        jido.run(
            actions.coop_sleep,
            {"seconds": 30},
            {"probe": probe},
            timeout=10,
            total_timeout=0.3,
            max_retries=5,
            backoff=0,
        )
    assert sw.elapsed < BOUND
    assert len(probe.attempts) == 1


def test_attempt_timeouts_retry_only_while_the_run_deadline_allows() -> None:
    probe = Probe()
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError):
        jido.run(
            actions.coop_sleep,
            {"seconds": 30},
            {"probe": probe},
            timeout=0.1,
            total_timeout=0.35,
            max_retries=50,
            backoff=0,
        )
    assert sw.elapsed < 0.35 + BOUND
    assert 2 <= len(probe.attempts) <= 5
    assert probe.attempts[-1] - probe.attempts[0] < 0.35 + 0.05


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
class Parent(jido.Action):
    """Runs ``actions.coop_sleep`` as a child with the options given in params."""

    name = "parent"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        probe = context["child_probe"]

        @jido.action
        def child_deadline() -> dict[str, Any]:
            return {"deadline": jido.current().deadline}

        probe.seen.append(("parent", jido.current().deadline))
        probe.seen.append(
            ("child", jido.run(child_deadline, timeout=params["child_timeout"])["deadline"])
        )
        return jido.run(
            actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=params["child_timeout"]
        )


@pytest.mark.parametrize("child_timeout", [0, 10.0], ids=["inline-child", "thread-child"])
def test_nested_run_inherits_the_parent_deadline(child_timeout: float) -> None:
    probe = Probe()
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError):
        jido.run(
            Parent,
            {"child_timeout": child_timeout},
            {"child_probe": probe},
            timeout=0.3,
            max_retries=0,
        )
    assert sw.elapsed < BOUND
    seen = dict(probe.seen)
    assert seen["child"] is not None
    assert seen["child"] <= seen["parent"] + 1e-6
    assert probe.finished.wait(1.0)  # the child's work stopped too


@pytest.mark.parametrize("child_timeout", [0, 10.0], ids=["inline-child", "thread-child"])
def test_cancelling_the_parent_stops_the_child(child_timeout: float) -> None:
    probe = Probe()
    ref = jido.run_async(
        Parent, {"child_timeout": child_timeout}, {"child_probe": probe}, timeout=30, max_retries=0
    )
    assert probe.started.wait(2)
    ref.cancel()
    assert probe.finished.wait(0.5)
    with pytest.raises(jido.CancelledError):
        ref.result(1)


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


def test_timeout_error_is_retried_as_a_fresh_attempt_with_a_fresh_deadline() -> None:
    deadlines: list[float] = []

    @jido.action
    def slow() -> dict[str, Any]:
        deadlines.append(jido.current().deadline)
        jido.current().sleep(30)
        return {}

    with jido.testing.no_backoff(), pytest.raises(jido.TimeoutError):
        jido.run(slow, timeout=0.1, max_retries=1)
    assert len(deadlines) == 2
    assert deadlines[1] >= deadlines[0] + 0.09
