"""Timeouts and cancellation stop the work on every engine, and say how.

Every TimeoutError/CancelledError for a stopped attempt carries ``details["stopped"]``
(True: confirmed stopped; False: abandoned, still running) and ``details["stop"]``; how an
engine can stop each kind of action is the table ``STOPS`` in conftest.py (docs/guarantees.md
and docs/cluster.md, "Guarantees on Ray"). The work itself is checked through the probe:
``finished`` is written by the action's ``finally`` block (never by a killed process),
``completed`` only if a blocking call returned and the action went on (never, once it was
told to stop), and a CPU-bound action's counter freezes.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

import jido
from conformance import actions
from conformance.actions import Probe
from conformance.conftest import REMOTE, TIMED, Engine, engines
from support import Stopwatch, wait_until

BOUND = 3.0  # a short timeout must be reported within this (generous: shared machine)
BLOCKED_FOR = 0.8  # how long blocked_sleep blocks

SLEEPERS: dict[str, tuple[Any, dict[str, Any]]] = {
    "spin": (actions.spin, {}),
    "coop": (actions.coop_sleep, {"seconds": 30}),
    "coop_check": (actions.coop_check, {}),
    "blocked": (actions.blocked_sleep, {"seconds": BLOCKED_FOR}),
    "async": (actions.async_sleep, {"seconds": 30}),
}


def kind_of(name: str) -> str:
    return "coop" if name == "coop_check" else name


def assert_work_stopped(engine: Engine, name: str, probe: Probe, err: jido.JidoError) -> None:
    """The error says how the work stopped (STOPS), and the work really did."""
    kind = kind_of(name)
    assert err.details["stop"] == engine.stop(kind), err.details
    assert err.details["stopped"] is engine.stopped(kind), err.details
    stop = engine.stop(kind)
    if stop == "killed":
        # a killed process runs no finally block; the process itself is gone
        pid = probe.pids[-1]
        assert wait_until(lambda: not _alive(pid), timeout=10)
        assert not probe.has("finished")
    elif stop != "abandoned":
        assert probe.finished(2.0)  # its finally block ran, promptly
    if name in ("spin", "coop_check"):
        assert probe.frozen()
    if name == "blocked":
        # wait past the end of the sleep: the action never went on with its work
        time.sleep(max(0.0, probe.attempts[-1] + BLOCKED_FOR + 0.3 - time.monotonic()))
        assert not probe.has("completed")
        if stop == "abandoned":
            assert probe.finished(2.0)  # the abandoned thread ended when its call returned
    if name == "async" and stop != "killed":
        assert probe.has("cancelled")  # CancelledError reached the action at its await


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return not f.read().split(") ")[1].startswith("Z")
    except (FileNotFoundError, IndexError):
        return False


# -- timeouts --------------------------------------------------------------------------------------
@engines(*TIMED)
@pytest.mark.parametrize("name", list(SLEEPERS))
def test_timeout_stops_the_work(engine: Engine, name: str) -> None:
    action, params = SLEEPERS[name]
    probe = engine.probe()
    engine.warm()
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        engine.rt.run(action, params, {"probe": probe}, timeout=engine.short, max_retries=0)
    assert sw.elapsed < BOUND
    err = info.value
    assert err.type == "timeout"
    assert err.details["timeout"] == engine.short
    assert err.details["attempts"] == 1
    assert_work_stopped(engine, name, probe, err)
    assert engine.rt.run(actions.square, {"x": 3}, timeout=30) == {"x": 9}  # still usable


@engines(*TIMED)
@pytest.mark.parametrize("via", ["arun", "run_async"])
def test_timeout_stops_the_work_whichever_way_it_was_run(engine: Engine, via: str) -> None:
    probe = engine.probe()
    args = (actions.spin, None, {"probe": probe})
    opts: dict[str, Any] = {"timeout": engine.short, "max_retries": 0}
    engine.warm()

    def run() -> Any:
        if via == "arun":
            return asyncio.run(engine.rt.arun(*args, **opts))
        return jido.await_(engine.rt.run_async(*args, **opts), timeout=30)

    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        run()
    assert sw.elapsed < BOUND
    assert_work_stopped(engine, "spin", probe, info.value)


@engines(*TIMED)
def test_async_action_timeout_in_arun_keeps_the_callers_loop_running(engine: Engine) -> None:
    probe = engine.probe()
    engine.warm()

    async def main() -> tuple[jido.JidoError, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        tick = asyncio.create_task(ticker())
        try:
            with pytest.raises(jido.TimeoutError) as info:
                await engine.rt.arun(
                    actions.async_sleep,
                    {"seconds": 30},
                    {"probe": probe},
                    timeout=engine.short,
                    max_retries=0,
                )
        finally:
            tick.cancel()
        return info.value, ticks

    with Stopwatch() as sw:
        err, ticks = asyncio.run(main())
    assert sw.elapsed < BOUND
    assert ticks > 3  # the caller's loop kept running
    assert_work_stopped(engine, "async", probe, err)


@engines(*TIMED)
@pytest.mark.parametrize("name", ["coop", "spin"])
def test_uninterruptible_action_gets_only_its_token(engine: Engine, name: str) -> None:
    """``interruptible = False``: told to stop through its token only. One that checks it
    stops by itself; one that ignores it is abandoned in-process, killed on Ray."""
    action = actions.UninterruptibleCoop if name == "coop" else actions.UninterruptibleSpin
    probe = engine.probe()
    engine.warm()
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        engine.rt.run(
            action, {"seconds": 1.0}, {"probe": probe}, timeout=engine.short, max_retries=0
        )
    assert sw.elapsed < BOUND
    kind = f"uninterruptible_{name}"
    err = info.value
    assert err.details["stop"] == engine.stop(kind), err.details
    assert err.details["stopped"] is engine.stopped(kind)
    if engine.stop(kind) == "abandoned":
        assert probe.wait("completed", 3.0)  # it ran to its own end: it was not interrupted
    elif engine.stop(kind) == "killed":
        pid = probe.pids[-1]
        assert wait_until(lambda: not _alive(pid), timeout=10)
        assert not probe.has("finished")
    else:
        assert probe.finished(2.0)
        assert not probe.has("completed")


@engines(*REMOTE)
@pytest.mark.parametrize("how", ["timeout", "cancel"])
def test_work_ignoring_every_soft_stop_is_killed_and_replaced(engine: Engine, how: str) -> None:
    probe = engine.probe()
    engine.warm()
    if how == "timeout":
        with Stopwatch() as sw, pytest.raises(jido.JidoError) as info:
            engine.rt.run(
                actions.ignore_stops, None, {"probe": probe}, timeout=engine.short, max_retries=0
            )
    else:
        ref = engine.rt.run_async(actions.ignore_stops, None, {"probe": probe}, timeout=30)
        assert probe.started(10)
        with Stopwatch() as sw:
            ref.cancel()
        with pytest.raises(jido.JidoError) as info:
            ref.result(0)
    assert sw.elapsed < BOUND
    err = info.value
    assert isinstance(err, jido.TimeoutError if how == "timeout" else jido.CancelledError)
    assert err.details["stop"] == engine.stop("ignore") == "killed"
    assert err.details["stopped"] is True
    pid = probe.pids[-1]
    assert wait_until(lambda: not _alive(pid), timeout=10)  # really gone
    assert not probe.has("completed")
    # the engine stays usable: a replacement process
    assert engine.rt.run(actions.where, timeout=30)["pid"] != pid


# -- cancel ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(SLEEPERS))
def test_cancel_stops_the_work(engine: Engine, name: str) -> None:
    action, params = SLEEPERS[name]
    probe = engine.probe()
    ref = engine.rt.run_async(action, params, {"probe": probe}, timeout=30)
    assert probe.started(10)
    with Stopwatch() as sw:
        ref.cancel()
    assert sw.elapsed < 1.0  # at most about 2 * stop_timeout, plus slack
    with Stopwatch() as sw, pytest.raises(jido.CancelledError) as info:
        jido.await_(ref, timeout=5.0)
    assert sw.elapsed < 0.5  # raised at once
    err = info.value
    assert err.type == "cancelled"
    assert err.details["reason"] == "caller"
    assert ref.done()
    assert ref.cancelled()
    assert isinstance(ref.exception(), jido.CancelledError)
    assert_work_stopped(engine, name, probe, err)


@pytest.mark.parametrize("how", ["jido.cancel", "ref.cancel"])
def test_await_after_cancel_raises_cancelled_immediately(engine: Engine, how: str) -> None:
    probe = engine.probe()
    ref = engine.rt.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)
    assert probe.started(10)
    with Stopwatch() as sw:
        if how == "jido.cancel":
            jido.cancel(ref)
        else:
            ref.cancel()
    assert sw.elapsed < 1.0
    with Stopwatch() as sw, pytest.raises(jido.CancelledError) as info:
        jido.await_(ref, timeout=5.0)
    assert sw.elapsed < 0.5  # Jido waited out the whole timeout here
    assert info.value.details["stopped"] is True
    assert probe.finished(2.0)


def test_cancelling_the_caller_task_cancels_an_async_action(engine: Engine) -> None:
    probe = engine.probe()

    async def main() -> None:
        task = asyncio.create_task(
            engine.rt.arun(actions.async_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)
        )
        await asyncio.to_thread(probe.started, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task  # the caller's own cancellation is never swallowed

    asyncio.run(main())
    assert probe.finished(2.0)
    assert probe.has("cancelled")


def test_cancelling_an_arun_task_stops_a_sync_action(engine: Engine) -> None:
    probe = engine.probe()

    async def main() -> None:
        task = asyncio.create_task(
            engine.rt.arun(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)
        )
        await asyncio.to_thread(probe.started, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert probe.finished(2.0)  # the action stopped too
    assert not probe.has("completed")
