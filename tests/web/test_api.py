"""The JSON API over a real server: the runs list, a run's history, redaction, actions."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import journal as j
import pytest
from webtest import Recorder, Server

from jido._store import Store
from jido._web import app as web_app
from jido._web.actions import StoreActions


def _csrf(c: httpx.Client) -> dict[str, str]:
    """Visit the page (which sets the CSRF cookie) and return the header to send with it."""
    assert c.get("/").status_code == 200
    return {"X-CSRF-Token": c.cookies["jido_csrf"]}


def test_the_list_is_newest_first_one_keyset_page_at_a_time(
    store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    base = time.time() - 100
    for i in range(7):
        j.start(store, f"r{i}", created_at=base + i)
    c = client(serve(store).url)
    seen: list[str] = []
    cursor = ""
    for expected in (3, 3, 1):
        body = c.get("/api/runs", params={"limit": 3, "cursor": cursor}).json()
        assert len(body["items"]) == expected
        seen += [r["id"] for r in body["items"]]
        cursor = body["cursor"]
    assert cursor is None
    assert seen == [f"r{i}" for i in reversed(range(7))]


def test_a_row_has_what_the_list_shows(
    store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    j.start(store, "r1", action="orders.add")
    j.attempt(store, "r1")
    j.fail(store, "r1", retry_in=0.05)
    j.attempt(store, "r1", 2)
    j.succeed(store, "r1", {"sum": 3}, n=2)
    row = client(serve(store).url).get("/api/runs").json()["items"][0]
    assert row["id"] == "r1"
    assert row["status"] == "succeeded"
    assert row["action"] == "orders.add"
    assert row["attempts"] == 2
    assert row["owner"] == j.OWNER
    assert row["finished"] >= row["started"] >= row["created"]
    assert "params" not in row
    assert "result" not in row


def test_filters_by_status_including_retrying_and_needs_attention_action_and_time(
    store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    old = time.time() - 7200
    j.start(store, "old-running", action="add", created_at=old)
    j.finished(store, "done")
    j.start(store, "retrying", action="add")
    j.attempt(store, "retrying")
    j.fail(store, "retrying", retry_in=60)
    j.start(store, "parked", action="mul")
    store.needs_attention("parked", reason="definition changed", at=time.time())
    c = client(serve(store).url)

    def ids(**params: str) -> list[str]:
        response = c.get("/api/runs", params=params)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert ids(status="retrying") == ["retrying"]
    assert ids(status="needs_attention") == ["parked"]
    assert ids(status="needs_attention,retrying") == ["parked", "retrying"]
    assert ids(action="add") == ["retrying", "old-running"]
    assert ids(since="1h") == ["parked", "retrying", "done"]
    assert ids(since=str(old - 1), status="running") == ["old-running"]
    assert ids(action="add", status="running") == ["old-running"]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"status": "exploded"}, "unknown status 'exploded'"),
        ({"since": "yesterday-ish"}, "since must be"),
        ({"limit": "0"}, "limit must be"),
        ({"limit": "many"}, "limit must be"),
        ({"cursor": "not-a-cursor"}, "not a run list cursor"),
    ],
)
def test_a_bad_filter_is_a_400_that_says_why(
    sqlite_store: Store,
    serve: Callable[..., Server],
    client: Callable[..., httpx.Client],
    params: dict[str, str],
    says: str,
) -> None:
    response = client(serve(sqlite_store).url).get("/api/runs", params=params)
    assert response.status_code == 400
    assert says in response.json()["message"]


def test_a_run_has_every_attempt_with_its_backoff_and_how_a_timeout_stopped(
    store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    j.start(store, "r1")
    j.attempt(store, "r1", 1)
    j.fail(store, "r1", 1, retry_in=0.05, timeout=True)
    j.attempt(store, "r1", 2)
    j.fail(store, "r1", 2, retry_in=0.05)
    j.attempt(store, "r1", 3)
    j.succeed(store, "r1", {"sum": 3}, n=3)
    body = client(serve(store).url).get("/api/run/r1").json()
    assert body["run"]["status"] == "succeeded"
    assert body["run"]["result"] == {"sum": 3}
    assert body["run"]["params"] == {"a": 1, "b": 2}
    first, second, third = body["attempts"]
    assert first["status"] == "failed"
    assert first["error"]["type"] == "timeout"
    assert (first["stopped"], first["stop"]) == (True, "interrupt")
    assert first["retry_at"] == pytest.approx(first["finished"] + 0.05, abs=0.01)
    assert second["error"] == {"type": "execution_error", "message": "upstream said 503"}
    assert second["retry_at"] is not None
    assert third["status"] == "succeeded"
    assert third["retry_at"] is None
    assert [a["attempt"] for a in body["attempts"]] == [1, 2, 3]
    assert body["graph"] is None  # a single action has no step graph


def test_a_plan_has_its_step_graph_with_each_steps_status(
    store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    plan = {"steps": {"a": {"action": "fetch"}, "b": {"deps": ["a"]}, "c": {"deps": ["a"]}}}
    j.start(store, "p1", kind="plan", definition=plan)
    j.attempt(store, "p1", step="a")
    j.step_ok(store, "p1", "a")
    j.attempt(store, "p1", step="b")
    graph = client(serve(store).url).get("/api/run/p1").json()["graph"]
    assert {n["key"]: n["status"] for n in graph["nodes"]} == {
        "a": "succeeded",
        "b": "running",
        "c": "pending",
    }
    assert sorted(graph["edges"]) == [["a", "b"], ["a", "c"]]


def test_values_are_redacted_as_telemetry_redacts_them(
    sqlite_store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    j.start(sqlite_store, "r1", params={"user": "ada", "password": "hunter2"})
    j.attempt(sqlite_store, "r1")
    j.succeed(sqlite_store, "r1", {"api_key": "sk-123", "note": "Authorization: Bearer abc.def"})
    body = client(serve(sqlite_store).url).get("/api/run/r1").json()
    assert body["run"]["params"] == {"user": "ada", "password": "[REDACTED]"}
    assert body["run"]["result"]["api_key"] == "[REDACTED]"
    assert "abc.def" not in body["run"]["result"]["note"]


def test_an_unknown_run_is_a_404_and_a_run_id_may_hold_slashes(
    sqlite_store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    j.finished(sqlite_store, "orders/42/pay")
    c = client(serve(sqlite_store).url)
    assert c.get("/api/run/nope").status_code == 404
    assert c.get("/api/run/orders%2F42%2Fpay").json()["run"]["id"] == "orders/42/pay"
    assert c.get("/runs/orders%2F42%2Fpay").status_code == 200


def test_the_page_is_static_so_no_value_reaches_it_as_html(
    sqlite_store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    j.finished(sqlite_store, "<script>x</script>", result={"html": "<script>alert(1)</script>"})
    c = client(serve(sqlite_store).url)
    for path in ("/", "/runs/%3Cscript%3Ex%3C%2Fscript%3E"):
        page = c.get(path)
        assert page.headers["content-type"].startswith("text/html")
        assert "alert(1)" not in page.text
        assert "x</script>" not in page.text
    api = c.get("/api/run/%3Cscript%3Ex%3C%2Fscript%3E")
    assert api.headers["content-type"] == "application/json"
    assert api.json()["run"]["result"] == {"html": "<script>alert(1)</script>"}
    for name in ("app.js", "list.js", "run.js", "draw.js", "common.js"):
        assert "innerHTML" not in c.get(f"/static/{name}").text


def test_the_page_and_its_assets_are_served_from_the_package(
    sqlite_store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    c = client(serve(sqlite_store).url)
    sizes = 0
    for name, kind in [
        ("app.js", "text/javascript"),
        ("app.css", "text/css"),
        ("favicon.svg", "image/svg+xml"),
    ]:
        response = c.get(f"/static/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(kind)
        sizes += len(response.content)
    assert c.get("/static/../app.py").status_code == 404
    assert c.get("/static/secret.txt").status_code == 404
    page = c.get("/").text
    assert "http://" not in page
    assert "https://" not in page
    assert sizes < 60_000


# --- actions ----------------------------------------------------------------------------------


def test_cancel_of_an_owned_run_asks_its_owner_and_says_so(
    store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    j.start(store, "r1")
    j.attempt(store, "r1")
    c = client(serve(store).url)
    response = c.post("/api/cancel/r1", json={}, headers=_csrf(c))
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert j.OWNER in response.json()["message"]
    assert store.cancel_requested(j.OWNER) == ["r1"]


def test_cancel_of_an_unowned_run_cancels_it_and_of_a_finished_one_is_refused(
    store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    j.start(store, "parked")
    store.needs_attention("parked", reason="r", at=time.time())
    j.finished(store, "done")
    c = client(serve(store).url)
    headers = _csrf(c)
    parked = c.post("/api/cancel/parked", json={}, headers=headers).json()
    assert parked == {"ok": True, "message": parked["message"], "status": "cancelled"}
    refused = c.post("/api/cancel/done", json={}, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["message"] == "not cancelled: the run is already succeeded"
    missing = c.post("/api/cancel/nope", json={}, headers=headers)
    assert missing.status_code == 409
    assert "no run" in missing.json()["message"]


def test_resume_goes_through_a_runtime_on_the_same_store(
    sqlite_store: Store,
    sqlite_url: str,
    serve: Callable[..., Server],
    client: Callable[..., httpx.Client],
) -> None:
    made: list[str] = []
    resumed: list[str] = []

    class Runs:
        def resume(self, run_id: str) -> None:
            resumed.append(run_id)
            now = time.time()
            sqlite_store.claim(run_id, owner="web", now=now, lease_until=now + 60)

    class Runtime:
        runs = Runs()

    def runtime(url: str) -> Runtime:
        made.append(url)
        return Runtime()

    j.start(sqlite_store, "failed")
    j.attempt(sqlite_store, "failed")
    j.failed(sqlite_store, "failed")
    j.finished(sqlite_store, "done")
    actions = StoreActions(sqlite_store, sqlite_url, runtime=runtime)
    c = client(serve(sqlite_store, actions=actions).url)
    headers = _csrf(c)
    ok = c.post("/api/resume/failed", json={}, headers=headers)
    assert ok.json() == {"ok": True, "message": "resumed: the run is running", "status": "running"}
    refused = c.post("/api/resume/done", json={}, headers=headers)
    assert refused.status_code == 409
    assert "the run is succeeded" in refused.json()["message"]
    assert (made, resumed) == ([sqlite_url], ["failed"])


def test_a_resume_that_raises_is_an_outcome_not_a_crash(
    sqlite_store: Store,
    sqlite_url: str,
    serve: Callable[..., Server],
    client: Callable[..., httpx.Client],
) -> None:
    def runtime(url: str) -> Any:
        raise RuntimeError("no runtime here")

    j.start(sqlite_store, "failed")
    j.failed(sqlite_store, "failed")
    actions = StoreActions(sqlite_store, sqlite_url, runtime=runtime)
    c = client(serve(sqlite_store, actions=actions).url)
    response = c.post("/api/resume/failed", json={}, headers=_csrf(c))
    assert response.status_code == 409
    assert response.json()["message"] == "not resumed: RuntimeError: no runtime here"


def test_bulk_cancel_counts_then_cancels_only_what_matches(
    store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    for i in range(3):
        j.start(store, f"add-{i}", action="add")
    j.start(store, "mul-0", action="mul")
    j.finished(store, "done")
    recorder = Recorder(store)
    c = client(serve(store, actions=recorder).url)
    headers = _csrf(c)
    wanted = {"filter": {"action": "add"}}
    preview = c.post("/api/bulk-cancel", json={**wanted, "confirm": False}, headers=headers)
    assert preview.json() == {"ok": True, "count": 3, "more": False, "filter": "action add"}
    assert recorder.calls == []
    done = c.post("/api/bulk-cancel", json={**wanted, "confirm": True}, headers=headers).json()
    assert (done["count"], done["cancelled"]) == (3, 3)
    assert sorted(recorder.calls) == [("cancel", f"add-{i}") for i in range(3)]
    assert sorted(store.cancel_requested(j.OWNER)) == ["add-0", "add-1", "add-2"]


def test_bulk_cancel_is_bounded_and_says_when_more_remain(
    sqlite_store: Store,
    serve: Callable[..., Server],
    client: Callable[..., httpx.Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(web_app, "BULK_LIMIT", 2)
    for i in range(3):
        j.start(sqlite_store, f"r{i}")
    c = client(serve(sqlite_store).url)
    body = {"filter": {"status": "running"}, "confirm": True}
    done = c.post("/api/bulk-cancel", json=body, headers=_csrf(c)).json()
    assert (done["count"], done["cancelled"], done["more"]) == (2, 2, True)
    assert "run it again for the rest" in done["message"]


def test_bulk_cancel_of_finished_statuses_asks_nothing(
    sqlite_store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    j.finished(sqlite_store, "done")
    c = client(serve(sqlite_store).url)
    body = {"filter": {"status": "succeeded"}, "confirm": True}
    done = c.post("/api/bulk-cancel", json=body, headers=_csrf(c)).json()
    assert (done["count"], done["cancelled"]) == (0, 0)
    bad = c.post("/api/bulk-cancel", json={"filter": "x"}, headers=_csrf(c))
    assert bad.status_code == 400
