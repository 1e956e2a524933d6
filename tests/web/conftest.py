"""Fixtures of the web view's suite: stores of both backends, real servers, a real browser.

Servers are real uvicorn servers on 127.0.0.1 (in a thread of the test process, or the
``jido web`` command in a child process). The browser is Debian's Chromium driven by
Playwright; it must run in CI (``CI=true``): when it is missing there, this suite
installs it with apt-get and fails if it cannot. Elsewhere a missing browser skips the
browser tests with a loud reason. Screenshots are kept in each test's ``tmp_path``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from webtest import Page, Recorder, Server

from jido._store import Store, open_store
from jido._web.actions import RunActions

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runs.db'}"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    opened = open_store(sqlite_url)
    yield opened
    opened.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """``serve(store, **create_app options)``: a running server, stopped after the test."""
    started: list[Server] = []

    def start(store: Store, port: int = 0, **options: Any) -> Server:
        server = Server(store, port, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.thread.is_alive():
            server.stop()


@pytest.fixture
def client() -> Iterator[Callable[[str], httpx.Client]]:
    """``client(base_url)``: an HTTP client that keeps cookies, closed after the test."""
    made: list[httpx.Client] = []

    def make(base_url: str, **options: Any) -> httpx.Client:
        c = httpx.Client(base_url=base_url, timeout=20, **options)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def recorder(sqlite_store: Store) -> RunActions:
    return Recorder(sqlite_store)


# --- the browser ------------------------------------------------------------------------------


def _install_chromium() -> None:
    """In CI, install Debian's Chromium (as the project's CI script also does)."""
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt, "update", "-qq"], env=env, check=False, timeout=600)
    subprocess.run([apt, "install", "-y", "-qq", "chromium"], env=env, check=False, timeout=1200)


def _no_browser(why: str) -> None:
    message = f"browser tests cannot run: {why}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    warnings.warn(message, stacklevel=2)
    print(f"\n*** SKIPPED: {message} ***", file=sys.stderr)
    pytest.skip(message)


@pytest.fixture(scope="module")  # not beyond: playwright holds an event loop in this thread
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's), driven by Playwright, for one test module."""
    if not Path(CHROMIUM).exists() and IN_CI:
        _install_chromium()
    if not Path(CHROMIUM).exists():
        _no_browser(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _no_browser(f'{exc} (pip install -e ".[test]")')
    with sync_playwright() as p:
        try:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        except Exception as exc:
            _no_browser(f"Chromium did not start: {exc}")
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    tab = Page(context.new_page(), tmp_path)
    yield tab
    try:
        tab.shot("last")
    finally:
        context.close()
    assert not tab.errors, tab.errors
