"""Who may read and act: the token, the Host check, CSRF and the response headers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import journal as j
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from webtest import Server

from jido._store import Store
from jido._web.security import bind_error, is_loopback

TOKEN = "s3cret-token"
PATHS = ["/", "/runs/r1", "/static/app.js", "/api/runs", "/api/run/r1", "/api/events"]


@pytest.mark.parametrize("path", PATHS)
def test_with_a_token_every_request_without_it_is_a_401(
    sqlite_store: Store,
    serve: Callable[..., Server],
    client: Callable[..., httpx.Client],
    path: str,
) -> None:
    j.finished(sqlite_store, "r1")
    c = client(serve(sqlite_store, token=TOKEN).url)
    assert c.get(path).status_code == 401
    assert c.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get(path, params={"token": "wrong"}).status_code == 401
    assert c.post("/api/cancel/r1", json={}).status_code == 401


def test_a_bearer_token_is_accepted_on_every_request(
    sqlite_store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    j.start(sqlite_store, "r1")
    c = client(serve(sqlite_store, token=TOKEN).url)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert c.get("/api/runs", headers=auth).json()["items"][0]["id"] == "r1"
    # a script authenticated by its header needs no CSRF token: a browser cannot forge it
    cancelled = c.post("/api/cancel/r1", json={}, headers=auth)
    assert cancelled.status_code == 200


def test_a_first_visit_with_the_token_sets_an_httponly_cookie_and_drops_it_from_the_url(
    sqlite_store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    c = client(serve(sqlite_store, token=TOKEN).url)
    first = c.get("/", params={"token": TOKEN, "status": "failed"})
    assert first.status_code == 303
    assert first.headers["location"] == "/?status=failed"
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert TOKEN not in cookie  # the cookie holds a digest, never the token
    assert c.get("/?status=failed").status_code == 200
    assert c.get("/api/runs").status_code == 200
    deep = client(c.base_url).get("/runs/orders%2F42%20x", params={"token": TOKEN})
    assert deep.headers["location"] == "/runs/orders%2F42%20x"  # the run's URL, as it was


def test_without_a_token_only_loopback_host_names_are_answered(
    sqlite_store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    server = serve(sqlite_store)
    c = client(server.url)
    assert c.get("/api/runs").status_code == 200
    assert c.get("/api/runs", headers={"Host": f"localhost:{server.port}"}).status_code == 200
    rebound = c.get("/api/runs", headers={"Host": f"evil.example:{server.port}"})
    assert rebound.status_code == 403  # a page that re-points its name at 127.0.0.1 reads nothing


def test_a_state_change_needs_a_same_origin_json_post_with_the_csrf_token(
    sqlite_store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    j.start(sqlite_store, "r1")
    server = serve(sqlite_store)
    c = client(server.url)
    assert c.get("/").status_code == 200
    token = c.cookies["jido_csrf"]
    good = {"X-CSRF-Token": token}

    def post(headers: dict[str, str], **kw: object) -> int:
        return c.post("/api/cancel/r1", headers=headers, **kw).status_code  # type: ignore[arg-type]

    assert post({}, json={}) == 403
    assert post({"X-CSRF-Token": "forged"}, json={}) == 403
    assert post({**good, "Origin": "http://evil.example"}, json={}) == 403
    assert post({**good, "Sec-Fetch-Site": "cross-site"}, json={}) == 403
    assert post({**good, "Content-Type": "text/plain"}, content="{}") == 415
    assert c.get("/api/cancel/r1").status_code == 405
    assert sqlite_store.cancel_requested(j.OWNER) == []
    assert post({**good, "Origin": server.url}, json={}) == 200
    assert sqlite_store.cancel_requested(j.OWNER) == ["r1"]


def test_every_response_has_a_strict_content_security_policy(
    sqlite_store: Store, serve: Callable[..., Server], client: Callable[..., httpx.Client]
) -> None:
    c = client(serve(sqlite_store).url)
    for path in ("/", "/api/runs", "/static/app.js", "/api/run/nope"):
        headers = c.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "default-src 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"


def test_binding_beyond_loopback_needs_a_token() -> None:
    assert bind_error("127.0.0.1", None) is None
    assert bind_error("::1", None) is None
    assert bind_error("localhost", None) is None
    assert bind_error("0.0.0.0", "t") is None
    for host in ("0.0.0.0", "::", "192.168.1.4", "example.com"):
        why = bind_error(host, None)
        assert why is not None
        assert "--token" in why
        assert "\n" not in why
    assert bind_error("127.0.0.1", "  ") is not None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_is_loopback_never_raises(host: str) -> None:
    assert is_loopback(host) in (True, False)
