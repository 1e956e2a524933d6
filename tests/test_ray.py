"""The Ray engine: what only a cluster has (issue 5, points 1-3).

The run contract on Ray (results, validation before dispatch, errors with their type,
message, details and cause, retries and backoff, timeouts and cancel that stop the work,
AsyncRef semantics, compensation, nested runs, telemetry events and trace context) is held
by the engine conformance suite, tests/conformance/, whose ``ray`` parametrization runs on
the same session cluster as this file. Here: no task reaches the cluster before validation,
the escalation from Ray's soft cancel to the force-kill of a worker, workers that die,
jido's retries instead of Ray's, connecting (and failing to), task options, chains and
plans on a Ray runtime.

All tests share one local cluster (the ``ray_runtime`` fixture, started once per session).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jido
import jido.engines
import jido.testing
from conformance import actions
from conformance.actions import Probe
from jido._run.outcome import Stopped
from jido._run.timers import Timers
from jido.workflow import Plan, achain, chain, chain_async
from support import Stopwatch, wait_until

ray = pytest.importorskip("ray", reason='Ray is not installed (pip install "jido[ray]")')

from jido._engines.ray import driver as ray_engine  # noqa: E402 (needs Ray)

pytestmark = pytest.mark.ray

STOP_TIMEOUT = 0.1  # the runtime's default


@pytest.fixture
def rrt(ray_runtime: jido.Runtime) -> Iterator[jido.Runtime]:
    """A runtime on the session's Ray cluster, shut down after the test (the cluster stays)."""
    with jido.Runtime(name="ray-test", engine=jido.engines.Ray()) as runtime:
        yield runtime


@pytest.fixture
def probe(tmp_path: Path) -> Probe:
    return Probe(tmp_path / "probe")


def warm(rt: jido.Runtime) -> None:
    """Both worker slots up (Ray restarts a killed worker in the background)."""
    refs = [rt.run_async(actions.nap, {"seconds": 0.05}, timeout=60) for _ in range(2)]
    for ref in refs:
        ref.result(60)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return not f.read().split(") ")[1].startswith("Z")
    except (FileNotFoundError, IndexError):
        return False


class SubmitSpy:
    """Counts the Ray tasks a runtime submits to the cluster (wraps its remote function)."""

    def __init__(self, rt: jido.Runtime) -> None:
        self.engine = rt._remote
        self.task = self.engine._task
        self.count = 0
        self.engine._task = self

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        ref = self.task.remote(*args, **kwargs)  # raises if Ray cannot serialize the payload
        self.count += 1
        return ref


# -- point 1: the same actions, one line changed ---------------------------------------------------
def test_the_readme_example_runs_as_ray_tasks(ray_runtime: jido.Runtime) -> None:
    with jido.Runtime(engine=jido.engines.Ray()) as rt:
        warm(rt)  # a cold worker's start-up (imports) counts against the attempt's timeout
        assert rt.run(actions.Add, {"value": 5}, timeout=2.0) == {"value": 6}
        ref = rt.run_async(actions.Add, {"value": 5})
        assert ref.result() == {"value": 6}
        assert asyncio.run(rt.arun(actions.async_square, {"x": 3})) == {"x": 9}
        assert rt.run(actions.where)["pid"] != os.getpid()  # in a Ray worker
    assert ray.is_initialized()  # a runtime that joined the cluster leaves it running
    assert repr(jido.engines.Ray(address="auto")) == "jido.engines.Ray(address='auto')"


def test_a_runtime_that_started_ray_stops_it(ray_runtime: jido.Runtime) -> None:
    # the session runtime started the local cluster: it owns it (and stops it at the end)
    assert ray_runtime._remote._owns_ray is True
    with jido.Runtime(engine=jido.engines.Ray()) as rt:
        assert rt._remote._owns_ray is False


# -- point 2: validation before dispatch -----------------------------------------------------------
def test_a_validation_error_never_reaches_the_cluster(rrt: jido.Runtime, probe: Probe) -> None:
    spy = SubmitSpy(rrt)
    with pytest.raises(jido.ValidationError):
        rrt.run(actions.Validated, {"n": "x"}, {"probe": probe}, max_retries=3)
    with pytest.raises(jido.ValidationError):
        rrt.run_async(actions.Validated, {"n": "x"}, {"probe": probe}).result(5)
    with pytest.raises(jido.ValidationError):
        asyncio.run(rrt.arun(actions.RejectedByHook, {"n": 1}, {"probe": probe}))
    with pytest.raises(jido.ConfigError):
        rrt.run(actions.Validated, {"n": 1}, {"probe": probe}, max_retries=-1)
    import threading

    with pytest.raises(jido.ValidationError) as info:  # a context Ray cannot serialize
        rrt.run(actions.Validated, {"n": 1}, {"probe": probe, "lock": threading.Lock()})
    assert "serializable" in info.value.message
    assert spy.count == 0  # nothing was submitted
    assert probe.attempts == []  # and nothing ran
    assert rrt.run(actions.Validated, {"n": "7"}, {"probe": probe}) == {"n": 7}
    assert spy.count == 1
    assert len(probe.attempts) == 1


# -- point 2: timeouts and cancel stop the remote work ---------------------------------------------
def test_a_timeout_soft_cancels_python_code(ray_runtime: jido.Runtime, probe: Probe) -> None:
    """CPU-bound Python: Ray's soft cancel becomes jido's interrupt; the worker survives.

    The soft cancel is given 1 s before the force kill (``stop_timeout``), so that a busy
    machine cannot turn this test into the force-kill one below.
    """
    grace = 1.0
    with jido.Runtime(name="ray-soft", engine=jido.engines.Ray(), stop_timeout=grace) as rt:
        warm(rt)
        with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
            rt.run(actions.spin, None, {"probe": probe}, timeout=0.4, max_retries=0)
    assert sw.elapsed < 0.4 + grace + 1.0
    assert info.value.details["stop"] == "interrupted"
    assert info.value.details["stopped"] is True
    assert probe.finished(2.0)  # its finally block ran, in the worker
    assert probe.frozen()
    assert alive(probe.pids[0])  # not killed: the worker is reused


def test_a_timeout_force_kills_a_task_blocked_in_sleep(rrt: jido.Runtime, probe: Probe) -> None:
    """time.sleep ignores Ray's soft cancel: the worker is killed after stop_timeout."""
    warm(rrt)
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        rrt.run(
            actions.blocked_sleep, {"seconds": 1.5}, {"probe": probe}, timeout=0.4, max_retries=0
        )
    assert 0.4 + STOP_TIMEOUT - 0.02 <= sw.elapsed < 0.4 + STOP_TIMEOUT + 1.0
    assert info.value.details["stop"] == "killed"
    assert info.value.details["stopped"] is True
    [pid] = probe.pids
    assert wait_until(lambda: not alive(pid), timeout=10)
    # long after the sleep would have ended, the action never went on: it really stopped
    time.sleep(max(0.0, probe.attempts[0] + 1.5 + 0.3 - time.monotonic()))
    assert not probe.has("completed")
    assert not probe.has("finished")  # a killed process runs no finally block
    assert rrt.run(actions.where, timeout=60)["pid"] != pid  # Ray started another worker


def test_cancel_stops_the_remote_task(rrt: jido.Runtime, tmp_path: Path) -> None:
    soft, hard = Probe(tmp_path / "soft"), Probe(tmp_path / "hard")
    warm(rrt)
    spinning = rrt.run_async(actions.spin, None, {"probe": soft}, timeout=60)
    blocked = rrt.run_async(actions.blocked_sleep, {"seconds": 1.5}, {"probe": hard}, timeout=60)
    assert soft.started(10)
    assert hard.started(10)
    with Stopwatch() as sw:
        spinning.cancel()
        blocked.cancel()
    assert sw.elapsed < 2.0
    with pytest.raises(jido.CancelledError) as info:
        spinning.result(0)
    assert info.value.details["stop"] == "interrupted"
    assert soft.finished(2.0)
    assert soft.frozen()
    with pytest.raises(jido.CancelledError) as info:
        blocked.result(0)
    assert info.value.details["stop"] == "killed"
    assert wait_until(lambda: not alive(hard.pids[0]), timeout=10)
    time.sleep(max(0.0, hard.attempts[0] + 1.5 + 0.3 - time.monotonic()))
    assert not hard.has("completed")


def test_shutting_a_runtime_down_stops_its_ray_tasks(
    ray_runtime: jido.Runtime, probe: Probe
) -> None:
    rt = jido.Runtime(name="ray-shutdown", engine=jido.engines.Ray())
    warm(rt)
    ref = rt.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe}, timeout=60)
    assert probe.started(10)
    with Stopwatch() as sw:
        rt.shutdown()
    assert sw.elapsed < 3.0
    with pytest.raises(jido.CancelledError) as info:
        ref.result(0)
    assert info.value.details["reason"] == "shutdown"
    assert probe.finished(2.0)
    assert ray.is_initialized()  # the cluster is not this runtime's to stop


def test_a_task_that_cannot_be_scheduled_times_out(ray_runtime: jido.Runtime) -> None:
    # timeout also covers the time Ray needs to schedule the task (here: never)
    with jido.Runtime(engine=jido.engines.Ray(task_options={"resources": {"no_such": 1}})) as rt:
        with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
            rt.run(actions.square, {"x": 1}, timeout=0.5, max_retries=0)
    assert sw.elapsed < 0.5 + 2.0
    assert info.value.details["stopped"] is True


# -- point 3: a worker dying mid-action ------------------------------------------------------------
def test_a_worker_killed_mid_action_is_a_retryable_execution_error(
    rrt: jido.Runtime, probe: Probe
) -> None:
    warm(rrt)
    ref = rrt.run_async(actions.kill_self, None, {"probe": probe}, max_retries=0, timeout=60)
    with Stopwatch() as sw, pytest.raises(jido.ExecutionError) as info:
        jido.await_(ref, timeout=30)  # never a hang
    assert sw.elapsed < 10
    err = info.value
    assert err.type == "execution_error"
    assert err.retryable is True
    assert "worker" in err.message
    assert "died" in err.message
    assert err.details["engine"] == "ray"
    assert err.details["stopped"] is True
    assert len(probe.attempts) == 1  # Ray did not retry it: retries are jido's


def test_jido_retries_a_task_whose_worker_died(rrt: jido.Runtime, probe: Probe) -> None:
    warm(rrt)
    with jido.testing.no_backoff():
        out = rrt.run(actions.kill_self, None, {"probe": probe}, max_retries=2, timeout=60)
    assert out["attempt"] == 2
    first, second = probe.pids
    assert out["pid"] == second != first


# -- point 3: connecting ---------------------------------------------------------------------------
def test_an_unreachable_cluster_is_a_config_error_at_start_up(tmp_path: Path) -> None:
    # in a fresh interpreter: this one is connected to the session's cluster
    code = textwrap.dedent(
        """
        import time, jido, jido.engines
        start = time.monotonic()
        try:
            jido.Runtime(engine=jido.engines.Ray(address="127.0.0.1:1", connect_timeout=3))
        except jido.ConfigError as exc:
            print("CONFIG_ERROR", round(time.monotonic() - start, 3), exc.details["address"])
            print(exc.message)
        """
    )
    with Stopwatch() as sw:
        proc = subprocess.run(
            [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120
        )
    assert proc.returncode == 0, proc.stderr
    first, message = proc.stdout.strip().splitlines()
    tag, elapsed, address = first.split()
    assert tag == "CONFIG_ERROR"
    assert address == "127.0.0.1:1"
    assert float(elapsed) < 5.0  # not Ray's minutes of retries
    assert "could not connect to Ray at 127.0.0.1:1" in message
    assert sw.elapsed < 60


def test_joining_another_cluster_from_a_connected_process_is_a_config_error(
    ray_runtime: jido.Runtime,
) -> None:
    with pytest.raises(jido.ConfigError) as info:
        jido.Runtime(engine=jido.engines.Ray(address="127.0.0.1:1"))
    assert "already connected" in info.value.message
    current = ray.get_runtime_context().gcs_address
    with jido.Runtime(engine=jido.engines.Ray(address=current)) as rt:  # the same one: fine
        assert rt.run(actions.square, {"x": 2}) == {"x": 4}
    with jido.Runtime(engine=jido.engines.Ray(address="auto")) as rt:
        assert rt.run(actions.square, {"x": 3}) == {"x": 9}


@pytest.mark.parametrize(
    "make",
    [
        lambda: jido.Runtime(engine="ray"),
        lambda: jido.Runtime(engine=jido.engines.Ray(address=6379)),  # type: ignore[arg-type]
        lambda: jido.Runtime(engine=jido.engines.Ray(connect_timeout=0)),
        lambda: jido.Runtime(engine=jido.engines.Ray(task_options={"no_such_option": 1})),
    ],
    ids=["not-an-engine", "address", "connect_timeout", "task_options"],
)
def test_bad_engine_arguments_are_config_errors(ray_runtime: jido.Runtime, make: Any) -> None:
    with pytest.raises(jido.ConfigError):
        make()


def test_task_options_reach_the_ray_task(ray_runtime: jido.Runtime) -> None:
    with jido.Runtime(engine=jido.engines.Ray(task_options={"num_cpus": 0.5})) as rt:
        assert rt.run(actions.assigned_resources)["resources"] == {"CPU": 0.5}


def test_an_action_the_workers_cannot_import_is_a_clear_error(
    rrt: jido.Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # importable here, not on the workers (their path does not have tmp_path)
    (tmp_path / "only_here.py").write_text(
        "import jido\n\n@jido.action\ndef only_here() -> dict:\n    return {'ok': True}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import only_here  # type: ignore[import-not-found]

    with Stopwatch() as sw, pytest.raises(jido.ExecutionError) as info:
        rrt.run(only_here.only_here, max_retries=3, timeout=30)
    assert sw.elapsed < 10
    err = info.value
    assert "importable on every node" in err.message
    assert err.retryable is False  # it would fail the same way again
    assert err.details["attempts"] == 1


# -- point 1: chains and plans ---------------------------------------------------------------------
def test_a_chain_runs_on_a_ray_runtime(rrt: jido.Runtime) -> None:
    steps = [actions.Add, (actions.Add, {"amount": 3}), actions.where]
    out = chain(steps, {"value": 5}, runtime=rrt)
    assert out["value"] == 9
    assert out["pid"] != os.getpid()  # the steps ran in Ray workers
    assert jido.await_(chain_async(steps, {"value": 1}, runtime=rrt), timeout=30)["value"] == 5
    assert asyncio.run(achain(steps, {"value": 2}, runtime=rrt))["value"] == 6


def test_a_plan_runs_on_a_ray_runtime(rrt: jido.Runtime) -> None:
    plan = (
        Plan()
        .add("a", actions.Add, {"value": 1})
        .add("b", actions.square, {"x": 3})
        .add("c", actions.where, depends_on=["a", "b"])
    )
    out = plan.run(runtime=rrt)
    assert out["a"] == {"value": 2}
    assert out["b"] == {"x": 9}
    assert out["c"]["pid"] != os.getpid()
    assert plan.run_async(runtime=rrt).result(30)["b"] == {"x": 9}


# -- the stop escalation, without a cluster --------------------------------------------------------
@pytest.fixture
def cancels(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, float]]:
    """Calls to ray.cancel made by the engine: (force, time.monotonic())."""
    calls: list[tuple[bool, float]] = []

    def cancel(ref: Any, *, force: bool = False) -> None:
        calls.append((force, time.monotonic()))

    monkeypatch.setattr(ray_engine.ray, "cancel", cancel)
    return calls


@pytest.fixture
def timers() -> Iterator[Timers]:
    t = Timers("test-ray-job")
    yield t
    t.close()


def test_the_force_kill_waits_for_stop_timeout_after_the_soft_cancel(
    cancels: list[tuple[bool, float]], timers: Timers
) -> None:
    done: list[Any] = []
    job = ray_engine.RayJob(object(), done.append, timers, 0.1, None)
    start = time.monotonic()
    job.interrupt()
    assert job.kill() is True  # asked early (the driver escalates after stop_timeout / 5)
    assert [force for force, _ in cancels] == [False]
    assert wait_until(lambda: len(cancels) == 2, timeout=2)
    force, when = cancels[1]
    assert force is True
    assert when - start >= 0.1 - 0.005
    assert job.abandon() is False  # killed: the outcome is delivered, not abandoned
    [(ok, stopped)] = done
    assert not ok
    assert stopped.mechanism == "killed"


def test_a_task_that_finished_is_not_force_killed(
    cancels: list[tuple[bool, float]], timers: Timers
) -> None:
    done: list[Any] = []
    job = ray_engine.RayJob(object(), done.append, timers, 0.05, None)
    job.interrupt()
    job.kill()
    job.settle({"x": 1})  # the result arrived before the kill was due
    time.sleep(0.1)
    assert [force for force, _ in cancels] == [False]
    assert done == [(True, {"x": 1})]


def test_a_stop_at_its_own_deadline_is_delivered_with_the_drivers_stop(
    cancels: list[tuple[bool, float]], timers: Timers
) -> None:
    # an async action's own deadline stopped it in the worker before the driver's timer fired
    done: list[Any] = []
    job = ray_engine.RayJob(object(), done.append, timers, 0.1, time.monotonic())
    job.settle((False, Stopped("cancelled")))
    assert done == []  # held until the driver stops the attempt
    job.interrupt()
    [(ok, stopped)] = done
    assert not ok
    assert stopped.mechanism == "cancelled"
    assert cancels == []  # nothing left to cancel


def test_a_stop_nobody_asked_for_is_a_retryable_failure(timers: Timers) -> None:
    done: list[Any] = []
    job = ray_engine.RayJob(object(), done.append, timers, 0.1, time.monotonic() + 60)
    job.settle((False, Stopped("interrupted")))
    [(ok, error)] = done
    assert not ok
    assert isinstance(error, jido.ExecutionError)
    assert error.retryable is True
