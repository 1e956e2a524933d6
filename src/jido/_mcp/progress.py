"""Progress of a call, from jido's telemetry to whoever asked for it.

One telemetry handler (attached only while some call wants progress, so other runs stay
free of it) routes ``attempt.start``, ``retry.scheduled`` and ``progress`` events by
``run_id`` to that call's :class:`Channel`. A channel turns them into notes (a progress
value that never goes backwards, an optional total, a message), queues them from any
thread, and wakes the call's event loop; the call's sender awaits the notes and delivers
them. A heartbeat note is added while the action runs.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Final, NamedTuple

import jido.telemetry

__all__ = ["Channel", "Note", "Router", "Send", "pump"]

_EVENTS: Final = ("attempt.start", "retry.scheduled", "progress")
_MAX_QUEUED: Final = 64


class Note(NamedTuple):
    """One progress notification: ``progress`` never decreases within a call."""

    progress: float
    total: float | None
    message: str | None


Send = Callable[[Note], Awaitable[None]]


class Channel:
    """The progress of one call: notes queued from any thread, drained on its event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_attempts: int) -> None:
        self.max_attempts = max_attempts
        self.started = time.monotonic()
        self.attempt = 0
        self._loop = loop
        self._lock = threading.Lock()
        self._notes: collections.deque[tuple[bool, Note]] = collections.deque()
        self._last = 0.0
        self._total: float | None = None
        self._wake = asyncio.Event()
        self._waking = False
        self.closed = False

    # -- producers (any thread) ------------------------------------------------------------------
    def on_event(self, event: jido.telemetry.Event) -> None:
        name = event.name
        if name == "progress":
            message = event.metadata.get("message")
            self.push(event.measurements["progress"], event.measurements.get("total"), message)
        elif name == "attempt.start":
            self.attempt = int(event.metadata["attempt"])
            self.push(None, None, f"attempt {self.attempt} of {self.max_attempts}")
        elif name == "retry.scheduled":
            delay = round(float(event.measurements.get("delay", 0.0)), 1)
            upcoming = int(event.metadata["attempt"]) + 1
            text = f"retrying in {delay:g} s, attempt {upcoming} of {self.max_attempts}"
            self.push(None, None, text)

    def heartbeat(self) -> None:
        running = time.monotonic() - self.started
        self.push(None, None, f"running for {running:.0f} s (attempt {max(self.attempt, 1)})")

    def push(self, done: float | None, total: float | None, message: str | None) -> None:
        """Queue a note: ``done`` None keeps the last value (a lifecycle note)."""
        with self._lock:
            if done is not None:
                self._last = max(self._last, done)
                self._total = total
            note = Note(self._last, self._total, message)
            mergeable = done is not None
            if mergeable and self._notes and self._notes[-1][0]:
                self._notes[-1] = (True, note)  # a flood of reports: keep the newest
            elif len(self._notes) < _MAX_QUEUED:
                self._notes.append((mergeable, note))
            waking, self._waking = self._waking, True
        if not waking:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody listens any more
                self._loop.call_soon_threadsafe(self._wake.set)

    # -- the consumer (the call's event loop) ----------------------------------------------------
    def close(self) -> None:
        """No more notes will come: the pump delivers what is queued, then returns."""
        self.closed = True
        self._wake.set()

    async def next_batch(self) -> list[Note]:
        """Wait for notes, then take all of them."""
        await self._wake.wait()
        return self.take()

    def take(self) -> list[Note]:
        self._wake.clear()
        with self._lock:
            self._waking = False
            notes = [note for _, note in self._notes]
            self._notes.clear()
        return notes


class Router:
    """Routes telemetry events to the channel of the run they belong to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: dict[str, Channel] = {}
        self._ref: jido.telemetry.HandlerRef | None = None

    def open(self, run_id: str, channel: Channel) -> None:
        """Route ``run_id``'s events to ``channel`` (attaches the handler for the first one)."""
        with self._lock:
            self._channels[run_id] = channel
            if self._ref is None:
                self._ref = jido.telemetry.attach(self._handle, events=list(_EVENTS))

    def close(self, run_id: str) -> None:
        """Stop routing ``run_id`` (detaches the handler after the last one)."""
        with self._lock:
            self._channels.pop(run_id, None)
            ref = self._ref if not self._channels else None
            if ref is not None:
                self._ref = None
        if ref is not None:
            jido.telemetry.detach(ref)

    def _handle(self, event: jido.telemetry.Event) -> None:
        channel = self._channels.get(event.run_id)
        if channel is not None:
            channel.on_event(event)


async def pump(channel: Channel, send: Send, heartbeat: float) -> None:
    """Deliver a channel's notes as they come, and a heartbeat every ``heartbeat`` seconds.

    Returns once the channel is closed and everything queued has been delivered.
    """
    while not channel.closed:
        try:
            notes = await asyncio.wait_for(channel.next_batch(), heartbeat)
        except TimeoutError:
            channel.heartbeat()
            notes = channel.take()
        for note in notes:
            await send(note)
    for note in channel.take():
        await send(note)
