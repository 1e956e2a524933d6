"""run_async / await_ / AsyncRef / cancel (contract item 2, README "AsyncRef semantics")."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import actions
import jido
from actions import Add, Probe
from conftest import Stopwatch, wait_until

# sync-with-timeout (worker thread), sync inline (timeout=0), async (runtime loop thread)
SLEEPERS = [
    pytest.param(actions.coop_sleep, 30, id="thread"),
    pytest.param(actions.coop_sleep, 0, id="inline-timeout-0"),
    pytest.param(actions.async_sleep, 30, id="async"),
]


def test_run_async_returns_at_once_and_await_gives_the_result() -> None:
    probe = Probe()
    with Stopwatch() as sw:
        ref = jido.run_async(actions.coop_sleep, {"seconds": 0.3}, {"probe": probe})
    assert sw.elapsed < 0.2
    assert isinstance(ref, jido.AsyncRef)
    assert not ref.done()
    assert jido.await_(ref, timeout=5) == {"slept": 0.3}
    assert ref.done()
    assert not ref.cancelled()
    assert ref.exception() is None


def test_readme_async_example() -> None:
    ref = jido.run_async(Add, {"value": 5})
    assert jido.await_(ref, timeout=5.0) == {"value": 6}
    jido.cancel(ref)  # no-op once finished
    assert jido.await_(ref) == {"value": 6}


@pytest.mark.parametrize("action", [actions.square, actions.async_square], ids=["sync", "async"])
def test_result_await_and_result_method_agree(action: Any) -> None:
    ref = jido.run_async(action, {"x": 7})
    assert ref.result(timeout=5) == {"x": 49}
    assert ref.result() == {"x": 49}  # kept: waiting twice gives the same
    assert jido.await_(ref) == {"x": 49}

    async def awaited() -> dict[str, Any]:
        return await ref

    assert asyncio.run(awaited()) == {"x": 49}


def test_await_default_timeout_is_five_seconds() -> None:
    import inspect

    assert inspect.signature(jido.await_).parameters["timeout"].default == 5.0
    assert inspect.signature(jido.AsyncRef.result).parameters["timeout"].default == 5.0


def test_errors_are_delivered_by_the_ref() -> None:
    ref = jido.run_async(Add, {"value": "x"})  # validation error: found before the run starts
    with pytest.raises(jido.ValidationError):
        jido.await_(ref)
    assert ref.done()
    assert isinstance(ref.exception(), jido.ValidationError)
    ref2 = jido.run_async(actions.raise_value_error, max_retries=0)
    with pytest.raises(jido.ExecutionError) as info:
        ref2.result(5)
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(jido.ExecutionError):
        ref2.result(5)  # the same error again


def test_done_callback_is_called_once() -> None:
    calls: list[jido.AsyncRef] = []
    ref = jido.run_async(actions.coop_sleep, {"seconds": 0.1}, {"probe": Probe()})
    ref.add_done_callback(calls.append)
    ref.result(5)
    assert wait_until(lambda: calls == [ref], timeout=1)
    late: list[jido.AsyncRef] = []
    ref.add_done_callback(late.append)  # already done: called at once
    assert late == [ref]


# -- cancel --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("action", "timeout"), SLEEPERS)
@pytest.mark.parametrize("how", ["jido.cancel", "ref.cancel"])
def test_await_after_cancel_raises_cancelled_immediately(
    action: Any, timeout: float, how: str
) -> None:
    probe = Probe()
    ref = jido.run_async(action, {"seconds": 30}, {"probe": probe}, timeout=timeout)
    assert probe.started.wait(2)
    with Stopwatch() as cancel_sw:
        if how == "jido.cancel":
            jido.cancel(ref)
        else:
            ref.cancel()
    assert cancel_sw.elapsed < 0.5
    with Stopwatch() as sw, pytest.raises(jido.CancelledError) as info:
        jido.await_(ref, timeout=5.0)
    assert sw.elapsed < 0.5  # Jido waited out the whole timeout here
    err = info.value
    assert err.type == "cancelled"
    assert err.details["stopped"] is True
    assert err.details["reason"] == "caller"
    assert ref.done()
    assert ref.cancelled()
    assert isinstance(ref.exception(), jido.CancelledError)
    assert probe.finished.wait(0.5)  # the work itself stopped


def test_cancel_of_a_cpu_bound_sync_action_interrupts_it() -> None:
    probe = Probe()
    ref = jido.run_async(actions.spin, None, {"probe": probe}, timeout=30)
    assert probe.started.wait(2)
    ref.cancel()
    with Stopwatch() as sw, pytest.raises(jido.CancelledError) as info:
        ref.result(5)
    assert sw.elapsed < 0.5
    assert info.value.details["stopped"] is True
    assert info.value.details["stop"] == "interrupted"
    assert probe.finished.wait(0.5)
    count = probe.counter
    assert not wait_until(lambda: probe.counter != count, timeout=0.1)


def test_cancel_of_a_blocked_action_reports_abandoned() -> None:
    probe = Probe()
    with jido.Runtime(name="cancel-abandon", stop_timeout=0.05) as rt:
        ref = rt.run_async(actions.blocked_sleep, {"seconds": 1.0}, {"probe": probe}, timeout=30)
        assert probe.started.wait(2)
        with Stopwatch() as sw:
            ref.cancel()
        assert sw.elapsed < 0.8  # at most about 2 * stop_timeout (+ slack), not the sleep
        with Stopwatch() as sw, pytest.raises(jido.CancelledError) as info:
            jido.await_(ref, timeout=5.0)
        assert sw.elapsed < 0.5
        assert info.value.details["stopped"] is False
        assert info.value.details["stop"] == "abandoned"
        assert probe.finished.wait(3)


def test_cancel_after_finish_keeps_the_result() -> None:
    ref = jido.run_async(actions.square, {"x": 3})
    assert jido.await_(ref) == {"x": 9}
    with Stopwatch() as sw:
        jido.cancel(ref)
        ref.cancel()
    assert sw.elapsed < 0.1
    assert jido.await_(ref) == {"x": 9}
    assert not ref.cancelled()


def test_cancel_of_a_finished_unread_run_keeps_its_result() -> None:
    # Jido's cancel silently discarded an unread result
    ref = jido.run_async(actions.square, {"x": 4})
    assert wait_until(ref.done, timeout=2)
    jido.cancel(ref)
    assert jido.await_(ref) == {"x": 16}


def test_cancel_after_failure_keeps_the_error() -> None:
    ref = jido.run_async(actions.raise_value_error, max_retries=0)
    assert wait_until(ref.done, timeout=2)
    ref.cancel()
    with pytest.raises(jido.ExecutionError):
        ref.result(0)


@pytest.mark.parametrize(
    "garbage", ["invalid", None, [], {"invalid": "ref"}, 123, object()], ids=repr
)
def test_cancel_and_await_on_garbage_raise_invalid_async_ref(garbage: Any) -> None:
    with pytest.raises(jido.InvalidAsyncRefError) as info:
        jido.cancel(garbage)
    assert info.value.type == "invalid_async_ref"
    with Stopwatch() as sw, pytest.raises(jido.InvalidAsyncRefError):
        jido.await_(garbage, timeout=5)
    assert sw.elapsed < 0.5


@pytest.mark.parametrize(
    ("action", "timeout"),
    [
        pytest.param(actions.always_fail, 0, id="inline-timeout-0"),
        pytest.param(actions.always_fail, 5, id="thread"),
        pytest.param(actions.async_always_fail, 5, id="async"),
    ],
)
def test_cancel_during_a_backoff_delay_is_immediate(action: Any, timeout: float) -> None:
    probe = Probe()
    ref = jido.run_async(action, None, {"probe": probe}, timeout=timeout, max_retries=3, backoff=30)
    assert wait_until(lambda: len(probe.attempts) == 1, timeout=2)
    with Stopwatch() as sw:
        ref.cancel()
        with pytest.raises(jido.CancelledError) as info:
            ref.result(5)
    assert sw.elapsed < 0.5  # not the 30 s backoff
    assert info.value.details["reason"] == "caller"
    assert len(probe.attempts) == 1  # and no further attempt


def test_await_timeout_during_a_backoff_delay() -> None:
    probe = Probe()
    ref = jido.run_async(actions.always_fail, None, {"probe": probe}, max_retries=3, backoff=30)
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError):
        jido.await_(ref, timeout=0.3)
    assert sw.elapsed < 2.0
    assert len(probe.attempts) == 1
    assert ref.done()


def test_a_ref_awaited_by_several_tasks() -> None:
    ref = jido.run_async(actions.coop_sleep, {"seconds": 0.1}, {"probe": Probe()})

    async def main() -> list[dict[str, Any]]:
        async def wait() -> dict[str, Any]:
            return await ref

        return await asyncio.gather(wait(), wait(), wait())

    assert asyncio.run(main()) == [{"slept": 0.1}] * 3


def test_cancelling_an_arun_task_stops_a_sync_action() -> None:
    probe = Probe()

    async def main() -> None:
        task = asyncio.create_task(
            jido.arun(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)
        )
        await asyncio.to_thread(probe.started.wait, 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert probe.finished.wait(0.5)  # the worker-thread action stopped too


# -- await_ timeout cancels the run --------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "timeout"),
    [
        pytest.param(actions.spin, 30, id="thread-spin"),
        pytest.param(actions.coop_sleep, 30, id="thread-coop"),
        pytest.param(actions.coop_sleep, 0, id="inline-timeout-0"),
        pytest.param(actions.async_sleep, 30, id="async"),
    ],
)
def test_await_timeout_cancels_the_run(action: Any, timeout: float) -> None:
    probe = Probe()
    ref = jido.run_async(action, {"seconds": 30}, {"probe": probe}, timeout=timeout)
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        jido.await_(ref, timeout=0.2)
    assert sw.elapsed < 2.0
    err = info.value
    assert err.type == "timeout"
    assert err.details["stopped"] is True
    assert ref.done()
    assert probe.finished.wait(0.5)  # the run was stopped, not left running
    with pytest.raises(jido.TimeoutError):  # and the outcome is kept
        ref.result(0)


def test_ref_result_timeout_also_cancels() -> None:
    probe = Probe()
    ref = jido.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)
    with pytest.raises(jido.TimeoutError):
        ref.result(timeout=0.1)
    assert probe.finished.wait(0.5)


# -- asyncio -------------------------------------------------------------------------------------
def test_arun_runs_async_actions_on_the_callers_loop() -> None:
    @jido.action
    async def where() -> dict[str, Any]:
        return {"loop": id(asyncio.get_running_loop()), "thread": threading.get_ident()}

    async def main() -> None:
        out = await jido.arun(where, timeout=1.0)
        assert out == {"loop": id(asyncio.get_running_loop()), "thread": threading.get_ident()}
        out = await jido.arun(where, timeout=0)
        assert out["loop"] == id(asyncio.get_running_loop())

    asyncio.run(main())


def test_arun_sync_action_does_not_block_the_loop() -> None:
    async def main() -> None:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        probe = Probe()
        out = await jido.arun(
            actions.blocked_sleep, {"seconds": 0.3}, {"probe": probe}, timeout=None
        )
        task.cancel()
        assert out == {"slept": 0.3}
        assert ticks >= 10

    asyncio.run(main())


def test_arun_raises_errors() -> None:
    async def main() -> None:
        with pytest.raises(jido.ValidationError):
            await jido.arun(Add, {"value": "x"})
        with pytest.raises(jido.ExecutionError):
            await jido.arun(actions.raise_value_error, max_retries=0)

    asyncio.run(main())


def test_run_async_inside_asyncio_runs_on_the_callers_loop() -> None:
    @jido.action
    async def where() -> dict[str, Any]:
        return {"loop": id(asyncio.get_running_loop())}

    async def main() -> None:
        ref = jido.run_async(where)
        assert isinstance(ref, jido.AsyncRef)
        assert await ref == {"loop": id(asyncio.get_running_loop())}
        ref2 = jido.run_async(actions.square, {"x": 5})  # a sync action from asyncio
        assert await ref2 == {"x": 25}

    asyncio.run(main())


def test_run_async_inside_asyncio_can_be_cancelled() -> None:
    probe = Probe()

    async def main() -> None:
        ref = jido.run_async(actions.async_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)
        await asyncio.sleep(0.05)
        ref.cancel()
        with Stopwatch() as sw, pytest.raises(jido.CancelledError):
            await ref
        assert sw.elapsed < 0.5

    asyncio.run(main())
    assert probe.seen == ["cancelled"]


def test_await_ref_from_another_loop() -> None:
    ref = jido.run_async(actions.async_sleep, {"seconds": 0.1}, {"probe": Probe()})

    async def main() -> dict[str, Any]:
        return await ref

    assert asyncio.run(main()) == {"slept": 0.1}


def test_cancelling_the_awaiting_task_cancels_the_run() -> None:
    probe = Probe()
    ref = jido.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=30)

    async def main() -> None:
        async def waiter() -> dict[str, Any]:
            return await ref

        task = asyncio.create_task(waiter())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert probe.finished.wait(1.0)
    assert wait_until(ref.done, timeout=1.0)
    assert ref.cancelled()


def test_ten_thousand_concurrent_aruns_complete() -> None:
    async def main() -> list[dict[str, Any]]:
        return await asyncio.gather(
            *(jido.arun(actions.async_square, {"x": i}, timeout=5) for i in range(10_000))
        )

    with Stopwatch() as sw:
        results = asyncio.run(main())
    assert results == [{"x": i * i} for i in range(10_000)]
    assert sw.elapsed < 30


def test_many_concurrent_run_async_from_sync_code() -> None:
    refs = [jido.run_async(actions.async_square, {"x": i}) for i in range(500)]
    assert [jido.await_(r, timeout=10) for r in refs] == [{"x": i * i} for i in range(500)]
