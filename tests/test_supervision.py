"""Supervision: a runtime's own threads survive user code, and are restarted if they die.

Fault injection kills each supervised thread (the timer thread, the event loop thread, a
worker thread) by making its loop raise, or by raising an exception into the thread
from outside. Each time: the thread is restarted (``stats()["restarts"]``), a run whose
work was lost fails with an ``internal_error`` that names the thread and the cause, and
later runs work. No exception raised by user code (an action's ``SystemExit``, a
telemetry handler's ``KeyboardInterrupt``, a raising ``retry_on``) stops a thread.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import jido
import jido.telemetry
from actions import Probe, spin, square
from jido._engines import threads as threads_module
from jido._run import call as call_module
from jido._run import driver as driver_module
from support import Stopwatch, wait_until

BOUND = 3.0
"""Generous upper bound (s) for anything that must not hang."""


@jido.action
async def async_ok() -> dict[str, Any]:
    return {"ok": True}


@jido.action
def sync_ok() -> dict[str, Any]:
    return {"ok": True}


@pytest.fixture
def srt() -> Iterator[jido.Runtime]:
    with jido.Runtime(name="supervised", max_threads=4) as runtime:
        yield runtime


def _raise_into(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    """Raise ``exc_type`` in ``thread`` at its next Python bytecode (fault injection)."""
    assert thread.ident is not None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type)
    )


def _restarted(rt: jido.Runtime, count: int = 1) -> bool:
    return wait_until(lambda: rt.stats()["restarts"] >= count, timeout=BOUND)


# -- the timer thread -----------------------------------------------------------------------------
def test_timer_thread_that_dies_is_restarted_and_keeps_every_deadline(
    srt: jido.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    timers = srt._timers
    srt.run(square, {"x": 1}, timeout=1)  # the timer thread is running
    real = timers._next_due
    broken = threading.Event()

    def next_due() -> Any:
        if not broken.is_set():
            broken.set()
            raise SystemExit("injected into the timer loop")
        return real()

    monkeypatch.setattr(timers, "_next_due", next_due)
    probe = Probe()
    ref = srt.run_async(spin, None, {"probe": probe}, timeout=0.3, max_retries=0)
    srt.run(square, {"x": 2}, timeout=0.01)  # its deadline wakes the thread: it dies
    assert _restarted(srt)
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        ref.result(timeout=BOUND)
    assert sw.elapsed < BOUND
    assert info.value.details["stopped"] is True  # the deadline was still enforced
    with pytest.raises(jido.TimeoutError):
        srt.run(spin, None, {"probe": Probe()}, timeout=0.1, max_retries=0)
    assert srt.run(square, {"x": 3}, timeout=1) == {"x": 9}


def test_exception_raised_into_the_timer_thread_never_hangs_a_run(srt: jido.Runtime) -> None:
    for _ in range(5):
        srt.run(square, {"x": 1}, timeout=1)
        thread = srt._timers._thread
        assert thread is not None
        _raise_into(thread, KeyboardInterrupt)
        probe = Probe()
        with Stopwatch() as sw, pytest.raises(jido.JidoError) as info:
            srt.run(spin, None, {"probe": probe}, timeout=0.2, max_retries=0)
        assert sw.elapsed < BOUND
        # the deadline fired (timeout), or the run whose timer was lost failed loudly
        assert info.value.type in ("timeout", "internal_error")
    assert srt.run(square, {"x": 4}, timeout=1) == {"x": 16}


def test_a_timer_callback_that_raises_fails_its_run_not_the_thread(
    srt: jido.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def expire(token: Any) -> None:
        raise KeyboardInterrupt("a bug in a timer callback")

    monkeypatch.setattr(driver_module, "_expire", expire)
    with Stopwatch() as sw, pytest.raises(jido.InternalError) as info:
        srt.run(spin, None, {"probe": Probe()}, timeout=0.1, max_retries=0)
    assert sw.elapsed < BOUND
    assert "timers" in info.value.message
    assert isinstance(info.value.__cause__, KeyboardInterrupt)
    monkeypatch.undo()
    assert srt.stats()["restarts"] == 0
    with pytest.raises(jido.TimeoutError):
        srt.run(spin, None, {"probe": Probe()}, timeout=0.1, max_retries=0)


# -- the event loop thread ------------------------------------------------------------------------
def test_loop_thread_that_dies_is_restarted_and_its_runs_carry_on(srt: jido.Runtime) -> None:
    loop = srt._loop()
    probe = Probe()
    running = srt.run_async(actions_async_sleep(), {"seconds": 0.3}, {"probe": probe}, timeout=5)
    assert probe.started.wait(BOUND)

    def die() -> None:
        raise SystemExit("injected into the event loop")

    loop.loop.call_soon_threadsafe(die)
    assert _restarted(srt)
    assert running.result(timeout=BOUND) == {"slept": 0.3}  # its task carried on
    assert srt.run(async_ok, timeout=1) == {"ok": True}
    assert loop.thread.is_alive()


def test_a_run_whose_driver_breaks_fails_with_internal_error_and_the_loop_lives(
    srt: jido.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = call_module.Call.succeeded

    def succeeded(self: Any, attempt: int, result: Any, queued: float = 0.0) -> Any:
        if self.spec.name == "async_ok":
            raise SystemExit("a bug while completing the run")
        return real(self, attempt, result, queued)

    monkeypatch.setattr(call_module.Call, "succeeded", succeeded)
    with Stopwatch() as sw, pytest.raises(jido.InternalError) as info:
        srt.run(async_ok, timeout=1)
    assert sw.elapsed < BOUND
    assert isinstance(info.value.__cause__, SystemExit)
    assert "driver" in info.value.message
    monkeypatch.undo()
    assert srt.run(async_ok, timeout=1) == {"ok": True}
    assert srt.stats()["restarts"] == 0  # contained in the run's task: the loop never died


def test_blocking_wait_on_a_restarted_loop_is_still_refused(srt: jido.Runtime) -> None:
    loop = srt._loop()
    ref = srt.run_async(actions_async_sleep(), {"seconds": 5}, {"probe": Probe()}, timeout=10)
    loop.loop.call_soon_threadsafe(_raise_system_exit)
    assert _restarted(srt)

    async def waits_in_place() -> str:  # on the loop's new thread: it must not block
        try:
            ref.result(timeout=1)
        except jido.ConfigError as exc:
            return exc.message
        return "no error"

    future = asyncio.run_coroutine_threadsafe(waits_in_place(), loop.loop)
    assert "block the event loop" in future.result(BOUND)
    ref.cancel()
    with pytest.raises(jido.CancelledError):
        ref.result(timeout=BOUND)


def _raise_system_exit() -> None:
    raise SystemExit("injected")


def actions_async_sleep() -> Any:
    from actions import async_sleep

    return async_sleep


# -- worker threads -------------------------------------------------------------------------------
def test_worker_that_dies_mid_run_fails_that_run_and_is_replaced(
    srt: jido.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = driver_module._Attempt.started

    def started(self: Any, waited: float) -> bool:
        if self.run.call.spec.name == "sync_ok":
            raise SystemExit("injected into a worker")
        return real(self, waited)

    monkeypatch.setattr(driver_module._Attempt, "started", started)
    with Stopwatch() as sw, pytest.raises(jido.InternalError) as info:
        srt.run(sync_ok, timeout=1)
    assert sw.elapsed < BOUND
    assert info.value.details["thread"] == "worker"
    assert "worker thread died" in info.value.message
    assert isinstance(info.value.__cause__, SystemExit)
    assert _restarted(srt)
    monkeypatch.undo()
    refs = [srt.run_async(square, {"x": i}, timeout=2) for i in range(20)]
    assert [ref.result(BOUND)["x"] for ref in refs] == [i * i for i in range(20)]
    assert srt.stats()["threads"] <= 4


def test_worker_that_dies_between_runs_loses_nothing(
    srt: jido.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = threads_module.ThreadPool._take
    once = threading.Event()

    def take(self: Any, worker: Any) -> None:
        if worker.finishing is not None and not once.is_set():
            once.set()
            raise KeyboardInterrupt("injected after a job, before its outcome is delivered")
        real(self, worker)

    monkeypatch.setattr(threads_module.ThreadPool, "_take", take)
    with Stopwatch() as sw:  # its outcome was delivered by the dying worker's supervisor
        assert srt.run(square, {"x": 2}, timeout=1) == {"x": 4}
    assert sw.elapsed < BOUND
    assert _restarted(srt)
    refs = [srt.run_async(square, {"x": i}, timeout=2) for i in range(10)]
    assert [ref.result(BOUND)["x"] for ref in refs] == [i * i for i in range(10)]


def test_completion_that_breaks_fails_the_run_instead_of_hanging_it(
    srt: jido.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = call_module.Call.succeeded

    def succeeded(self: Any, attempt: int, result: Any, queued: float = 0.0) -> Any:
        if self.spec.name == "sync_ok":
            raise RuntimeError("a bug while completing the run")
        return real(self, attempt, result, queued)

    monkeypatch.setattr(call_module.Call, "succeeded", succeeded)
    with Stopwatch() as sw, pytest.raises(jido.InternalError) as info:
        srt.run(sync_ok, timeout=1)
    assert sw.elapsed < BOUND
    assert isinstance(info.value.__cause__, RuntimeError)
    assert srt.stats()["restarts"] == 0  # contained: no thread died
    monkeypatch.undo()
    assert srt.run(sync_ok, timeout=1) == {"ok": True}


# -- user code cannot stop a runtime thread -------------------------------------------------------
@pytest.mark.parametrize("exc_type", [SystemExit, KeyboardInterrupt, GeneratorExit, ValueError])
def test_a_raising_telemetry_handler_is_detached_and_the_run_is_unharmed(
    srt: jido.Runtime, exc_type: type[BaseException]
) -> None:
    calls: list[str] = []

    def handler(event: jido.telemetry.Event) -> None:
        calls.append(event.name)
        raise exc_type("handler broke")

    # attempt.stop is emitted by the thread that completes the run: a worker, the loop
    ref = jido.telemetry.attach(handler, events=["attempt.stop"])
    try:
        assert srt.run(sync_ok, timeout=1) == {"ok": True}
        assert srt.run(async_ok, timeout=1) == {"ok": True}
    finally:
        jido.telemetry.detach(ref)
    assert len(calls) == 1  # detached after its first failure
    assert srt.stats()["restarts"] == 0


class _Hostile:
    def __repr__(self) -> str:
        raise SystemExit("a __repr__ that exits")


@jido.action
def returns_hostile() -> dict[str, Any]:
    return {"value": _Hostile()}


def test_a_result_whose_repr_exits_never_reaches_a_runtime_thread(srt: jido.Runtime) -> None:
    seen: list[Any] = []
    ref = jido.telemetry.attach(seen.append, events=["attempt.stop"], include_values=True)
    try:
        result = srt.run(returns_hostile, timeout=1)
    finally:
        jido.telemetry.detach(ref)
    assert isinstance(result["value"], _Hostile)
    assert "values_error" in seen[0].metadata
    assert srt.stats()["restarts"] == 0
