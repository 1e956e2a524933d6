"""``jido web``: the bind rule, the store it picks, the URL it prints, several processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import journal as j
import pytest
from sse import Event, Stream, runs_in

from jido._store import open_store

TOKEN = "tok-123"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("JIDO_STORE", "JIDO_WEB_TOKEN")}
    return {**env, **extra}


class Web:
    """``jido web`` in a child process, serving on the URL it printed."""

    def __init__(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jido", "web", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=cwd,
            env=env or _env(),
        )
        assert self.proc.stdout is not None
        self.line = self.proc.stdout.readline().strip()
        assert " at http://" in self.line, (self.line, self._stderr())
        self.url = self.line.rsplit(" at ", 1)[1].rstrip("/")

    def _stderr(self) -> str:
        if self.proc.poll() is None:
            return ""
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def webs() -> Iterator[list[Web]]:
    started: list[Web] = []
    yield started
    for web in started:
        if web.proc.poll() is None:
            web.stop()


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jido", "web", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=env or _env(),
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_non_local_bind_without_a_token_is_refused_in_one_line(host: str, tmp_path: Path) -> None:
    done = _run("--host", host, "--store", f"sqlite:///{tmp_path / 'r.db'}")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"jido web: refusing to serve on {host} without a token")
    assert not (tmp_path / "r.db").exists()  # refused before anything was opened


def test_a_bad_store_url_is_one_line_too(tmp_path: Path) -> None:
    done = _run("--store", "mysql://nope")
    assert done.returncode == 2
    assert done.stderr.startswith("jido web: unsupported store URL scheme 'mysql'")
    assert done.stderr.count("\n") == 1


def test_a_token_from_the_environment_allows_any_bind_and_is_required(
    tmp_path: Path, webs: list[Web]
) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    store = open_store(url)
    j.finished(store, "r1")
    store.close()
    web = Web("--host", "0.0.0.0", "--store", url, env=_env(JIDO_WEB_TOKEN=TOKEN))
    webs.append(web)
    port = web.url.rsplit(":", 1)[1]
    local = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{local}/api/runs").status_code == 401
    assert httpx.get(f"{local}/").status_code == 401
    ok = httpx.get(f"{local}/api/runs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert [r["id"] for r in ok.json()["items"]] == ["r1"]
    assert web.stop() == 0


def test_the_store_is_the_flag_then_jido_store_then_the_default(
    tmp_path: Path, webs: list[Web]
) -> None:
    default = Web(cwd=tmp_path)
    webs.append(default)
    assert default.line.startswith("jido web: sqlite:///.jido/runs.db at http://127.0.0.1:")
    assert (tmp_path / ".jido" / "runs.db").exists()
    from_env = Web(cwd=tmp_path, env=_env(JIDO_STORE=f"sqlite:///{tmp_path / 'env.db'}"))
    webs.append(from_env)
    assert f"{tmp_path / 'env.db'}" in from_env.line
    flag = Web("--store", f"sqlite:///{tmp_path / 'flag.db'}", env=_env(JIDO_STORE="bad://"))
    webs.append(flag)
    assert f"{tmp_path / 'flag.db'}" in flag.line


def test_two_web_processes_serve_one_postgres_store(pg_url: str, webs: list[Web]) -> None:
    a, b = Web("--store", pg_url), Web("--store", pg_url)
    webs.extend([a, b])
    with httpx.Client(base_url=a.url) as ca, httpx.Client(base_url=b.url) as cb:
        feed_a = ca.get("/api/runs").json()["feed"]
        feed_b = cb.get("/api/runs").json()["feed"]
        sa = Stream(ca, f"/api/events?after={feed_a}")
        sb = Stream(cb, f"/api/events?after={feed_b}")
        store = open_store(pg_url)
        try:
            j.start(store, "shared")
            j.attempt(store, "shared")

            def seen(status: str) -> object:
                return lambda ev: any(
                    r["id"] == "shared" and r["status"] == status for r in runs_in(ev)
                )

            sa.collect(seen("running"))
            sb.collect(seen("running"))
            store.request_cancel("shared", at=time.time())  # a cancel that reaches the owner
            assert store.cancel_requested(j.OWNER) == ["shared"]
            store.needs_attention("shared", reason="owner gone", at=time.time())
            cb.get("/")  # B's page sets B's CSRF cookie; B acts, A shows it
            headers = {"X-CSRF-Token": cb.cookies["jido_csrf"]}
            cancelled = cb.post("/api/cancel/shared", json={}, headers=headers)
            assert cancelled.json()["status"] == "cancelled"
            events: list[Event] = sa.collect(seen("cancelled"))
            assert events
        finally:
            sa.close()
            sb.close()
            store.close()
    assert a.stop() == 0
    assert b.stop() == 0
