"""Handles for durable runs: one per run id in this process, whoever started or joined it.

A durable run's :class:`~jido.AsyncRef` exists before its driver does (so that a second
start of the same ``run_id`` in this process joins it at once). :class:`Relay` is that
handle's control: a cancel before the driver is attached is kept and applied on attach.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from jido._core.cancel import CancelReason
from jido._core.errors import JidoError
from jido._run.ref import AsyncRef

__all__ = ["Relay", "finished_ref"]


class Relay:
    """Forwards a cancel to the run's driver, once there is one."""

    __slots__ = ("_inner", "_lock", "_pending", "outer")

    def __init__(self, outer: AsyncRef) -> None:
        self.outer = outer
        self._lock = threading.Lock()
        self._inner: AsyncRef | None = None
        self._pending: CancelReason | None = None

    def cancel(self, reason: CancelReason) -> None:
        with self._lock:
            inner = self._inner
            if inner is None:
                self._pending = self._pending or reason
                return
        control = inner._control
        if control is not None:
            control.cancel(reason)

    def attach(
        self,
        inner: AsyncRef,
        check: Callable[[], JidoError | None] | None = None,
        unwrap: str | None = None,
    ) -> None:
        """Deliver ``inner``'s outcome to the handle.

        ``check`` may turn a result into an error; ``unwrap`` names the key of the result
        that holds the outcome (a composite's internal action returns ``{"outcome": ...}``).
        """
        with self._lock:
            self._inner = inner
            pending = self._pending
        self.outer._loop = inner._loop
        inner.add_done_callback(_deliver(self.outer, check, unwrap))
        if pending is not None:
            self.cancel(pending)

    def fail(self, error: JidoError) -> None:
        """End the handle with ``error`` (the run could not be started)."""
        self.outer._set_error(error)


def _deliver(
    outer: AsyncRef, check: Callable[[], JidoError | None] | None, unwrap: str | None
) -> Callable[[AsyncRef], None]:
    def deliver(inner: AsyncRef) -> None:
        error = inner.exception()
        if error is None and check is not None:
            error = check()
        if error is not None:
            outer._set_error(error)
        else:
            value = inner._value
            outer._set_result(value[unwrap] if unwrap is not None else value)

    return deliver


def finished_ref(action: str, run_id: str, grace: float, outcome: Any, ok: bool) -> AsyncRef:
    """A handle that is already done: a recorded result, or a recorded error."""
    ref = AsyncRef(action, run_id, grace)
    if ok:
        ref._set_result(outcome)
    else:
        ref._set_error(outcome)
    return ref
