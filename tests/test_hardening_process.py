"""The process engine under faults: start-up, stops, supervision, leaks (issue 8: 7, 13).

Each test starts from a reproducer: a stop during a child's start-up, short timeouts on
a cold pool, an action from an interactive session, a caller blocked while a child
starts, a pool thread that dies, children killed at random moments, actions raising
SystemExit. Fault injection reaches into the pool (its threads and children) on purpose.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import jido
import process_actions as pa
from conftest import TESTS, Stopwatch, wait_until

PROCESS_STOPS = {"interrupted", "killed", "not_started"}


def _engine(rt: jido.Runtime) -> Any:
    assert rt._processes is not None
    return rt._processes


def _children(rt: jido.Runtime) -> list[Any]:
    engine = _engine(rt)
    with engine._cond:
        return list(engine._all.values())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- defect 13: starting a run never waits for a child ---------------------------------------------
COLD_START = textwrap.dedent(
    """
    import asyncio, sys, time
    sys.path.insert(0, {tests!r})
    import jido, process_actions as pa

    async def ticking(rt):
        gaps, stop = [], asyncio.Event()
        async def ticker():
            last = time.monotonic()
            while not stop.is_set():
                await asyncio.sleep(0.005)
                gaps.append(time.monotonic() - last)
                last = time.monotonic()
        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.02)
        await rt.arun(pa.pid, isolation="process", timeout=60)
        stop.set()
        await task
        return max(gaps)

    if __name__ == "__main__":
        rt = jido.Runtime(name="cold")
        if {mode!r} == "run_async":
            start = time.monotonic()
            ref = rt.run_async(pa.pid, isolation="process", timeout=60)
            blocked = time.monotonic() - start
            ref.result(60)
        else:
            blocked = asyncio.run(ticking(rt))
        rt.shutdown()
        print(blocked)
    """
)


@pytest.mark.parametrize("mode", ["run_async", "arun"])
def test_starting_a_process_run_in_a_fresh_interpreter_does_not_block(
    mode: str, tmp_path: Path
) -> None:
    """Reproducer: the first process run held the caller (or its loop) while a child started.

    In a fresh interpreter nothing has started yet (the forkserver included).
    """
    script = tmp_path / "cold.py"
    script.write_text(COLD_START.format(tests=str(TESTS), mode=mode))
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    blocked = float(proc.stdout.strip().splitlines()[-1])
    assert blocked < 0.2, blocked  # a child takes 0.1-0.5 s to start (1.1-1.6 s here before)


def test_run_async_on_a_cold_pool_returns_at_once() -> None:
    with jido.Runtime(name="cold-async", max_processes=1, start_method="spawn") as rt:
        with Stopwatch() as sw:
            ref = rt.run_async(pa.pid, isolation="process", timeout=30)
        assert sw.elapsed < 0.1
        assert not ref.done()
        assert ref.result(30)["pid"] != os.getpid()


# -- defect 7: stops during start-up, a cold pool, notebook actions --------------------------------
def test_a_stop_while_the_child_starts_is_not_started_and_the_child_is_kept() -> None:
    with jido.Runtime(name="startup-stop", max_processes=1, start_method="spawn") as rt:
        with pytest.raises(jido.TimeoutError) as info:
            rt.run(pa.pid, isolation="process", timeout=0.02, max_retries=0)
        assert info.value.details["stop"] == "not_started"
        assert info.value.details["stopped"] is True
        first = rt.run(pa.pid, isolation="process", timeout=30)["pid"]
        assert rt.run(pa.pid, isolation="process", timeout=30)["pid"] == first
        assert rt.stats()["processes"] == 1


def test_short_timeouts_on_a_cold_pool_still_run_the_action() -> None:
    """Reproducer: each attempt used to spawn a child killed in start-up (111 runs, none ran).

    Runs whose timeout ends while the only child starts are ``not_started`` (or stopped
    while the child imports the action's module); the child keeps starting, and from the
    first run it completes, every run executes on it.
    """
    outcomes: list[str] = []
    pids: set[int] = set()

    def attempt(rt: jido.Runtime) -> str:
        try:
            pids.add(rt.run(pa.pid, isolation="process", timeout=0.1, max_retries=0)["pid"])
        except jido.TimeoutError as exc:
            return str(exc.details["stop"])
        return "ok"

    with jido.Runtime(name="cold-short", max_processes=1, start_method="spawn") as rt:
        end = time.monotonic() + 60
        while "ok" not in outcomes and time.monotonic() < end:
            outcomes.append(attempt(rt))
        warm = [attempt(rt) for _ in range(30)]
    assert set(outcomes) <= PROCESS_STOPS | {"ok"}, outcomes
    assert outcomes[-1] == "ok"
    assert warm == ["ok"] * 30
    assert len(pids) == 1  # one child, kept for every run


def test_sigterm_during_child_start_up_does_not_lose_the_run() -> None:
    with jido.Runtime(name="startup-sigterm", max_processes=1, start_method="spawn") as rt:
        ref = rt.run_async(pa.pid, isolation="process", timeout=60)
        assert wait_until(lambda: rt._processes is not None and _children(rt), timeout=10)
        child = _children(rt)[0]
        assert not child.ready
        first = child.process.pid
        os.kill(first, signal.SIGTERM)  # before its handler is installed
        result = ref.result(60)
        assert result["pid"] != first
        assert rt.stats()["processes"] == 1


def test_every_stop_carries_a_process_stop_value() -> None:
    stops: list[str] = []
    with jido.Runtime(name="stop-values", max_processes=2, stop_timeout=0.1) as rt:
        for i in range(24):
            action = pa.nap if i % 2 else pa.pid
            params = {"seconds": 5} if i % 2 else {}
            ref = rt.run_async(action, params, isolation="process", timeout=30, max_retries=0)
            time.sleep(random.uniform(0, 0.05))
            ref.cancel()
            try:
                ref.result(10)
            except jido.CancelledError as exc:
                stops.append(exc.details["stop"])
    assert stops
    assert set(stops) <= PROCESS_STOPS, stops


INTERACTIVE = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    import jido

    @jido.action
    def local_act() -> dict:
        return {{}}

    class Box:
        pass

    import process_actions
    results = []
    nap = {{"seconds": 0, "marker": ""}}
    for action, params in ((local_act, None), (process_actions.nap, nap)):
        start = time.monotonic()
        try:
            jido.run(action, params, {{"box": Box()}} if params else None,
                     isolation="process", max_retries=3, backoff=1.0)
        except jido.JidoError as exc:
            results.append((type(exc).__name__, exc.retryable, time.monotonic() - start,
                            exc.message))
    for name, retryable, elapsed, message in results:
        print(name, retryable, round(elapsed, 3), message, sep="|")
    """
)


def test_an_action_from_an_interactive_session_is_refused_before_anything_is_sent() -> None:
    """Reproducer: a notebook action got a retried ExecutionError after 1.2 s."""
    code = INTERACTIVE.format(tests=str(TESTS))
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=TESTS,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line.split("|") for line in proc.stdout.strip().splitlines()]
    assert len(lines) == 2, proc.stdout
    for name, retryable, elapsed, message in lines:
        assert name == "ValidationError"
        assert retryable == "False"
        assert float(elapsed) < 0.5
        assert "interactive session" in message
    assert "local_act" in lines[0][3]
    assert "Box" in lines[1][3]  # a context value from the session names its class


def test_a_script_local_action_is_refused_at_once() -> None:
    @jido.action
    def local() -> dict[str, Any]:
        return {}

    with Stopwatch() as sw, pytest.raises(jido.ValidationError) as info:
        jido.run(local, isolation="process", max_retries=3)
    assert sw.elapsed < 0.5
    assert info.value.retryable is False


# -- BaseException policy ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(pa.EXITS))
@pytest.mark.parametrize("action", [pa.exits, pa.async_exits], ids=["sync", "async"])
def test_an_action_raising_an_exit_fails_its_run_and_the_child_survives(
    kind: str, action: Any
) -> None:
    with jido.Runtime(name="exits", max_processes=1) as rt:
        before = rt.run(pa.pid, isolation="process")["pid"]
        with Stopwatch() as sw, pytest.raises(jido.ExecutionError) as info:
            rt.run(action, {"kind": kind}, isolation="process", max_retries=3, backoff=1)
        assert sw.elapsed < 2.0
        assert info.value.retryable is False
        assert info.value.details["attempts"] == 1
        assert info.value.details["exception"] == kind
        assert rt.run(pa.pid, isolation="process")["pid"] == before


def test_a_child_that_exits_is_replaced() -> None:
    with jido.Runtime(name="hard-exit", max_processes=1) as rt:
        with pytest.raises(jido.ExecutionError) as info:
            rt.run(pa.hard_exit, {"code": 3}, isolation="process", max_retries=0)
        assert info.value.details["exitcode"] == 3
        assert rt.run(pa.pid, isolation="process")["pid"] != os.getpid()
        assert rt.stats()["processes"] == 1


def test_a_result_that_cannot_be_rebuilt_fails_the_run_not_the_reader() -> None:
    with jido.Runtime(name="poison", max_processes=1) as rt:
        with pytest.raises(jido.ExecutionError) as info:
            rt.run(pa.poisoned_result, isolation="process", max_retries=2)
        assert info.value.retryable is False
        assert "could not read the child's result" in info.value.message
        assert rt.run(pa.pid, isolation="process")["pid"] != os.getpid()


# -- supervision: the pool's threads and children ------------------------------------------------
class PoolFault(Exception):
    """Raised into a pool thread by the tests."""


def _raise_in(thread: threading.Thread) -> None:
    assert thread.ident is not None
    done = ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(PoolFault)
    )
    assert done == 1


def test_a_dead_reader_is_restarted_and_the_runs_it_held_fail_with_internal_error() -> None:
    with jido.Runtime(name="reader-fault", max_processes=2) as rt:
        rt.run(pa.pid, isolation="process")
        engine = _engine(rt)
        ref = rt.run_async(pa.nap, {"seconds": 30}, isolation="process", timeout=60)
        assert wait_until(lambda: any(c.job is not None for c in _children(rt)), timeout=10)
        busy = next(c for c in _children(rt) if c.job is not None).process.pid
        old = engine._reader
        _raise_in(old)
        engine._wake()
        with Stopwatch() as sw, pytest.raises(jido.InternalError) as info:
            ref.result(10)
        assert sw.elapsed < 3.0
        assert "reader thread died" in info.value.message
        assert "PoolFault" in info.value.message
        assert info.value.retryable is False
        assert wait_until(lambda: not _alive(busy), timeout=5)
        assert engine._reader is not old
        assert engine._reader.is_alive()
        assert not old.is_alive()
        assert [rt.run(pa.pid, isolation="process", timeout=30) for _ in range(3)]


def test_a_dead_spawner_is_restarted() -> None:
    with jido.Runtime(name="spawner-fault", max_processes=2) as rt:
        rt.run(pa.pid, isolation="process")
        engine = _engine(rt)
        old = engine._spawner
        _raise_in(old)
        with engine._cond:
            engine._cond.notify_all()
        assert wait_until(lambda: engine._spawner is not old and engine._spawner.is_alive(), 5)
        refs = [rt.run_async(pa.nap, {"seconds": 1}, isolation="process") for _ in range(2)]
        assert wait_until(lambda: rt.stats()["processes"] == 2, timeout=10)  # a new child
        assert [len(ref.result(30)) for ref in refs] == [1, 1]


def test_a_child_killed_while_idle_is_replaced() -> None:
    with jido.Runtime(name="idle-kill", max_processes=1) as rt:
        first = rt.run(pa.pid, isolation="process")["pid"]
        os.kill(first, signal.SIGKILL)
        assert wait_until(lambda: not _alive(first), timeout=5)
        assert wait_until(lambda: [c.ready for c in _children(rt)] == [True], timeout=30)
        assert rt.run(pa.pid, isolation="process")["pid"] != first


def test_a_child_killed_while_running_fails_that_attempt_only() -> None:
    with jido.Runtime(name="busy-kill", max_processes=1) as rt:
        rt.run(pa.pid, isolation="process")
        ref = rt.run_async(pa.nap, {"seconds": 30}, isolation="process", max_retries=0)
        assert wait_until(lambda: any(c.job is not None for c in _children(rt)), timeout=10)
        os.kill(_children(rt)[0].process.pid, signal.SIGKILL)
        with pytest.raises(jido.ExecutionError) as info:
            ref.result(10)
        assert info.value.details["exitcode"] == -signal.SIGKILL
        assert rt.run(pa.pid, isolation="process", timeout=30)


@pytest.mark.slow
def test_children_killed_at_random_moments_never_hang_a_run_or_leak() -> None:
    rng = random.Random(8)
    threads_before = threading.active_count()
    fds_before = _open_fds()
    with jido.Runtime(name="chaos", max_processes=2, stop_timeout=0.1) as rt:
        rt.run(pa.pid, isolation="process")
        fds_before = max(fds_before, 0)
        refs = []
        for i in range(40):
            params = {"seconds": rng.uniform(0, 0.2)}
            refs.append(rt.run_async(pa.nap, params, isolation="process", timeout=5))
            if i % 3 == 0:
                time.sleep(rng.uniform(0, 0.1))
                victims = [c for c in _children(rt) if c.process.pid]
                if victims:
                    with_signal = rng.choice(victims).process.pid
                    os.kill(with_signal, signal.SIGKILL)
        ends: list[str] = []
        for ref in refs:
            try:
                ref.result(30)
                ends.append("ok")
            except (jido.ExecutionError, jido.TimeoutError) as exc:
                ends.append(exc.type)
        assert len(ends) == 40
        assert ends.count("ok") >= 20, ends
        assert rt.run(pa.pid, isolation="process", timeout=30)
        pids = [c.process.pid for c in _children(rt)]
    assert all(wait_until(lambda p=p: not _alive(p), timeout=5) for p in pids)
    assert multiprocessing.active_children() == []
    assert wait_until(lambda: threading.active_count() <= threads_before, timeout=5)
    assert wait_until(lambda: _open_fds() <= fds_before, timeout=5)


def test_process_runs_leave_no_children_threads_or_descriptors() -> None:
    warm = jido.Runtime(name="warm")  # the forkserver is started once per process
    warm.run(pa.pid, isolation="process")
    warm.shutdown()
    threads, fds = threading.active_count(), _open_fds()
    with jido.Runtime(name="leaks", max_processes=2, stop_timeout=0.1) as rt:
        for i in range(20):
            with contextlib.suppress(jido.TimeoutError):
                rt.run(pa.nap, {"seconds": 0.3 if i % 2 else 0}, isolation="process", timeout=0.1)
    assert multiprocessing.active_children() == []
    assert wait_until(lambda: threading.active_count() <= threads, timeout=5)
    assert wait_until(lambda: _open_fds() <= fds, timeout=5)


def test_closing_the_pool_ends_every_run() -> None:
    rt = jido.Runtime(name="close-runs", max_processes=1)
    rt.run(pa.pid, isolation="process")
    refs = [
        rt.run_async(pa.nap, {"seconds": 30}, isolation="process", timeout=60) for _ in range(3)
    ]
    assert wait_until(lambda: any(c.job is not None for c in _children(rt)), timeout=10)
    _engine(rt).close()  # the pool goes first (as at interpreter exit)
    for ref in refs:
        with pytest.raises(jido.JidoError) as info:
            ref.result(5)
        assert info.value.details.get("stop") in PROCESS_STOPS | {None}
    rt.shutdown()


def test_side_effects_stop_when_cancel_returns(tmp_path: Path) -> None:
    path = tmp_path / "effects"
    with jido.Runtime(name="effects", max_processes=2) as rt:
        rt.run(pa.pid, isolation="process")
        for _ in range(10):
            ref = rt.run_async(
                pa.side_effect, {"path": str(path), "seconds": 0.05}, isolation="process"
            )
            time.sleep(random.uniform(0, 0.08))
            ref.cancel()
            before = path.read_text() if path.exists() else ""
            time.sleep(0.15)
            after = path.read_text() if path.exists() else ""
            assert after == before


# -- the child's stop protocol -------------------------------------------------------------------
def test_a_job_whose_stop_arrived_first_does_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    from jido._core.cancel import CancelReason
    from jido._engines import child

    cell = multiprocessing.RawValue("q", child.encode_stop(5, CancelReason.TIMEOUT))
    monkeypatch.setattr(child, "_cell", cell)
    data = (5).to_bytes(8, "little") + b"never unpickled"
    assert pickle.loads(child._serve(data))[1].mechanism == "not_started"
    assert child._job == 0


def test_a_plain_sigterm_still_ends_an_idle_child_whose_last_job_was_stopped() -> None:
    # stop_timeout=1: a loaded machine must not turn the interrupt into a kill here
    with jido.Runtime(name="plain-sigterm", max_processes=1, stop_timeout=1.0) as rt:
        rt.run(pa.pid, isolation="process")
        with pytest.raises(jido.TimeoutError) as info:
            rt.run(pa.nap, {"seconds": 30}, isolation="process", timeout=0.2, max_retries=0)
        assert info.value.details["stop"] == "interrupted"
        pid = rt.run(pa.pid, isolation="process")["pid"]  # the same child, idle again
        os.kill(pid, signal.SIGTERM)  # as multiprocessing's exit hook does
        assert wait_until(lambda: not _alive(pid), timeout=5)
        assert rt.run(pa.pid, isolation="process")["pid"] != pid


EXIT_WITHOUT_CLOSE = textwrap.dedent(
    """
    import atexit, sys
    sys.path.insert(0, {tests!r})
    import jido, process_actions as pa

    if __name__ == "__main__":
        rt = jido.Runtime(name="exit", max_processes=1, stop_timeout=1.0)
        rt.run(pa.pid, isolation="process")
        try:
            rt.run(pa.nap, {{"seconds": 30}}, isolation="process", timeout=0.2, max_retries=0)
        except jido.TimeoutError:
            pass
        assert rt.stats()["processes"] == 1
        rt.run(pa.pid, isolation="process")
        atexit.unregister(rt._processes.close)  # as if the pool's own exit hook had failed
        print("exiting")
    """
)


def test_the_interpreter_exits_even_if_the_pool_is_not_closed(tmp_path: Path) -> None:
    script = tmp_path / "exit.py"
    script.write_text(EXIT_WITHOUT_CLOSE.format(tests=str(TESTS)))
    with Stopwatch() as sw:
        proc = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            check=False,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert proc.returncode == 0, proc.stderr
    assert "exiting" in proc.stdout
    assert sw.elapsed < 20


def test_a_child_that_cannot_be_started_fails_the_waiting_run_then_the_pool_recovers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jido._engines import children

    real = children.start_child
    failures = iter([OSError(24, "Too many open files")])

    def flaky(ctx: Any, name: str) -> Any:
        for exc in failures:
            raise exc
        return real(ctx, name)

    monkeypatch.setattr(children, "start_child", flaky)
    with jido.Runtime(name="spawn-fails", max_processes=1) as rt:
        with pytest.raises(jido.ExecutionError) as info:
            rt.run(pa.pid, isolation="process", max_retries=0, timeout=30)
        assert "could not start a child process" in info.value.message
        assert "Too many open files" in info.value.message
        assert rt.run(pa.pid, isolation="process", timeout=30)["pid"] != os.getpid()


def test_a_kill_that_lands_after_its_job_replied_does_not_end_the_next_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race: SIGKILL for job J is sent as J's result is on its way; K is queued."""
    with jido.Runtime(name="late-kill", max_processes=1) as rt:
        rt.run(pa.pid, isolation="process")
        engine = _engine(rt)
        replied, proceed = threading.Event(), threading.Event()
        real = engine._on_result

        def held(worker: Any, data: bytes) -> None:
            replied.set()
            proceed.wait(10)
            real(worker, data)

        monkeypatch.setattr(engine, "_on_result", held)
        first = rt.run_async(pa.nap, {"seconds": 0.1}, isolation="process", timeout=30)
        second = rt.run_async(pa.pid, isolation="process", timeout=30, max_retries=0)
        assert replied.wait(10)  # the first job's result has been read, not yet handled
        job = next(c.job for c in _children(rt) if c.job is not None)
        engine._kill(job)  # the driver's escalation, just too late
        monkeypatch.setattr(engine, "_on_result", real)
        proceed.set()
        assert first.result(10)["pid"] > 0
        assert second.result(30)["pid"] != first.result(0)["pid"]  # on a new child


def test_a_dead_forkserver_is_started_again_for_the_next_child() -> None:
    from multiprocessing import forkserver

    with jido.Runtime(name="forkserver-kill", max_processes=1, start_method="forkserver") as rt:
        first = rt.run(pa.pid, isolation="process")["pid"]
        server = forkserver._forkserver._forkserver_pid
        assert server is not None
        os.kill(server, signal.SIGKILL)
        os.kill(first, signal.SIGKILL)  # its replacement needs a forkserver
        assert wait_until(lambda: not _alive(first), timeout=5)
        assert rt.run(pa.pid, isolation="process", timeout=60)["pid"] not in (first, server)
