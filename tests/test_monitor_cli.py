"""The live monitor (run states and the summary) and the ``jido`` command line.

Contract (issue 3, "Looking at work"; docs/cli.md): a per-run status
(running, retrying in N s, timed out, cancelled, done) and a summary at the end (counts,
p50/p95 durations, retries, timeouts). ``jido demo`` tours the guarantees then runs a
batch with the live view; ``jido run MODULE:ACTION --params '{...}'`` prints the result
(or error) as JSON, with the live view and a summary when ``--repeat`` > 1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import actions
import jido
import jido.telemetry
import jido.testing
from actions import Probe
from jido._cli.demo import SCENARIOS
from jido._cli.monitor import Monitor, RunState
from support import wait_until

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def monitor() -> Iterator[Monitor]:
    mon = Monitor()
    with jido.telemetry.attached(mon):
        yield mon


def state_of(mon: Monitor, action: str) -> RunState:
    found = [s for s in mon.states() if s.action == action]
    assert len(found) == 1, [(s.action, s.status) for s in mon.states()]
    return found[0]


def durations(events: list[jido.telemetry.Event]) -> list[float]:
    return sorted(e.measurements["duration"] for e in events if e.name == "run.stop")


# -- Monitor -------------------------------------------------------------------------------------
def test_done_state(monitor: Monitor) -> None:
    jido.run(actions.Add, {"value": 1}, timeout=0)
    state = state_of(monitor, "add")
    assert state.status == "done"
    assert state.describe() == "done"
    assert state.attempt == 1
    assert state.duration is not None
    assert state.duration >= 0


def test_running_state_then_cancelled(monitor: Monitor) -> None:
    probe = Probe()
    ref = jido.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe})
    assert probe.started.wait(5.0)
    state = state_of(monitor, "coop_sleep")
    assert state.status == "running"
    assert state.describe() == "running"
    assert state.attempt == 1
    assert state.duration is None
    assert state.elapsed() >= 0
    summary = monitor.summary()
    assert summary.total == 1
    assert summary.running == 1
    ref.cancel()
    with pytest.raises(jido.CancelledError):
        jido.await_(ref, timeout=5.0)
    assert wait_until(lambda: state_of(monitor, "coop_sleep").status == "cancelled")
    state = state_of(monitor, "coop_sleep")
    assert state.describe().startswith("cancelled")
    assert state.duration is not None
    assert monitor.summary().cancelled == 1
    assert monitor.summary().running == 0


def test_retrying_state_shows_the_wait(monitor: Monitor) -> None:
    ref = jido.run_async(actions.always_fail, None, {"probe": Probe()}, max_retries=1, backoff=2.0)
    try:
        assert wait_until(lambda: state_of(monitor, "always_fail").status == "retrying", 5.0)
        state = state_of(monitor, "always_fail")
        text = state.describe()
        match = re.fullmatch(r"retrying in (\d+(?:\.\d+)?)\s*s", text)
        assert match, text
        assert 0.0 <= float(match[1]) <= 2.0
        # the countdown goes down as time passes
        later = state.describe(now=time.monotonic() + 1.0)
        later_match = re.fullmatch(r"retrying in (\d+(?:\.\d+)?)\s*s", later)
        assert later_match
        assert float(later_match[1]) <= float(match[1])
        assert monitor.summary().retries == 1
    finally:
        ref.cancel()
    with pytest.raises(jido.JidoError):
        jido.await_(ref, timeout=5.0)


def test_timed_out_and_failed_states(monitor: Monitor) -> None:
    with pytest.raises(jido.TimeoutError):
        jido.run(actions.spin, None, {"probe": Probe()}, timeout=0.1, max_retries=0)
    with pytest.raises(jido.ExecutionError):
        jido.run(actions.raise_value_error, timeout=0, max_retries=0)
    timed_out = state_of(monitor, "spin")
    assert timed_out.status == "timed out"
    assert timed_out.describe().startswith("timed out")
    assert "interrupted" in timed_out.describe()  # says how it was stopped
    failed = state_of(monitor, "raise_value_error")
    assert failed.status == "failed"
    assert "execution_error" in failed.describe()


def test_summary_counts_and_percentiles() -> None:
    mon = Monitor()
    seen: list[jido.telemetry.Event] = []
    with jido.telemetry.attached(mon), jido.telemetry.attached(seen.append, events=["run.stop"]):
        jido.run(actions.Add, {"value": 1}, timeout=0)
        jido.run(actions.Add, {"value": 2}, timeout=2.0)
        jido.run(actions.coop_sleep, {"seconds": 0.05}, {"probe": Probe()}, timeout=2.0)
        with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
            jido.run(actions.always_fail, None, {"probe": Probe()}, timeout=0, max_retries=2)
        with pytest.raises(jido.TimeoutError):
            jido.run(actions.spin, None, {"probe": Probe()}, timeout=0.1, max_retries=1, backoff=0)
        probe = Probe()
        ref = jido.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe})
        assert probe.started.wait(5.0)
        ref.cancel()
        with pytest.raises(jido.CancelledError):
            jido.await_(ref, timeout=5.0)
        assert wait_until(lambda: mon.summary().running == 0)
        assert wait_until(lambda: len(seen) == 6)
    summary = mon.summary()
    assert summary.total == 6
    assert summary.running == 0
    assert summary.done == 3
    assert summary.failed == 1
    assert summary.timed_out == 1
    assert summary.cancelled == 1
    assert summary.retries == 2 + 1  # always_fail retried twice, spin once
    assert summary.attempt_timeouts == 2
    values = durations(seen)
    assert summary.p50 is not None
    assert summary.p95 is not None
    # six values: any usual definition of the median lies between the 3rd and 4th
    assert values[2] <= summary.p50 <= values[3]
    assert values[4] <= summary.p95 <= values[5]


def test_summary_of_nothing() -> None:
    summary = Monitor().summary()
    assert summary.total == 0
    assert summary.p50 is None
    assert summary.p95 is None


def test_monitor_tracks_concurrent_runs(monitor: Monitor) -> None:
    refs = [
        jido.run_async(actions.coop_sleep, {"seconds": 0.05}, {"probe": Probe()}) for _ in range(10)
    ]
    for ref in refs:
        jido.await_(ref, timeout=10.0)
    assert wait_until(lambda: monitor.summary().done == 10)
    assert {s.run_id for s in monitor.states()} == {r.run_id for r in refs}


# -- the command line ----------------------------------------------------------------------------
def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env.update(
        CI="true",
        PYTHONPATH=os.pathsep.join([str(SRC), str(TESTS)]),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def jido_cli(*args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "jido", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        env=_env(),
        cwd=str(TESTS),
        check=False,
    )
    return proc, time.monotonic() - start


def flat(text: str) -> str:
    """Output without colour codes, with line wrapping undone (whitespace collapsed)."""
    return " ".join(ANSI.sub("", text).split())


@pytest.mark.slow
def test_demo_in_ci(tmp_path: Path) -> None:
    proc, elapsed = jido_cli("demo", "--batch", "4")
    out = flat(proc.stdout)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert elapsed < 60
    assert "Traceback" not in proc.stderr
    # every scenario shows its outcome
    expected = {
        "success": "ok",
        "validation failure": "ValidationError",
        "retry with backoff": "ok",
        "timeout stops CPU-bound sync work": "TimeoutError",
        "timeout of time.sleep in a thread": "TimeoutError",
        "timeout of time.sleep in a process": "TimeoutError",
        "async run, awaited": "ok",
        "async run, cancelled": "CancelledError",
    }
    assert [s.title for s in SCENARIOS] == list(expected)
    positions = [out.find(title) for title in expected]
    assert all(p >= 0 for p in positions), (positions, out[:3000])
    assert positions == sorted(positions)
    bounds = [*positions[1:], len(out)]
    for (title, outcome), start, end in zip(expected.items(), positions, bounds, strict=True):
        section = out[start:end]
        assert outcome in section, (title, section)
    # the batch ends with a summary
    summary = out[out.rfind("summary") :]
    assert re.search(r"runs 4\b", summary), summary
    for label in ("done", "retries", "timed out", "p50 duration", "p95 duration"):
        assert label in summary, (label, summary)


def test_run_prints_the_json_result() -> None:
    proc, _ = jido_cli("run", "actions:square", "--params", '{"x": 7}')
    assert proc.returncode == 0, proc.stderr
    assert json.loads(ANSI.sub("", proc.stdout)) == {"x": 49}


def test_run_with_context_and_options() -> None:
    proc, _ = jido_cli(
        "run",
        "actions:Echo",
        "--params",
        '{"x": 2, "tag": "hi"}',
        "--context",
        '{"user": "ada"}',
        "--timeout",
        "0",
        "--max-retries",
        "0",
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(ANSI.sub("", proc.stdout)) == {
        "params": {"x": 2, "tag": "hi"},
        "context": {"user": "ada"},
    }


def test_run_in_a_process() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "jido", "run", "actions:pid", "--isolation", "process"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=_env(),
        cwd=str(TESTS),
    )
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert json.loads(ANSI.sub("", stdout))["pid"] != proc.pid


def test_run_prints_the_json_error() -> None:
    proc, _ = jido_cli("run", "actions:raise_value_error", "--max-retries", "0")
    assert proc.returncode != 0
    error: dict[str, Any] = json.loads(ANSI.sub("", proc.stdout))
    assert error["type"] == "execution_error"
    assert "boom" in error["message"]


def test_run_validation_error_is_json() -> None:
    proc, _ = jido_cli("run", "actions:square", "--params", '{"x": "seven"}')
    assert proc.returncode != 0
    assert json.loads(ANSI.sub("", proc.stdout))["type"] == "validation_error"


def test_run_repeat_prints_a_summary() -> None:
    proc, elapsed = jido_cli("run", "actions:square", "--params", '{"x": 3}', "--repeat", "3")
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 60
    out = flat(proc.stdout)
    summary = out[out.rfind("summary") :]
    assert re.search(r"runs 3\b", summary), out
    assert re.search(r"done 3\b", summary), out
    assert "p50 duration" in summary
    assert "p95 duration" in summary


def test_run_repeat_with_failures_exits_nonzero() -> None:
    proc, _ = jido_cli(
        "run", "actions:raise_value_error", "--repeat", "2", "--max-retries", "1", "--backoff", "0"
    )
    assert proc.returncode != 0
    summary = flat(proc.stdout)
    summary = summary[summary.rfind("summary") :]
    assert re.search(r"failed 2\b", summary), summary
    assert re.search(r"retries 2\b", summary), summary
