"""Shutdown is quiet and complete: no log noise at exit, no run left without an outcome.

Issue reproducer: with ``backoff=0`` or ``jido.testing.no_backoff()``, runs still retrying
when a runtime shuts down (a ``with jido.Runtime()`` block, interpreter exit) used to log
"jido job completion failed ... RuntimeError: timers are closed".
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest

import jido
from actions import Probe, blocked_sleep
from support import TESTS, Stopwatch

NOISE = ("timers are closed", "completion failed", "Traceback", "Exception ignored", "Error")

SCRIPT = """
import faulthandler, sys
faulthandler.dump_traceback_later(90, exit=True)  # a hang (even at exit) shows where

import jido, jido.testing

@jido.action
def flaky() -> dict:
    raise ValueError("no")

@jido.action
async def aflaky() -> dict:
    raise ValueError("no")

for i in range(30):
    with jido.Runtime(name=f"block-{i}") as rt:
        for _ in range(5):
            rt.run_async(flaky, backoff=0, max_retries=3)
            rt.run_async(aflaky, backoff=0, max_retries=3)
with jido.testing.no_backoff():
    for i in range(10):
        with jido.Runtime(name=f"nb-{i}") as rt:
            for _ in range(5):
                rt.run_async(flaky, max_retries=5)
refs = [jido.run_async(flaky, backoff=0, max_retries=50) for _ in range(20)]
print("done")
"""


@pytest.mark.slow
def test_issue_reproducer_no_noise_at_shutdown_or_exit() -> None:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=110,
        cwd=TESTS,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert not [line for line in result.stderr.splitlines() if any(n in line for n in NOISE)], (
        result.stderr
    )


def test_shutdown_gives_every_waiter_an_outcome() -> None:
    rt = jido.Runtime(name="stuck", stop_timeout=0.05)
    ref = rt.run_async(blocked_sleep, {"seconds": 3}, {"probe": Probe()}, timeout=10)
    outcome: list[Any] = []

    def waiter() -> None:
        try:
            outcome.append(ref.result(timeout=None))
        except jido.JidoError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=waiter)
    thread.start()
    with Stopwatch() as sw:
        rt.shutdown(cancel=False, timeout=0.1)
    assert sw.elapsed < 1.5
    thread.join(1.0)
    assert not thread.is_alive()
    error = outcome[0]
    assert isinstance(error, jido.CancelledError)
    assert error.details["stopped"] is False  # blocked in C: abandoned, and says so
    assert error.details["reason"] == "shutdown"


def test_a_run_still_retrying_at_shutdown_is_cancelled_not_lost() -> None:
    attempts: list[int] = []

    @jido.action
    def fails_slowly() -> dict[str, Any]:
        attempts.append(1)
        jido.current().sleep(0.2)
        raise ValueError("again")

    rt = jido.Runtime(name="late-retry")
    ref = rt.run_async(fails_slowly, timeout=5, max_retries=5, backoff=0)
    rt.shutdown(cancel=False, timeout=0.05)
    with Stopwatch() as sw, pytest.raises(jido.CancelledError) as info:
        ref.result(timeout=2)
    assert sw.elapsed < 1.0
    assert info.value.details["reason"] == "shutdown"
    assert len(attempts) == 1
