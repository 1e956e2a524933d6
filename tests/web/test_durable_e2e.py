"""End to end with the durable runtime: the page's buttons act on runs another process drives.

A child process runs a CPU-bound action on ``jido.Runtime(store=url)``; the cancel button
on the page must stop it (its side effect stops growing), and the resume button must run
a failed run again (in the web process's runtime) to success.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import expect
from webtest import Page, Server

from jido._store import Store
from jido._web.actions import StoreActions

HERE = Path(__file__).resolve().parent
DRIVER = """
import sys
import jido
import web_actions

url, counter, marker = sys.argv[1:4]
rt = jido.Runtime(store=url)
flaky = rt.run_async(web_actions.fails_once, {"marker": marker}, run_id="flaky-1",
                     timeout=30, max_retries=0)
try:
    jido.await_(flaky, timeout=60)
except jido.JidoError as exc:
    print("flaky-1", type(exc).__name__, flush=True)
ref = rt.run_async(web_actions.spin, {"path": counter}, run_id="spin-1", timeout=30)
try:
    jido.await_(ref, timeout=60)
except jido.JidoError as exc:
    print("spin-1", type(exc).__name__, exc.details.get("stopped"), flush=True)
rt.shutdown()
"""


def _count(path: Path) -> int:
    try:
        return int(path.read_text() or 0)
    except (OSError, ValueError):
        return 0


def _until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _grows(path: Path, within: float) -> bool:
    before = _count(path)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if _count(path) > before:
            return True
        time.sleep(0.05)
    return False


def _wait_for_run(store: Store, run_id: str, child: subprocess.Popen[str], status: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = store.get_run(run_id)
        if row is not None and row.status == status:
            return
        if child.poll() is not None and (row is None or row.status != status):
            out, err = child.communicate()
            raise AssertionError(f"the driver exited ({child.returncode}): {out}{err[-2000:]}")
        time.sleep(0.05)
    raise AssertionError(f"{run_id} did not become {status}")


def test_the_page_cancels_a_running_cpu_bound_action_and_resumes_a_failed_run(
    sqlite_store: Store,
    sqlite_url: str,
    serve: Callable[..., Server],
    page: Page,
    tmp_path: Path,
) -> None:
    counter, marker = tmp_path / "count", tmp_path / "failed-once"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    child = subprocess.Popen(
        [sys.executable, "-c", DRIVER, sqlite_url, str(counter), str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    actions = StoreActions(sqlite_store, sqlite_url)
    try:
        _wait_for_run(sqlite_store, "flaky-1", child, "failed")
        _wait_for_run(sqlite_store, "spin-1", child, "running")
        base = serve(sqlite_store, actions=actions).url
        tab = page.tab
        tab.goto(base + "/runs/spin-1")
        expect(tab.locator("#run-status")).to_have_text("running")
        _until(lambda: _count(counter) > 0, 30, "the action did not start")
        assert _grows(counter, 10), "the action is not running"
        tab.click("#run-cancel")
        tab.click("#confirm-yes")
        expect(tab.locator("#toast")).to_contain_text("cancel requested")
        expect(tab.locator("#run-status")).to_have_text("cancelled", timeout=10_000)
        _until(lambda: not _grows(counter, 0.5), 10, "the action went on after the cancel")
        assert not _grows(counter, 1.5), "the action started again after it stopped"
        page.shot("cancelled-by-the-page")

        tab.goto(base + "/runs/flaky-1")
        tab.click("#run-resume")
        tab.click("#confirm-yes")
        expect(tab.locator("#toast")).to_contain_text("resumed")
        expect(tab.locator("#run-status")).to_have_text("succeeded", timeout=10_000)
        expect(tab.locator("#outcome")).to_contain_text('"second": true')
        out, _ = child.communicate(timeout=60)
        assert "spin-1 CancelledError True" in out
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        actions.close()
