"""``jido runs``: the real command, in a subprocess, against a SQLite store made by the test.

Contract (docs/durable.md, "The jido runs command"; spec durable.md, "Managing runs"):
``jido runs list | show ID | watch | cancel ID | resume ID | prune --older-than 7d`` with
``--store URL`` (default ``$JIDO_STORE``, then ``sqlite:///.jido/runs.db``), readable
tables, ``--json`` for scripts (JSON lines for ``watch``), one-line errors with exit
status 2 for bad input, never a traceback. ``resume`` imports the actions from the
current directory. Runs are created through ``jido.Runtime(store=...)``, in this process
or in a child process that dies mid-chain.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import jido
from jido._store import open_store

JIDO = Path(sys.executable).parent / "jido"

ACTIONS = """
import os
import time

import jido


@jido.action(version="{version}")
def step(value: int, pause: float = 0.0, die: str = "") -> dict:
    if die and value == 2 and os.path.exists(die):  # the process dies in step 2, once
        os.remove(die)
        os._exit(9)
    deadline = time.monotonic() + pause
    while time.monotonic() < deadline:  # short sleeps: a cancel can interrupt it
        time.sleep(0.01)
    return {{"value": value + 1}}


@jido.action
def add(value: int) -> dict:
    return {{"value": value + 1}}


@jido.action
def flaky(value: int) -> dict:
    raise ConnectionError("upstream down")
"""

CHILD = """
import sys

import jido
from cli_actions import step

url, run_id, pause, die = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
rt = jido.Runtime(store=url, lease=0.5)
steps = [jido.Instruction(step, {"pause": pause, "die": die}) for _ in range(4)]
try:
    print(jido.chain(steps, {"value": 0}, run_id=run_id, runtime=rt, timeout=60), flush=True)
finally:
    rt.shutdown()
"""


# -- helpers -------------------------------------------------------------------------------------
def wait_until(predicate: Any, timeout: float) -> bool:
    """Poll ``predicate`` until it is truthy or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return bool(predicate())
        time.sleep(0.01)
    return True


def environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "JIDO_STORE"}
    env.update(COLUMNS="200", PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    return env


def jido_cmd(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``jido`` command."""
    return subprocess.run(
        [str(JIDO), *args],
        cwd=cwd,
        env=env or environ(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def concurrently(
    commands: dict[str, list[str]], cwd: Path
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run several ``jido`` commands at once (each one pays for importing jido)."""
    with ThreadPoolExecutor(len(commands)) as pool:
        futures = {k: pool.submit(jido_cmd, *args, cwd=cwd) for k, args in commands.items()}
        return {k: f.result() for k, f in futures.items()}


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    return done.stdout


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(ok(done))


def write_actions(where: Path, version: str = "1") -> None:
    (where / "cli_actions.py").write_text(ACTIONS.format(version=version), encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project directory with an actions module, importable here and by the command."""
    write_actions(tmp_path)
    (tmp_path / "child.py").write_text(CHILD, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("cli_actions", None)
    yield tmp_path
    sys.modules.pop("cli_actions", None)


@pytest.fixture
def url(project: Path) -> str:
    return f"sqlite:///{project / 'runs.db'}"


@pytest.fixture
def filled(project: Path, url: str) -> str:
    """A store with a succeeded action, a failed one (3 attempts, backoffs) and a chain."""
    import cli_actions  # type: ignore[import-not-found]

    with jido.Runtime(store=url) as rt:
        rt.run(cli_actions.add, {"value": 1}, run_id="a-ok")
        with pytest.raises(jido.ExecutionError):
            rt.run(cli_actions.flaky, {"value": 1}, run_id="b-fail", max_retries=2, backoff=0.05)
        jido.chain([cli_actions.add] * 3, {"value": 0}, run_id="c-chain", runtime=rt)
    return url


def child(
    project: Path, url: str, run_id: str, pause: float, die: str = ""
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "child.py", url, run_id, str(pause), die],
        cwd=project,
        env=environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def crashed_run(project: Path, url: str, run_id: str) -> None:
    """A chain whose process died in step 2 (steps 0 and 1 done); its lease has expired."""
    marker = project / "die-now"
    marker.touch()
    proc = child(project, url, run_id, 0.0, str(marker))
    assert proc.wait(timeout=60) == 9, proc.stderr.read() if proc.stderr else ""
    store = open_store(url)
    try:
        row = store.get_run(run_id)
        assert row is not None
        assert row.status == "running"
        assert wait_until(lambda: (store.get_run(run_id).lease_until or 0) < time.time(), 5)  # type: ignore[union-attr]
    finally:
        store.close()


class Lines:
    """The stdout lines of a running process, read by a thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.queue.put(line)

    def until(self, predicate: Any, timeout: float = 30) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.queue.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append(json.loads(line))
            if predicate(seen[-1]):
                return seen
        raise AssertionError(f"not seen within {timeout}s; saw {seen}")


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


# -- list ----------------------------------------------------------------------------------------
def test_list_table_shows_every_run(project: Path, filled: str) -> None:
    out = ok(jido_cmd("runs", "list", "--store", filled, cwd=project))
    for run_id, status in (("a-ok", "succeeded"), ("b-fail", "failed"), ("c-chain", "succeeded")):
        line = next(line for line in out.splitlines() if line.startswith(run_id))
        assert status in line
    assert "upstream down" in out  # the failed run's error, on its line
    assert out.index("c-chain") < out.index("b-fail") < out.index("a-ok")  # newest first


def test_list_json_and_filters(project: Path, filled: str) -> None:
    filters = {
        "all": [],
        "failed": ["--status", "failed"],
        "comma": ["--status", "failed,succeeded"],
        "repeated": ["--status", "failed", "--status", "succeeded"],
        "none": ["--status", "retrying", "--status", "needs_attention"],
        "action": ["--action", "add"],
        "since": ["--since", "1h"],
        "future": ["--since", "2999-01-01"],
    }
    docs = concurrently(
        {k: ["runs", "list", "--store", filled, "--json", *v] for k, v in filters.items()},
        project,
    )
    ids = {k: [item["run_id"] for item in json.loads(ok(d))["items"]] for k, d in docs.items()}
    doc = json.loads(docs["all"].stdout)
    assert doc["cursor"] is None
    assert ids["all"] == ["c-chain", "b-fail", "a-ok"]
    failed = doc["items"][1]
    assert failed["status"] == "failed"
    assert failed["attempts"] == 3
    assert failed["error"]["type"] == "execution_error"
    assert failed["params"] == {"value": 1}
    assert ids["failed"] == ["b-fail"]
    assert ids["comma"] == ids["repeated"] == ids["all"]
    assert ids["none"] == []
    assert ids["action"] == ["a-ok"]
    assert ids["since"] == ids["all"]
    assert ids["future"] == []


def test_list_pages_with_a_cursor(project: Path, filled: str) -> None:
    first = as_json(
        jido_cmd("runs", "list", "--store", filled, "--json", "--limit", "2", cwd=project)
    )
    assert [i["run_id"] for i in first["items"]] == ["c-chain", "b-fail"]
    assert first["cursor"]
    args = ("runs", "list", "--store", filled, "--limit", "2", "--cursor", first["cursor"])
    rest = as_json(jido_cmd(*args, "--json", cwd=project))
    assert [i["run_id"] for i in rest["items"]] == ["a-ok"]
    assert rest["cursor"] is None
    text = ok(jido_cmd("runs", "list", "--store", filled, "--limit", "2", cwd=project))
    assert f"next page: --cursor {first['cursor']}" in text


def test_store_from_the_environment(project: Path, filled: str) -> None:
    env = {**environ(), "JIDO_STORE": filled}
    doc = as_json(jido_cmd("runs", "list", "--json", cwd=project, env=env))
    assert len(doc["items"]) == 3


# -- show ----------------------------------------------------------------------------------------
def test_show_prints_every_attempt_with_its_backoff(project: Path, filled: str) -> None:
    doc = as_json(jido_cmd("runs", "show", "b-fail", "--store", filled, "--json", cwd=project))
    assert doc["status"] == "failed"
    assert doc["error"]["details"]["attempts"] == 3
    attempts = doc["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert all(a["status"] == "failed" and a["started_at"] and a["finished_at"] for a in attempts)
    assert "upstream down" in attempts[0]["error"]["cause"]["message"]
    assert attempts[0]["backoff"] == pytest.approx(0.05, abs=0.02)
    assert attempts[1]["backoff"] == pytest.approx(0.10, abs=0.02)
    assert attempts[2]["backoff"] is None  # no retry after the last one
    assert doc["steps"] == [
        {**doc["steps"][0], "key": "", "action": "cli_actions:flaky", "attempts": 3}
    ]
    text = ok(jido_cmd("runs", "show", "b-fail", "--store", filled, cwd=project))
    assert "run b-fail" in text
    assert "upstream down" in text
    assert len([line for line in text.splitlines() if line.startswith("(action)  ")]) == 4
    assert "0.050s" in text
    assert "0.100s" in text


def test_show_a_chain_names_its_steps(project: Path, filled: str) -> None:
    doc = as_json(jido_cmd("runs", "show", "c-chain", "--store", filled, "--json", cwd=project))
    assert doc["kind"] == "chain"
    assert doc["result"] == {"value": 3}
    assert [(s["key"], s["action"], s["status"]) for s in doc["steps"]] == [
        (str(i), "cli_actions:add", "succeeded") for i in range(3)
    ]
    text = ok(jido_cmd("runs", "show", "c-chain", "--store", filled, cwd=project))
    assert "steps" in text
    assert "attempts" in text
    assert '{"value": 3}' in text


# -- resume (and needs_attention) ----------------------------------------------------------------
def test_resume_imports_from_the_current_directory_and_reuses_steps(
    project: Path, url: str
) -> None:
    crashed_run(project, url, "order-1")
    write_actions(project, version="2")  # the code changed: the run cannot be resumed as is
    done = jido_cmd("runs", "resume", "order-1", "--store", url, cwd=project)
    assert done.returncode == 1, done.stderr + done.stdout
    assert "needs_attention" in done.stdout
    assert "Traceback" not in done.stderr
    shown = as_json(jido_cmd("runs", "show", "order-1", "--store", url, "--json", cwd=project))
    assert shown["status"] == "needs_attention"
    assert "version '2'" in shown["reason"]
    text = ok(jido_cmd("runs", "show", "order-1", "--store", url, cwd=project))
    assert "needs attention" in text
    assert shown["reason"][:30] in text
    listed = jido_cmd("runs", "list", "--store", url, "--status", "needs_attention", cwd=project)
    assert "order-1" in ok(listed)

    write_actions(project, version="1")  # fixed: resume it
    done = jido_cmd("runs", "resume", "order-1", "--store", url, "--json", cwd=project)
    doc = as_json(done)
    assert doc["status"] == "succeeded"
    assert doc["result"]["value"] == 4
    assert doc["reused_steps"] == ["0", "1"]
    assert doc["ran_steps"] == ["2", "3"]
    shown = as_json(jido_cmd("runs", "show", "order-1", "--store", url, "--json", cwd=project))
    per_step = {s["key"]: s["attempts"] for s in shown["steps"]}
    assert per_step == {"0": 1, "1": 1, "2": 2, "3": 1}  # completed steps did not run again
    assert [a["status"] for a in shown["attempts"] if a["step"] == "2"] == [
        "abandoned",
        "succeeded",
    ]


def test_resume_text_and_refusals(project: Path, url: str, filled: str) -> None:
    crashed_run(project, url, "order-2")
    out = ok(jido_cmd("runs", "resume", "order-2", "--store", url, cwd=project))
    assert "resumed run order-2 (orphaned)" in out
    assert "succeeded: 2 step(s) reused from the journal, 2 run here" in out
    done = jido_cmd("runs", "resume", "a-ok", "--store", url, cwd=project)
    assert done.returncode == 2
    assert "cannot be resumed: it is succeeded" in done.stderr


# -- cancel --------------------------------------------------------------------------------------
def test_cancel_stops_the_running_step_of_another_process(
    project: Path, url: str, procs: list[subprocess.Popen[str]]
) -> None:
    proc = child(project, url, "long-1", 30.0)
    procs.append(proc)
    store = open_store(url)
    try:
        assert wait_until(lambda: (h := store.get_history("long-1")) and h.attempts, 30)
    finally:
        store.close()
    started = time.monotonic()
    doc = as_json(jido_cmd("runs", "cancel", "long-1", "--store", url, "--json", cwd=project))
    assert doc["outcome"] == "cancelled"
    assert doc["status"] == "cancelled"
    assert doc["stopped_step"] == {
        "step": "0",
        "attempt": 1,
        "stopped": True,
        "stop": "interrupted",
    }
    assert proc.wait(timeout=30) == 1  # the owner's chain raised CancelledError
    assert time.monotonic() - started < 20
    again = jido_cmd("runs", "cancel", "long-1", "--store", url, cwd=project)
    assert again.returncode == 1
    assert "already finished (cancelled): nothing to cancel" in again.stdout


def test_cancel_an_orphaned_run_at_once(project: Path, url: str) -> None:
    crashed_run(project, url, "order-3")
    out = ok(jido_cmd("runs", "cancel", "order-3", "--store", url, cwd=project))
    assert "run order-3 cancelled" in out
    shown = as_json(jido_cmd("runs", "show", "order-3", "--store", url, "--json", cwd=project))
    assert shown["status"] == "cancelled"
    assert shown["error"]["type"] == "cancelled"


# -- watch ---------------------------------------------------------------------------------------
def watch(project: Path, url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(JIDO), "runs", "watch", "--store", url, "--interval", "0.05", *args],
        cwd=project,
        env=environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_watch_json_lines_follow_the_change_feed(
    project: Path, filled: str, procs: list[subprocess.Popen[str]]
) -> None:
    import cli_actions

    proc = watch(project, filled, "--json")
    procs.append(proc)
    lines = Lines(proc)
    snapshot = lines.until(lambda doc: doc["run_id"] == "c-chain")
    assert {doc["run_id"] for doc in snapshot} == {"a-ok", "b-fail", "c-chain"}
    with jido.Runtime(store=filled) as rt:
        rt.run(cli_actions.add, {"value": 41}, run_id="w-new")
    seen = lines.until(lambda doc: doc["run_id"] == "w-new" and doc["status"] == "succeeded")
    assert seen[-1]["result"] == {"value": 42}
    assert all(doc["seq"] > max(d["seq"] for d in snapshot) for doc in seen)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")


def has_open(proc: subprocess.Popen[str], path: Path) -> bool:
    """Whether the process has ``path`` open (it has imported jido and opened the store)."""
    fds = Path(f"/proc/{proc.pid}/fd")
    try:
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    except OSError:  # a descriptor closed while we looked
        return False


def test_watch_table_until_ctrl_c(
    project: Path, filled: str, procs: list[subprocess.Popen[str]]
) -> None:
    import cli_actions

    proc = watch(project, filled, "--status", "succeeded")
    procs.append(proc)
    assert wait_until(lambda: has_open(proc, project / "runs.db"), 60)  # it is watching
    with jido.Runtime(store=filled) as rt:
        rt.run(cli_actions.add, {"value": 1}, run_id="w-table")
    time.sleep(1.5)  # it polls every 0.05 s; the last frame is printed when it stops
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "w-table" in out
    assert "c-chain" in out
    assert "a-ok" in out
    assert "b-fail" not in out  # filtered out
    assert "ctrl-C to stop" in out


# -- prune ---------------------------------------------------------------------------------------
def test_prune_deletes_old_finished_runs_only(project: Path, url: str) -> None:
    import cli_actions

    with jido.Runtime(store=url) as rt:
        rt.run(cli_actions.add, {"value": 1}, run_id="old-done")
    crashed_run(project, url, "old-unfinished")
    assert wait_until(lambda: time.time() > _created(url, "old-unfinished") + 1.2, 5)
    with jido.Runtime(store=url) as rt:
        rt.run(cli_actions.add, {"value": 1}, run_id="new-done")
    none = as_json(
        jido_cmd("runs", "prune", "--older-than", "7d", "--store", url, "--json", cwd=project)
    )
    assert none == {"deleted": 0, "older_than": 604800.0}
    out = ok(jido_cmd("runs", "prune", "--older-than", "1s", "--store", url, cwd=project))
    assert "deleted 1 finished run(s)" in out
    left = as_json(jido_cmd("runs", "list", "--store", url, "--json", cwd=project))
    assert {i["run_id"] for i in left["items"]} == {"new-done", "old-unfinished"}


def _created(url: str, run_id: str) -> float:
    store = open_store(url)
    try:
        row = store.get_run(run_id)
        assert row is not None
        return row.created_at
    finally:
        store.close()


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["runs", "list", "--store", "foo://x"], "unsupported store URL scheme 'foo'"),
        (["runs", "show", "nope"], "no run 'nope' in the store"),
        (["runs", "cancel", "nope"], "no run 'nope' in the store"),
        (["runs", "resume", "nope"], "no run 'nope' in the store"),
        (["runs", "prune", "--older-than", "7x"], "--older-than: expected a number and a unit"),
        (["runs", "list", "--status", "weird"], "--status: unknown status 'weird'"),
        (["runs", "list", "--since", "yesterday"], "--since: expected a duration"),
        (["runs", "list", "--cursor", "zzz"], "not a run list cursor"),
        (["runs", "list", "--limit", "0"], "--limit: expected 1 to 1000"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    project: Path, filled: str, args: list[str], message: str
) -> None:
    if "--store" not in args:
        args = [*args, "--store", filled]
    done = jido_cmd(*args, cwd=project)
    assert done.returncode == 2, done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("jido runs ")
    assert message in lines[0]


def test_no_store_here_is_bad_input_and_creates_nothing(tmp_path: Path) -> None:
    done = jido_cmd("runs", "list", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "jido runs list: no store at .jido/runs.db (pass --store URL or set JIDO_STORE)"
    )
    assert not (tmp_path / ".jido").exists()


def test_unreachable_postgres_is_one_line(tmp_path: Path) -> None:
    done = jido_cmd("runs", "list", "--store", "postgresql://nobody@127.0.0.1:1/none", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "cannot connect" in done.stderr
