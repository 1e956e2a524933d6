"""Nested runs: an action that runs other actions, wherever it runs.

The children run on the default runtime of the process the parent runs in (in-process:
the caller's; remotely: the child process's or the Ray worker's), and they inherit the
parent's deadline and cancellation there.
"""

from __future__ import annotations

import os

import pytest

import jido
from conformance import actions
from conformance.actions import Probe
from conformance.conftest import TIMED, Engine, engines
from support import Stopwatch

CHILDREN = [pytest.param(None, id="inline-child"), pytest.param(10.0, id="thread-child")]


def test_nested_runs_work(engine: Engine) -> None:
    out = engine.rt.run(actions.nested_sum, {"values": [1, 2, 3]})
    assert out["total"] == 6
    assert (out["pid"] != os.getpid()) is engine.remote


@engines(*TIMED)
@pytest.mark.parametrize("child_timeout", CHILDREN)
def test_nested_run_inherits_the_parent_deadline(
    engine: Engine, child_timeout: float | None
) -> None:
    probe = engine.probe()
    child = Probe(os.path.join(probe.dir, "child"))
    engine.warm()
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError):
        engine.rt.run(
            actions.parent,
            {"child_timeout": child_timeout},
            {"probe": probe},
            timeout=engine.short + 0.2,
            max_retries=0,
        )
    assert sw.elapsed < 3.0
    seen = dict(line.split(" ") for line in probe.lines("deadlines"))
    assert seen["child"] != "None"
    assert float(seen["child"]) <= float(seen["parent"]) + 1e-6
    assert child.finished(2.0)  # the child's work stopped too
    assert not child.has("completed")


@pytest.mark.parametrize("child_timeout", CHILDREN)
def test_cancelling_the_parent_stops_the_child(engine: Engine, child_timeout: float | None) -> None:
    probe = engine.probe()
    child = Probe(os.path.join(probe.dir, "child"))
    ref = engine.rt.run_async(
        actions.parent,
        {"child_timeout": child_timeout},
        {"probe": probe},
        timeout=30,
        max_retries=0,
    )
    assert child.started(10)
    ref.cancel()
    assert child.finished(2.0)
    assert not child.has("completed")
    with pytest.raises(jido.CancelledError):
        ref.result(2)
