"""A Server-Sent Events client for the tests: events are read in a thread into a queue."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Event:
    id: str | None
    event: str
    data: Any


class Stream:
    """``GET path`` as an event stream; ``next_matching`` waits for an event."""

    def __init__(self, client: httpx.Client, path: str, headers: dict[str, str] | None = None):
        self._cm = client.stream("GET", path, headers=headers, timeout=httpx.Timeout(30.0))
        self.response = self._cm.__enter__()
        self.last_id: str | None = None
        self.events: queue.Queue[Event | BaseException] = queue.Queue()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for line in self.response.iter_lines():
                if line == "":
                    if "data" in fields:
                        data = json.loads(fields["data"])
                        self.events.put(Event(fields.get("id"), fields.get("event", ""), data))
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
        except BaseException as exc:  # closed by the test, or the server went away
            self.events.put(exc)

    def next_event(self, timeout: float = 10.0) -> Event:
        item = self.events.get(timeout=timeout)
        if isinstance(item, BaseException):
            raise AssertionError(f"the stream ended: {item!r}")
        if item.id is not None:
            self.last_id = item.id
        return item

    def collect(self, done: Callable[[list[Event]], bool], timeout: float = 10.0) -> list[Event]:
        """Events until ``done(events so far)`` is true; fails after ``timeout`` seconds."""
        got: list[Event] = []
        deadline = time.monotonic() + timeout
        while not done(got):
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; got {[(e.event, e.data) for e in got]}"
            try:
                got.append(self.next_event(left))
            except queue.Empty:
                continue
        return got

    def close(self) -> None:
        self.response.close()
        self._cm.__exit__(None, None, None)


def runs_in(events: list[Event]) -> list[dict[str, Any]]:
    """Every run summary in the ``runs`` events, in the order sent."""
    return [run for e in events if e.event == "runs" for run in e.data]
