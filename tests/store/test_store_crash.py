"""A process killed with SIGKILL in the middle of journaling loses nothing it saw committed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jido._store import STATUSES, Store

HERE = Path(__file__).resolve().parent


def _victim(url: str, run_id: str) -> subprocess.Popen[str]:
    code = f"from store import store_workers; store_workers.chain_forever({url!r}, {run_id!r})"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), *sys.path])}
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env, cwd=HERE
    )


@pytest.mark.parametrize("kill_after", [1, 5, 23])
def test_kill_9_while_journaling_keeps_every_committed_step(
    store: Store, store_url: str, raw: Callable[..., Any], kill_after: int
) -> None:
    run_id = f"victim-{kill_after}"
    proc = _victim(store_url, run_id)
    try:
        assert proc.stdout is not None
        seen = -1
        for _ in range(kill_after):
            line = proc.stdout.readline()
            assert line, "the journaling process ended early"
            seen = int(line)
        time.sleep(random.uniform(0, 0.01))  # land anywhere in the next transactions
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    history = store.get_history(run_id)
    assert history is not None
    done = history.completed()
    # every step the process saw committed is there, with its result, and nothing else
    assert len(done) >= seen + 1
    assert done == {str(i): {"step": i} for i in range(len(done))}
    running = [s.key for s in history.steps if s.status == "running"]
    assert running == [str(len(done))]  # the step that had started when it died
    actual = dict.fromkeys(STATUSES, 0)
    actual.update(dict(raw("SELECT status, COUNT(*) FROM jido_runs GROUP BY status")))
    assert store.counts() == actual
    # another process takes the orphan over once its lease is gone
    (row,) = store.claim_orphans("heir", now=time.time() + 601, lease_until=time.time() + 700)
    assert row.run_id == run_id
    assert store.step_succeeded(run_id, str(len(done)), 2, at=time.time(), result=0, owner="heir")
