"""With the Ray engine and a Postgres store: when the driver dies, another driver on the
same store recovers its runs and sends the remaining steps to the cluster.

The cluster is the session's (``ray_runtime`` in tests/conftest.py); the first driver is a
child process that joins it, the second is this process.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

import jido
import jido.engines
from durable import durable_actions as da
from durable.durable_helpers import orphaned, wait_for
from durable.zygote import Zygote

ray = pytest.importorskip("ray", reason='Ray is not installed (pip install "jido[ray]")')

pytestmark = pytest.mark.ray

HERE = Path(__file__).resolve().parent
STEPS = 8
PAUSE = 0.3


def test_a_second_driver_recovers_a_dead_drivers_chain_onto_the_cluster(
    ray_runtime: jido.Runtime, zygote: Zygote, pg_url: str, log: str
) -> None:
    address = str(ray.get_runtime_context().gcs_address)
    ready = f"{log}.ready"
    driver = zygote.fork(
        "ray_driver",
        url=pg_url,
        lease=1.0,
        address=address,
        path=str(HERE.parent),  # as the session's cluster has it
        run_id="on-ray",
        log=log,
        pause=PAUSE,
        steps=STEPS,
        ready=ready,
        ray_env={k: v for k, v in os.environ.items() if k.startswith("RAY_")},
    )
    wait_for(lambda: os.path.exists(ready), "the first driver joined the cluster", 120, driver)
    wait_for(lambda: len(da.executions(log)) >= 3, "three steps ran on the cluster", 120, driver)
    driver.kill()
    with jido.Runtime(
        name="second-driver", store=pg_url, lease=1.0, engine=jido.engines.Ray()
    ) as second:
        before = second._durable.store.get_history("on-ray")
        assert before is not None
        completed = set(before.completed())
        orphaned(second, "on-ray", timeout=30)
        (ref,) = second.recover()
        out = ref.result(timeout=120)
    assert out == {"value": STEPS, "log": log, "pause": PAUSE}
    runs = Counter(e["key"].rsplit("/", 1)[1] for e in da.executions(log))
    assert set(runs) == {str(i) for i in range(STEPS)}
    assert all(runs[key] == 1 for key in completed), (completed, runs)
    assert sum(n - 1 for n in runs.values()) <= 1, runs
    assert len(completed) < STEPS, "the first driver finished before it was killed"
    pids = {e["pid"] for e in da.executions(log)}
    assert driver.pid not in pids
    assert os.getpid() not in pids, "a step ran in the driver, not on the cluster"
