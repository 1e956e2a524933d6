"""run_async / await_ / AsyncRef / cancel on every engine (docs/guarantees.md)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import jido
from conformance import actions
from conformance.conftest import Engine
from support import Stopwatch, wait_until

KINDS = [pytest.param(False, id="sync"), pytest.param(True, id="async")]


def test_run_async_returns_at_once_and_await_gives_the_result(engine: Engine) -> None:
    probe = engine.probe()
    with Stopwatch() as sw:
        ref = engine.rt.run_async(actions.coop_sleep, {"seconds": 0.5}, {"probe": probe})
    assert sw.elapsed < 0.2
    assert isinstance(ref, jido.AsyncRef)
    assert not ref.done()
    assert jido.await_(ref, timeout=10) == {"slept": 0.5}
    assert ref.done()
    assert not ref.cancelled()
    assert ref.exception() is None


@pytest.mark.parametrize("is_async", KINDS)
def test_result_await_and_result_method_agree(engine: Engine, is_async: bool) -> None:
    ref = engine.rt.run_async(actions.async_square if is_async else actions.square, {"x": 7})
    assert ref.result(timeout=10) == {"x": 49}
    assert ref.result() == {"x": 49}  # kept: waiting twice gives the same
    assert jido.await_(ref) == {"x": 49}

    async def awaited() -> dict[str, Any]:
        return await ref

    assert asyncio.run(awaited()) == {"x": 49}


def test_errors_are_delivered_by_the_ref(engine: Engine) -> None:
    ref = engine.rt.run_async(actions.Add, {"value": "x"})  # found before the run starts
    with pytest.raises(jido.ValidationError):
        jido.await_(ref)
    assert ref.done()
    assert isinstance(ref.exception(), jido.ValidationError)
    ref2 = engine.rt.run_async(actions.raises, {"error": "ValueError"}, max_retries=0)
    with pytest.raises(jido.ExecutionError) as info:
        ref2.result(10)
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(jido.ExecutionError):
        ref2.result(10)  # the same error again


def test_done_callback_is_called_once(engine: Engine) -> None:
    calls: list[jido.AsyncRef] = []
    ref = engine.rt.run_async(actions.coop_sleep, {"seconds": 0.1}, {"probe": engine.probe()})
    ref.add_done_callback(calls.append)
    ref.result(10)
    assert wait_until(lambda: calls == [ref], timeout=1)
    late: list[jido.AsyncRef] = []
    ref.add_done_callback(late.append)  # already done: called at once
    assert late == [ref]


# -- cancel of a finished run ----------------------------------------------------------------------
def test_cancel_after_finish_keeps_the_result(engine: Engine) -> None:
    ref = engine.rt.run_async(actions.square, {"x": 3})
    assert jido.await_(ref, timeout=10) == {"x": 9}
    with Stopwatch() as sw:
        jido.cancel(ref)
        ref.cancel()
    assert sw.elapsed < 0.1
    assert jido.await_(ref) == {"x": 9}
    assert not ref.cancelled()


def test_cancel_of_a_finished_unread_run_keeps_its_result(engine: Engine) -> None:
    ref = engine.rt.run_async(actions.square, {"x": 4})
    assert wait_until(ref.done, timeout=10)
    jido.cancel(ref)
    assert jido.await_(ref) == {"x": 16}


def test_cancel_after_failure_keeps_the_error(engine: Engine) -> None:
    ref = engine.rt.run_async(actions.raises, {"error": "ValueError"}, max_retries=0)
    assert wait_until(ref.done, timeout=10)
    ref.cancel()
    with pytest.raises(jido.ExecutionError):
        ref.result(0)


# -- cancel and await_ timeouts during a backoff delay ---------------------------------------------
@pytest.mark.parametrize("is_async", KINDS)
def test_cancel_during_a_backoff_delay_is_immediate(engine: Engine, is_async: bool) -> None:
    probe = engine.probe()
    action = actions.async_always_fail if is_async else actions.always_fail
    ref = engine.rt.run_async(action, None, {"probe": probe}, max_retries=3, backoff=30)
    assert probe.wait("attempts", 10)
    time.sleep(0.05)  # into the delay
    with Stopwatch() as sw:
        ref.cancel()
        with pytest.raises(jido.CancelledError) as info:
            ref.result(5)
    assert sw.elapsed < 0.5  # not the 30 s backoff
    assert info.value.details["reason"] == "caller"
    assert len(probe.attempts) == 1  # and no further attempt


def test_await_timeout_during_a_backoff_delay(engine: Engine) -> None:
    probe = engine.probe()
    ref = engine.rt.run_async(
        actions.always_fail, None, {"probe": probe}, max_retries=3, backoff=30
    )
    assert probe.wait("attempts", 10)
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError):
        jido.await_(ref, timeout=0.3)
    assert sw.elapsed < 2.0
    assert len(probe.attempts) == 1
    assert ref.done()


def test_a_ref_awaited_by_several_tasks(engine: Engine) -> None:
    ref = engine.rt.run_async(actions.coop_sleep, {"seconds": 0.1}, {"probe": engine.probe()})

    async def main() -> list[dict[str, Any]]:
        async def wait() -> dict[str, Any]:
            return await ref

        return await asyncio.gather(wait(), wait(), wait())

    assert asyncio.run(main()) == [{"slept": 0.1}] * 3


# -- await_ timeout cancels the run ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "action"),
    [
        ("spin", actions.spin),
        ("coop", actions.coop_sleep),
        ("async", actions.async_sleep),
    ],
)
def test_await_timeout_cancels_the_run(engine: Engine, kind: str, action: Any) -> None:
    probe = engine.probe()
    ref = engine.rt.run_async(action, {"seconds": 30}, {"probe": probe}, timeout=30)
    assert probe.started(10)
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        jido.await_(ref, timeout=0.2)
    assert sw.elapsed < 2.0
    err = info.value
    assert err.type == "timeout"
    assert err.details["stopped"] is True
    assert err.details["stop"] == engine.stop(kind)
    assert ref.done()
    assert probe.finished(2.0)  # the run was stopped, not left running
    with pytest.raises(jido.TimeoutError):  # and the outcome is kept
        ref.result(0)


def test_ref_result_timeout_also_cancels(engine: Engine) -> None:
    probe = engine.probe()
    ref = engine.rt.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)
    assert probe.started(10)
    with pytest.raises(jido.TimeoutError):
        ref.result(timeout=0.1)
    assert probe.finished(2.0)


# -- asyncio ---------------------------------------------------------------------------------------
def test_arun_sync_action_does_not_block_the_loop(engine: Engine) -> None:
    async def main() -> None:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        out = await engine.rt.arun(
            actions.blocked_sleep, {"seconds": 0.3}, {"probe": engine.probe()}, timeout=None
        )
        task.cancel()
        assert out == {"slept": 0.3}
        assert ticks >= 10

    asyncio.run(main())


def test_arun_raises_errors(engine: Engine) -> None:
    async def main() -> None:
        with pytest.raises(jido.ValidationError):
            await engine.rt.arun(actions.Add, {"value": "x"})
        with pytest.raises(jido.ExecutionError):
            await engine.rt.arun(actions.raises, {"error": "ValueError"}, max_retries=0)

    asyncio.run(main())


def test_run_async_inside_asyncio_can_be_cancelled(engine: Engine) -> None:
    probe = engine.probe()

    async def main() -> None:
        ref = engine.rt.run_async(
            actions.async_sleep, {"seconds": 30}, {"probe": probe}, timeout=30
        )
        await asyncio.to_thread(probe.started, 10)
        ref.cancel()
        with Stopwatch() as sw, pytest.raises(jido.CancelledError):
            await ref
        assert sw.elapsed < 0.5

    asyncio.run(main())
    assert probe.finished(2.0)
    assert probe.has("cancelled")


def test_cancelling_the_awaiting_task_cancels_the_run(engine: Engine) -> None:
    probe = engine.probe()
    ref = engine.rt.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)

    async def main() -> None:
        async def waiter() -> dict[str, Any]:
            return await ref

        task = asyncio.create_task(waiter())
        await asyncio.to_thread(probe.started, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert probe.finished(2.0)
    assert wait_until(ref.done, timeout=2.0)
    assert ref.cancelled()


def test_many_concurrent_run_async_from_sync_code(engine: Engine) -> None:
    refs = [engine.rt.run_async(actions.square, {"x": i}) for i in range(200)]
    assert [jido.await_(r, timeout=30) for r in refs] == [{"x": i * i} for i in range(200)]
