"""What an attempt's execution hands back to its driver, wherever it ran."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from jido._core.errors import InternalError

__all__ = ["Outcome", "Stopped", "deliver"]

log = logging.getLogger("jido")

Outcome = tuple[bool, Any]
"""``(True, value)`` or ``(False, exception)``."""


class Stopped(Exception):
    """An attempt ended because it was told to stop; ``mechanism`` says how it stopped.

    ``waited``: for an attempt that never started, the seconds it waited for a worker.
    """

    def __init__(self, mechanism: str, waited: float = 0.0) -> None:
        super().__init__(mechanism)
        self.mechanism = mechanism
        self.waited = waited


def deliver(on_done: Callable[[Outcome], None], outcome: Outcome) -> None:
    """Hand an attempt's outcome to its driver, on whatever engine thread this is.

    Completing a run must never kill the thread that delivers it (a worker, a process
    pool reader): if the driver raises, which is a bug since it contains user code's
    exceptions, the run fails with an ``internal_error`` instead of hanging.
    """
    try:
        on_done(outcome)
    except BaseException as exc:
        log.error("jido job completion failed", exc_info=exc)
        fail = getattr(on_done, "fail", None)
        if fail is None:
            return
        error = InternalError(
            f"jido failed to complete this run ({type(exc).__name__})",
            details={"exception": type(exc).__qualname__},
        )
        error.__cause__ = exc
        try:
            fail(error)
        except BaseException:  # pragma: no cover - the failure path itself broke
            log.exception("jido could not fail a run whose completion broke")
