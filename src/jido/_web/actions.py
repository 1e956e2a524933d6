"""What the page's buttons do: cancel and resume a run, behind a small injectable interface.

The app calls a :class:`RunActions`; each call returns an :class:`Outcome` the page shows.
:class:`StoreActions`, the default, cancels through the store (the run's owner, in
whatever process drives it, sees the request and stops the running step; a run that no
process owns is cancelled at once) and resumes through a runtime on the same store,
created on first use in the web process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from jido._store import Store
from jido._store.url import StoreURL

__all__ = ["Outcome", "RunActions", "StoreActions", "cancel_outcome"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action did, as the page shows it.

    Attributes:
        ok: whether it did what was asked.
        message: one sentence for a person (``"cancel requested: ..."``).
        status: the run's status afterwards, when known.
    """

    ok: bool
    message: str
    status: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The outcome as the API returns it."""
        return {"ok": self.ok, "message": self.message, "status": self.status}


class RunActions(Protocol):
    """The actions the web view offers; called from a worker thread, one run at a time."""

    def cancel(self, run_id: str) -> Outcome:
        """Ask for ``run_id`` to be cancelled (its running step stopped)."""
        ...

    def resume(self, run_id: str) -> Outcome:
        """Resume a ``failed`` or ``needs_attention`` run."""
        ...


def cancel_outcome(store: Store, run_id: str, requested: bool) -> Outcome:
    """The outcome of ``store.request_cancel(run_id)`` that returned ``requested``."""
    run = store.get_run(run_id)
    if run is None:
        return Outcome(False, f"no run {run_id!r} in the store")
    if not requested:
        return Outcome(False, f"not cancelled: the run is already {run.status}", run.status)
    if run.status == "cancelled":
        return Outcome(True, "cancelled (no process was driving it)", run.status)
    owner = run.owner or "its owner"
    return Outcome(True, f"cancel requested: {owner} stops the running step", run.status)


class StoreActions:
    """The default actions: cancel through the store, resume through a runtime.

    Args:
        store: the store the web view reads.
        url: its URL, for the runtime that resumes runs.
        runtime: builds that runtime (default: ``jido.Runtime(store=url)``), called once,
            on the first resume.
    """

    def __init__(
        self,
        store: Store,
        url: StoreURL | str,
        runtime: Callable[[str], Any] | None = None,
    ) -> None:
        self._store = store
        self._url = url.url if isinstance(url, StoreURL) else url
        self._make_runtime = runtime or _default_runtime
        self._runtime: Any = None
        self._lock = threading.Lock()

    def cancel(self, run_id: str) -> Outcome:
        requested = self._store.request_cancel(run_id, at=time.time())
        return cancel_outcome(self._store, run_id, requested)

    def resume(self, run_id: str) -> Outcome:
        run = self._store.get_run(run_id)
        if run is None:
            return Outcome(False, f"no run {run_id!r} in the store")
        if run.status not in ("failed", "needs_attention"):
            return Outcome(False, f"not resumed: the run is {run.status}", run.status)
        try:
            self._get_runtime().runs.resume(run_id)
        except Exception as exc:  # the page shows why; the server goes on
            return Outcome(False, f"not resumed: {type(exc).__name__}: {exc}", run.status)
        after = self._store.get_run(run_id)
        status = None if after is None else after.status
        return Outcome(True, f"resumed: the run is {status}", status)

    def close(self) -> None:
        """Shut down the runtime, if one was started."""
        with self._lock:
            runtime, self._runtime = self._runtime, None
        if runtime is not None and hasattr(runtime, "shutdown"):
            runtime.shutdown()

    def _get_runtime(self) -> Any:
        with self._lock:
            if self._runtime is None:
                self._runtime = self._make_runtime(self._url)
            return self._runtime


def _default_runtime(url: str) -> Any:
    import jido

    runtime: Any = jido.Runtime
    return runtime(store=url)
