"""The process engine's regression tests (issue 8: defects 7 and 13, the BaseException policy).

Each test starts from a reproducer: a caller blocked while a child starts, a stop during
a child's start-up, short timeouts on a cold pool, an action from an interactive session,
actions raising SystemExit. Fault injection (dead pool threads, killed children, the
stop protocol) is in test_process_faults.py.
"""

from __future__ import annotations

import os
import random
import signal
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import jido
import process_actions as pa
from process_pool import PROCESS_STOPS, children_of, python
from support import TESTS, Stopwatch, wait_until

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
    proc = python(str(script), timeout=120)
    assert proc.returncode == 0, proc.stderr
    blocked = float(proc.stdout.strip().splitlines()[-1])
    assert blocked < 0.2, blocked  # a child takes 0.1-0.5 s to start (1.1-1.6 s here before)


def test_run_async_on_a_cold_pool_returns_at_once() -> None:
    with jido.Runtime(name="cold-async", max_processes=1, start_method="spawn") as rt:
        with Stopwatch() as sw:
            ref = rt.run_async(pa.pid, isolation="process", timeout=30)
        assert sw.elapsed < 0.2  # as the conformance suite; a spawned child takes 0.3-1 s
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
        assert wait_until(lambda: rt._processes is not None and children_of(rt), timeout=10)
        child = children_of(rt)[0]
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
    proc = python("-c", code)
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
