"""Helpers of the web view's suite: a real server in a thread, recording actions, a tab."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

from jido._store import Store
from jido._web.app import create_app
from jido._web.server import make_server


class Server:
    """The web app served by a real uvicorn on 127.0.0.1, in a thread of this process."""

    def __init__(self, store: Store, port: int = 0, **options: Any) -> None:
        self.headers_seen: list[dict[str, str]] = []

        def recording(app: Any) -> Any:
            async def record(scope: Any, receive: Any, send: Any) -> None:
                if scope["type"] == "http":
                    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
                    self.headers_seen.append({"path": scope["path"], **headers})
                await app(scope, receive, send)

            return record

        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = make_server(create_app(store, **options), wrap=recording)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive(), "the server stopped while starting"
            assert time.monotonic() < deadline, "the server did not start in 20 s"
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()
        assert not self.thread.is_alive(), "server did not stop"


class Recorder:
    """Actions that record what they were asked and do what a runtime's would in the store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: list[tuple[str, str]] = []

    def cancel(self, run_id: str) -> Any:
        from jido._web.actions import cancel_outcome

        self.calls.append(("cancel", run_id))
        return cancel_outcome(self.store, run_id, self.store.request_cancel(run_id, at=time.time()))

    def resume(self, run_id: str) -> Any:
        from jido._web.actions import Outcome

        self.calls.append(("resume", run_id))
        now = time.time()
        row = self.store.claim(run_id, owner="web-runtime", now=now, lease_until=now + 60)
        if row is None:
            return Outcome(False, f"not resumed: {run_id} cannot be resumed")
        return Outcome(True, f"resumed: the run is {row.status}", row.status)


class Page:
    """A browser tab that fails the test on any script error, with screenshots kept."""

    def __init__(self, tab: Any, shots: Path) -> None:
        self.tab = tab
        self.shots = shots
        self.errors: list[str] = []
        self.allowed: list[str] = ["401"]
        tab.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        tab.on("console", self._console)
        tab.on("dialog", lambda d: d.dismiss())

    def _console(self, message: Any) -> None:
        if message.type == "error" and not any(a in message.text for a in self.allowed):
            self.errors.append(f"console error: {message.text}")

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.tab.screenshot(path=str(path), full_page=True)
        return path
