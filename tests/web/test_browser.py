"""The page in a real headless Chromium: live rows, the attempt timeline, escaping, actions."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import journal as j
import pytest
from webtest import Page, Recorder, Server

from jido._store import Store

pytest.importorskip("playwright", reason='pip install -e ".[test]"')
from playwright.sync_api import expect

DOCS = Path(__file__).resolve().parents[2] / "docs"
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


@pytest.fixture(autouse=True)
def _expect_timeout() -> None:
    expect.set_options(timeout=10_000)


def _open(page: Page, url: str) -> Any:
    tab = page.tab
    tab.goto(url)
    expect(tab.locator("#live")).to_have_class("live on")
    return tab


def test_the_page_loads_and_a_new_run_appears_without_a_reload(
    sqlite_store: Store, serve: Callable[..., Server], page: Page
) -> None:
    j.finished(sqlite_store, "old")
    tab = _open(page, serve(sqlite_store).url + "/")
    expect(tab.locator('tr[data-id="old"]')).to_contain_text("succeeded")
    tab.evaluate("window.__same_page = true")
    j.start(sqlite_store, "fresh", action="orders.add")
    row = tab.locator('tr[data-id="fresh"]')
    expect(row).to_contain_text("running")
    expect(row).to_contain_text("orders.add")
    assert tab.locator("#runs tbody tr").first.get_attribute("data-id") == "fresh"
    j.attempt(sqlite_store, "fresh")
    j.fail(sqlite_store, "fresh", retry_in=60)
    expect(row.locator(".status")).to_have_text("retrying")
    expect(tab.locator("#counts .s-retrying b")).to_have_text("1")
    assert tab.evaluate("window.__same_page") is True
    page.shot("list-live")


def test_a_filtered_list_takes_only_matching_runs_live(
    sqlite_store: Store, serve: Callable[..., Server], page: Page
) -> None:
    tab = _open(page, serve(sqlite_store).url + "/?status=failed")
    expect(tab.locator("#f-status")).to_have_value("failed")
    j.start(sqlite_store, "ok-run")
    j.start(sqlite_store, "bad-run")
    j.failed(sqlite_store, "bad-run")
    expect(tab.locator('tr[data-id="bad-run"]')).to_contain_text("failed")
    assert tab.locator('tr[data-id="ok-run"]').count() == 0


def test_every_attempt_appears_on_the_timeline_as_it_happens(
    sqlite_store: Store, serve: Callable[..., Server], page: Page
) -> None:
    j.start(sqlite_store, "r1")
    tab = _open(page, serve(sqlite_store).url + "/runs/r1")
    expect(tab.locator("#timeline")).to_contain_text("No attempt has started yet.")
    timeline = tab.locator("#timeline")
    j.attempt(sqlite_store, "r1", 1)
    expect(timeline.locator('g.attempt.a-running[data-attempt="1"]')).to_have_count(1)
    j.fail(sqlite_store, "r1", 1, retry_in=1.0, timeout=True)
    expect(timeline.locator('g.attempt.a-failed.timeout[data-attempt="1"]')).to_have_count(1)
    expect(timeline.locator("line.backoff")).to_have_count(1)
    first = tab.locator('#attempts tr[data-attempt="1"]')
    expect(first).to_contain_text("failed · timeout")
    expect(first).to_contain_text("stopped (interrupt)")
    expect(first).to_contain_text("1.00 s (due")
    expect(tab.locator("#run-status")).to_have_text("retrying")
    j.attempt(sqlite_store, "r1", 2)
    expect(timeline.locator('g.attempt.a-running[data-attempt="2"]')).to_have_count(1)
    page.shot("timeline-running")
    j.succeed(sqlite_store, "r1", {"sum": 3}, n=2)
    expect(tab.locator("#run-status")).to_have_text("succeeded")
    expect(timeline.locator('g.attempt.a-succeeded[data-attempt="2"]')).to_have_count(1)
    expect(tab.locator("#outcome")).to_have_text('{\n  "sum": 3\n}')
    page.shot("timeline-done")


def test_a_plan_is_drawn_as_a_graph_with_each_steps_status(
    sqlite_store: Store, serve: Callable[..., Server], page: Page
) -> None:
    plan = {"steps": {"fetch": {}, "resize": {"deps": ["fetch"]}, "tag": {"deps": ["fetch"]}}}
    j.start(sqlite_store, "p1", kind="plan", definition=plan)
    j.attempt(sqlite_store, "p1", step="fetch")
    tab = _open(page, serve(sqlite_store).url + "/runs/p1")
    graph = tab.locator("#graph svg")
    expect(graph.locator('g.node[data-key="fetch"]')).to_have_class("node s-running")
    expect(graph.locator("path.edge")).to_have_count(2)
    j.step_ok(sqlite_store, "p1", "fetch")
    j.attempt(sqlite_store, "p1", step="resize")
    expect(graph.locator('g.node[data-key="fetch"]')).to_have_class("node s-succeeded")
    expect(graph.locator('g.node[data-key="resize"]')).to_have_class("node s-running")
    expect(graph.locator('g.node[data-key="tag"]')).to_have_class("node s-pending")


def test_a_hostile_result_id_and_error_are_shown_as_text(
    sqlite_store: Store, serve: Callable[..., Server], page: Page
) -> None:
    run_id = "<b>bold</b>"
    j.start(sqlite_store, run_id, action="<i>act</i>", params={"html": HOSTILE})
    j.attempt(sqlite_store, run_id)
    j.succeed(sqlite_store, run_id, {"html": HOSTILE})
    j.start(sqlite_store, "bad")
    j.attempt(sqlite_store, "bad")
    assert sqlite_store.finish_run(
        "bad", owner=j.OWNER, status="failed", at=time.time(),
        error={"type": "<svg onload=alert(1)>", "message": HOSTILE}, attempt=("", 1),
    )  # fmt: skip
    base = serve(sqlite_store).url
    tab = _open(page, base + "/")
    row = tab.locator("#runs tbody tr").filter(has_text="<i>act</i>")
    expect(row.locator("td.id")).to_have_text(run_id)
    assert tab.locator("#runs b, #runs i, #runs script, #runs img").count() == 0
    row.locator("td.id a").click()
    expect(tab.locator("#run-title")).to_have_text(run_id)
    expect(tab.locator("#outcome")).to_contain_text(HOSTILE.replace('"', '\\"'))
    expect(tab.locator("#params")).to_contain_text("<script>")
    tab.goto(base + "/runs/bad")
    expect(tab.locator("#outcome")).to_contain_text("<svg onload=alert(1)>")
    expect(tab.locator("#attempts")).to_contain_text(HOSTILE)
    assert tab.locator("main script, main img, main b, #outcome svg").count() == 0
    assert tab.evaluate("window.__pwned") is None
    page.shot("hostile")


def _csrf_cookie(tab: Any) -> str:
    cookies = {c["name"]: c for c in tab.context.cookies()}
    value: str = cookies["jido_csrf"]["value"]
    return value


def test_the_cancel_button_asks_posts_with_csrf_and_shows_the_outcome(
    sqlite_store: Store, serve: Callable[..., Server], page: Page
) -> None:
    j.start(sqlite_store, "r1")
    j.attempt(sqlite_store, "r1")
    tab = _open(page, serve(sqlite_store).url + "/runs/r1")
    posts: list[Any] = []
    tab.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    tab.click("#run-cancel")
    expect(tab.locator("#confirm-text")).to_have_text("Cancel run r1? Its running step is stopped.")
    tab.click("#confirm-no")
    assert posts == []
    assert sqlite_store.cancel_requested(j.OWNER) == []
    tab.click("#run-cancel")
    tab.click("#confirm-yes")
    expect(tab.locator("#toast")).to_have_text(
        f"cancel requested: {j.OWNER} stops the running step"
    )
    assert [p.url.rsplit("/", 2)[-2:] for p in posts] == [["cancel", "r1"]]
    assert posts[0].headers["x-csrf-token"] == _csrf_cookie(tab)
    assert sqlite_store.cancel_requested(j.OWNER) == ["r1"]
    page.shot("cancelled")


def test_the_resume_button_resumes_a_failed_run_and_the_page_follows(
    sqlite_store: Store, serve: Callable[..., Server], page: Page
) -> None:
    j.start(sqlite_store, "r1")
    j.attempt(sqlite_store, "r1")
    j.failed(sqlite_store, "r1")
    recorder = Recorder(sqlite_store)
    tab = _open(page, serve(sqlite_store, actions=recorder).url + "/runs/r1")
    expect(tab.locator("#run-cancel")).to_be_disabled()
    tab.click("#run-resume")
    tab.click("#confirm-yes")
    expect(tab.locator("#toast")).to_have_text("resumed: the run is running")
    expect(tab.locator("#run-status")).to_have_text("running")
    expect(tab.locator("#run-resume")).to_be_disabled()
    assert recorder.calls == [("resume", "r1")]


def test_bulk_cancel_of_a_filtered_selection_asks_then_shows_the_outcome(
    sqlite_store: Store, serve: Callable[..., Server], page: Page
) -> None:
    for i in range(3):
        j.start(sqlite_store, f"add-{i}", action="add", lease=-60)  # their owner is gone
    j.start(sqlite_store, "mul-0", action="mul", lease=-60)
    tab = _open(page, serve(sqlite_store).url + "/?action=add")
    expect(tab.locator("#runs tbody tr")).to_have_count(3)
    tab.click("#bulk-cancel")
    expect(tab.locator("#confirm-text")).to_have_text(
        "Cancel 3 runs (action add)? Each running step is stopped."
    )
    tab.click("#confirm-yes")
    expect(tab.locator("#toast")).to_have_text("cancel asked for 3 of 3 runs (action add)")
    for i in range(3):
        expect(tab.locator(f'tr[data-id="add-{i}"] .status')).to_have_text("cancelled")
    mul = sqlite_store.get_run("mul-0")
    assert mul is not None
    assert mul.status == "running"


def test_with_a_token_the_page_needs_it_once_then_keeps_an_httponly_cookie(
    sqlite_store: Store, serve: Callable[..., Server], page: Page
) -> None:
    j.finished(sqlite_store, "r1")
    base = serve(sqlite_store, token="tkn").url
    tab = page.tab
    assert tab.goto(base + "/").status == 401
    tab.goto(base + "/?token=tkn")
    assert tab.url == base + "/"
    expect(tab.locator('tr[data-id="r1"]')).to_be_visible()
    expect(tab.locator("#live")).to_have_class("live on")
    token_cookie = next(c for c in tab.context.cookies() if c["name"] == "jido_token")
    assert token_cookie["httpOnly"] is True
    assert "jido_token" not in tab.evaluate("document.cookie")


def test_the_live_list_resumes_after_a_server_restart_with_nothing_lost(
    sqlite_store: Store, serve: Callable[..., Server], page: Page
) -> None:
    page.allowed += ["ERR_CONNECTION_REFUSED", "ERR_EMPTY_RESPONSE", "net::"]
    server = serve(sqlite_store)
    tab = _open(page, server.url + "/")
    j.start(sqlite_store, "before")
    expect(tab.locator('tr[data-id="before"]')).to_be_visible()
    server.stop()
    expect(tab.locator("#live")).to_have_text("reconnecting")
    for i in range(3):
        j.start(sqlite_store, f"during-{i}")
    j.attempt(sqlite_store, "before")
    j.fail(sqlite_store, "before", retry_in=60)
    again = serve(sqlite_store, port=server.port)
    for i in range(3):
        expect(tab.locator(f'tr[data-id="during-{i}"]')).to_be_visible()
    expect(tab.locator('tr[data-id="before"] .status')).to_have_text("retrying")
    resumed = [h for h in again.headers_seen if h["path"] == "/api/events"]
    assert resumed
    assert all("last-event-id" in h for h in resumed)


def test_screenshots_of_the_example_runs(
    sqlite_store: Store, serve: Callable[..., Server], page: Page
) -> None:
    """The README's screenshots (written to docs/ when JIDO_UPDATE_DOCS=1)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("web_view", DOCS.parent / "examples/web_view.py")
    assert spec is not None
    assert spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    ids = example.seed(sqlite_store)
    base = serve(sqlite_store).url
    tab = _open(page, base + "/")
    expect(tab.locator("#runs tbody tr")).to_have_count(len(ids))
    expect(tab.locator("#counts .s-needs_attention b")).to_have_text("1")
    runs = page.shot("web-runs")
    tab.goto(base + f"/runs/{ids['retried']}")
    expect(tab.locator("#attempts tbody tr")).to_have_count(2)
    expect(tab.locator("#timeline line.backoff")).to_have_count(1)
    page.shot("web-retried")
    tab.goto(base + f"/runs/{ids['plan']}")
    expect(tab.locator("#graph g.node")).to_have_count(4)
    expect(tab.locator("#attempts tbody tr")).to_have_count(4)
    expect(tab.locator("#timeline line.backoff")).to_have_count(1)
    run = page.shot("web-run")
    if os.environ.get("JIDO_UPDATE_DOCS") == "1":
        shutil.copy(runs, DOCS / "web-runs.png")
        shutil.copy(run, DOCS / "web-run.png")
