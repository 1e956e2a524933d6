"""The process engine under faults: its threads, its children, its stop protocol, leaks.

Fault injection reaches into the pool on purpose: an exception raised into its reader and
spawner threads, SIGKILL to idle and busy children and at random moments, SIGTERM in
start-up, a killed forkserver, a child that cannot be started, a late SIGKILL.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import random
import signal
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import jido
import process_actions as pa
from process_pool import PROCESS_STOPS, alive, children_of, engine_of, open_fds, python
from support import TESTS, Stopwatch, wait_until


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
        engine = engine_of(rt)
        ref = rt.run_async(pa.nap, {"seconds": 30}, isolation="process", timeout=60)
        assert wait_until(lambda: any(c.job is not None for c in children_of(rt)), timeout=10)
        busy = next(c for c in children_of(rt) if c.job is not None).process.pid
        old = engine._reader
        _raise_in(old)
        engine._wake()
        with Stopwatch() as sw, pytest.raises(jido.InternalError) as info:
            ref.result(10)
        assert sw.elapsed < 3.0
        assert "reader thread died" in info.value.message
        assert "PoolFault" in info.value.message
        assert info.value.retryable is False
        assert wait_until(lambda: not alive(busy), timeout=5)
        assert wait_until(lambda: engine._reader is not old and engine._reader.is_alive(), 5)
        assert not old.is_alive()
        assert [rt.run(pa.pid, isolation="process", timeout=30) for _ in range(3)]


def test_a_dead_spawner_is_restarted() -> None:
    with jido.Runtime(name="spawner-fault", max_processes=2) as rt:
        rt.run(pa.pid, isolation="process")
        engine = engine_of(rt)
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
        assert wait_until(lambda: not alive(first), timeout=5)
        assert wait_until(lambda: [c.ready for c in children_of(rt)] == [True], timeout=30)
        assert rt.run(pa.pid, isolation="process")["pid"] != first


def test_a_child_killed_while_running_fails_that_attempt_only() -> None:
    with jido.Runtime(name="busy-kill", max_processes=1) as rt:
        rt.run(pa.pid, isolation="process")
        ref = rt.run_async(pa.nap, {"seconds": 30}, isolation="process", max_retries=0)
        assert wait_until(lambda: any(c.job is not None for c in children_of(rt)), timeout=10)
        os.kill(children_of(rt)[0].process.pid, signal.SIGKILL)
        with pytest.raises(jido.ExecutionError) as info:
            ref.result(10)
        assert info.value.details["exitcode"] == -signal.SIGKILL
        assert rt.run(pa.pid, isolation="process", timeout=30)


@pytest.mark.slow
def test_children_killed_at_random_moments_never_hang_a_run_or_leak() -> None:
    rng = random.Random(8)
    threads_before = threading.active_count()
    fds_before = open_fds()
    with jido.Runtime(name="chaos", max_processes=2, stop_timeout=0.1) as rt:
        rt.run(pa.pid, isolation="process")
        fds_before = max(fds_before, 0)
        refs = []
        for i in range(40):
            params = {"seconds": rng.uniform(0, 0.2)}
            refs.append(rt.run_async(pa.nap, params, isolation="process", timeout=5))
            if i % 3 == 0:
                time.sleep(rng.uniform(0, 0.1))
                victims = [c for c in children_of(rt) if c.process.pid]
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
        pids = [c.process.pid for c in children_of(rt)]
    assert all(wait_until(lambda p=p: not alive(p), timeout=5) for p in pids)
    assert multiprocessing.active_children() == []
    assert wait_until(lambda: threading.active_count() <= threads_before, timeout=5)
    assert wait_until(lambda: open_fds() <= fds_before, timeout=5)


def test_process_runs_leave_no_children_threads_or_descriptors() -> None:
    warm = jido.Runtime(name="warm")  # the forkserver is started once per process
    warm.run(pa.pid, isolation="process")
    warm.shutdown()
    threads, fds = threading.active_count(), open_fds()
    with jido.Runtime(name="leaks", max_processes=2, stop_timeout=0.1) as rt:
        for i in range(20):
            with contextlib.suppress(jido.TimeoutError):
                rt.run(pa.nap, {"seconds": 0.3 if i % 2 else 0}, isolation="process", timeout=0.1)
    assert multiprocessing.active_children() == []
    assert wait_until(lambda: threading.active_count() <= threads, timeout=5)
    assert wait_until(lambda: open_fds() <= fds, timeout=5)


def test_closing_the_pool_ends_every_run() -> None:
    rt = jido.Runtime(name="close-runs", max_processes=1)
    rt.run(pa.pid, isolation="process")
    refs = [
        rt.run_async(pa.nap, {"seconds": 30}, isolation="process", timeout=60) for _ in range(3)
    ]
    assert wait_until(lambda: any(c.job is not None for c in children_of(rt)), timeout=10)
    engine_of(rt).close()  # the pool goes first (as at interpreter exit)
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
        assert wait_until(lambda: not alive(pid), timeout=5)
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
        proc = python(str(script))
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
        engine = engine_of(rt)
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
        job = next(c.job for c in children_of(rt) if c.job is not None)
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
        assert wait_until(lambda: not alive(first), timeout=5)
        assert rt.run(pa.pid, isolation="process", timeout=60)["pid"] not in (first, server)
