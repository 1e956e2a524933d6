"""The lease heartbeat: renews this process's runs and picks up cancel requests.

Every ``lease / 3`` seconds it renews the lease of every run this process drives (a run
whose owner stops renewing is orphaned after ``lease`` seconds and can be recovered by
another process). Every tick (at most 0.5 s) it asks the store for cancel requests made
from other processes, so that a cancel reaches a running step within a second on SQLite
(Postgres pushes them at once with LISTEN/NOTIFY). The thread is supervised: an error in a
tick is logged and the next tick goes on; nothing stops it but :meth:`Heartbeat.stop`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jido._durable.manager import Durable

__all__ = ["Heartbeat"]

log = logging.getLogger("jido")

TICK = 0.5
"""Seconds between two looks for cancel requests."""


class Heartbeat:
    """A daemon thread renewing leases and relaying cancel requests for one ``Durable``."""

    def __init__(self, durable: Durable) -> None:
        self._durable = durable
        self._stop = threading.Event()
        self._tick = min(TICK, durable.lease / 4)
        self._thread = threading.Thread(target=self._serve, name="jido-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)

    def _serve(self) -> None:
        next_renew = 0.0
        while not self._stop.wait(self._tick):
            try:
                next_renew = self._beat(next_renew)
            except BaseException:  # supervised: log it, keep beating
                log.exception("jido heartbeat failed; retrying")

    def _beat(self, next_renew: float) -> float:
        durable = self._durable
        store = durable.store
        now = time.time()
        if now >= next_renew:
            requested = store.renew(durable.owner, now + durable.lease)
            next_renew = now + durable.lease / 3
        else:
            requested = store.cancel_requested(durable.owner)
        for run_id in requested:
            durable.cancel_requested(run_id)
        return next_renew
