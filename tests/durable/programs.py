"""Programs the durable suite runs in child processes (forked by ``zygote.py``).

Each takes the store URL and the lease, does one thing a test needs from another process
(start durable runs and be killed meanwhile, join a run, recover, cancel), and reports
what it saw as JSON in its ``result`` file when it gets that far.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path
from typing import Any

import jido
from durable import durable_actions as da
from jido.workflow import Plan, chain, chain_async


def report(path: str | None, **data: Any) -> None:
    """Write ``data`` to ``path`` at once (a reader never sees half of it)."""
    if path is None:
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    Path(tmp).write_text(json.dumps(data, default=repr))
    os.replace(tmp, path)


def outcome(fn: Any) -> dict[str, Any]:
    """``{"ok": True, "value": ...}`` or ``{"ok": False, "type": ..., "message": ...}``."""
    try:
        return {"ok": True, "value": fn()}
    except jido.JidoError as exc:
        return {
            "ok": False,
            "type": exc.type,
            "message": exc.message,
            "details": {k: repr(v) for k, v in exc.details.items()},
        }


def wait_for_file(path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.001)


# -- shapes shared by the crash tests and their checks -----------------------------------
CHAIN_STEPS = 20
BRANCHES = 3
BRANCH_LENGTH = 4


def long_chain(steps: int = CHAIN_STEPS) -> list[Any]:
    return [da.step] * steps


def wide_plan() -> Plan:
    """A root, three branches of four steps run in parallel, and a join."""
    plan = Plan().add("a", da.branch)
    tails = []
    for b in range(1, BRANCHES + 1):
        before = "a"
        for s in range(1, BRANCH_LENGTH + 1):
            name = f"b{b}_{s}"
            plan = plan.add(name, da.branch, depends_on=before)
            before = name
        tails.append(before)
    return plan.add("z", da.branch, depends_on=tails)


# -- programs -------------------------------------------------------------------------------
def crash_target(
    url: str, lease: float, chain_id: str, plan_id: str, log: str, pause: float, ready: str
) -> None:
    """Run a 20-step chain and a wide plan durably, at the same time (a test kills it)."""
    with jido.Runtime(name="victim", store=url, lease=lease) as rt:
        report(ready, pid=os.getpid())
        params = {"value": 0, "log": log, "pause": pause}
        chained = chain_async(long_chain(), params, runtime=rt, run_id=chain_id)
        planned = wide_plan().run_async({"log": log, "pause": pause}, runtime=rt, run_id=plan_id)
        chained.result(timeout=None)
        planned.result(timeout=None)


def start_and_report(
    url: str,
    lease: float,
    run_id: str,
    log: str,
    seconds: float,
    result: str,
    go: str | None = None,
    ready: str | None = None,
) -> None:
    """Say ``ready``, wait for ``go`` (all starters at once), run ``sleepy`` under ``run_id``."""
    with jido.Runtime(name="starter", store=url, lease=lease) as rt:
        report(ready, pid=os.getpid())
        if go is not None:
            wait_for_file(go)
        started = time.time()
        out = outcome(
            lambda: rt.run(da.sleepy, {"log": log, "seconds": seconds}, run_id=run_id, timeout=None)
        )
        report(result, started=started, ended=time.time(), pid=os.getpid(), **out)


def orphan_many(url: str, lease: float, ids: list[str], log: str, ready: str) -> None:
    """Start a durable run per id that hangs on its first attempt; say when all run."""
    rt = jido.Runtime(name="orphans", store=url, lease=lease)
    for run_id in ids:
        rt.run_async(da.hang_once, {"log": log, "seconds": 600.0}, run_id=run_id, timeout=None)
    while len(da.executions(log)) < len(ids):
        time.sleep(0.005)
    report(ready, pid=os.getpid())
    time.sleep(600)


def recover_all(url: str, lease: float, go: str, result: str, ready: str) -> None:
    """Say ``ready``, wait for ``go`` (all recoverers at once), recover, report what it took."""
    with jido.Runtime(name="recoverer", store=url, lease=lease) as rt:
        report(ready, pid=os.getpid())
        wait_for_file(go)
        refs = rt.recover()
        values = {ref.run_id: outcome(lambda r=ref: r.result(timeout=60)) for ref in refs}
        report(result, pid=os.getpid(), claimed=[r.run_id for r in refs], outcomes=values)


def retry_victim(
    url: str, lease: float, run_id: str, log: str, backoff: float, kind: str = "action"
) -> None:
    """Run ``flaky`` (its first attempt fails) with a long backoff; a test kills it meanwhile.

    ``kind="chain"``: as the second step of a chain.
    """
    with jido.Runtime(name="retrier", store=url, lease=lease) as rt:
        if kind == "chain":
            steps = [da.step, da.flaky]
            chain(
                steps,
                {"value": 0, "log": log},
                runtime=rt,
                run_id=run_id,
                max_retries=3,
                backoff=backoff,
            )
        else:
            rt.run(da.flaky, {"log": log}, run_id=run_id, max_retries=3, backoff=backoff)


def burner(
    url: str,
    lease: float,
    run_id: str,
    log: str,
    counter: str,
    result: str,
    isolation: str = "thread",
) -> None:
    """Run the CPU-bound ``burn`` durably; report how it ended (a test cancels it)."""
    with jido.Runtime(name="burner", store=url, lease=lease) as rt:
        params = {"log": log, "counter": counter}
        out = outcome(
            lambda: rt.run(da.burn, params, run_id=run_id, timeout=None, isolation=isolation)
        )
        report(result, ended=time.time(), **out)


def hold_chain(url: str, lease: float, run_id: str, log: str, seconds: float) -> None:
    """Run a chain whose second step sleeps ``seconds`` (another process joins or cancels it)."""
    with jido.Runtime(name="holder", store=url, lease=lease) as rt:
        steps = [da.step, (da.sleepy, {"seconds": seconds}), da.step]
        ref = chain_async(steps, {"value": 0, "log": log}, runtime=rt, run_id=run_id)
        ref.result(timeout=None)


def ray_driver(
    url: str,
    lease: float,
    address: str,
    path: str,
    run_id: str,
    log: str,
    pause: float,
    steps: int,
    ready: str,
    ray_env: dict[str, str],
) -> None:
    """Drive a durable chain whose steps run on the Ray cluster at ``address``.

    ``ray_env``: the ``RAY_*`` settings of the process that started the cluster (its
    authentication mode among them), as a driver on the cluster's machine would have them.
    """
    os.environ.update(ray_env)
    import jido.engines

    env = {"env_vars": {"PYTHONPATH": path}}
    for tries in range(3, 0, -1):  # joining a cluster can time out on a loaded machine
        try:
            engine = jido.engines.Ray(address=address, init={"runtime_env": env})
            rt = jido.Runtime(name="ray-driver", store=url, lease=lease, engine=engine)
            break
        except jido.ConfigError:
            if tries == 1:
                raise
            traceback.print_exc()
    with rt:
        report(ready, pid=os.getpid())
        params = {"value": 0, "log": log, "pause": pause}
        ref = chain_async(long_chain(steps), params, runtime=rt, run_id=run_id, timeout=120)
        ref.result(timeout=None)


def generated_id(url: str, lease: float, log: str, result: str) -> None:
    """Run ``keyed`` durably without a run_id; report the id it was given."""
    with jido.Runtime(name="generated", store=url, lease=lease) as rt:
        ref = rt.run_async(da.keyed, {"log": log})
        ref.result(timeout=30)
        report(result, run_id=ref.run_id)


def resume_runs(url: str, lease: float, ids: list[str], ready: str) -> None:
    """Resume ``ids`` once their owner's lease expired; say when all are claimed; finish them."""
    with jido.Runtime(name="resumer", store=url, lease=lease) as rt:
        store = rt._durable.store
        refs = []
        for run_id in ids:
            while True:
                row = store.get_run(run_id)
                if row is None or row.status not in ("queued", "running", "retrying"):
                    break
                if row.lease_until is None or row.lease_until < time.time():
                    refs.append(rt.runs.resume(run_id))
                    break
                time.sleep(0.01)
        report(ready, pid=os.getpid())
        for ref in refs:
            ref.result(timeout=None)
