"""The inline driver: a sync action's attempts in the caller's thread, with no time limit.

A ``BaseException`` that is not an ``Exception`` (``SystemExit``, ``KeyboardInterrupt``,
``GeneratorExit``) raised by the action propagates as Python would: this is the
caller's own thread.
"""

from __future__ import annotations

from typing import Any

from jido._core.cancel import CancelReason, Token
from jido._core.clock import sleep
from jido._core.context import RunContext
from jido._core.errors import JidoError
from jido._run.attempt import call_sync
from jido._run.call import Call
from jido._run.compensation import compensate_blocking
from jido._run.outcome import Stopped

__all__ = ["run_inline"]


def run_inline(call: Call, linked: Token | None = None) -> dict[str, Any]:
    """Attempts in the caller's thread (a sync action with no timeout).

    ``linked``: a token already cancelled with ``PARENT`` when the parent run's is (a
    composite driving its steps in this thread makes one for all of them).
    """
    attempt = 0
    parent = call.parent
    while True:
        attempt += 1
        token = unlink = None
        if linked is not None:
            token = linked
        elif parent is not None:
            token = Token()
            unlink = parent.token.link_child(token)
        plain = call.tracker is None and call.journal is None
        if plain:
            retries = call.opts.retry.max_retries
            rctx = RunContext(
                call.spec.name,
                call.run_id,
                attempt,
                retries + 1,
                call.deadline,
                call.context,
                token,
                call.key,
            )
        else:
            rctx = call.begin_attempt(attempt, call.deadline, token)
        try:
            result = call_sync(call.spec, call.instance, call.params, call.context, rctx)
        except Stopped as stop:
            error = call.stop_error(rctx.cancel_reason, True, stop.mechanism, attempt)
        except JidoError as exc:
            error = exc
        else:
            return result if plain else call.succeeded(attempt, result)
        finally:
            if unlink is not None and parent is not None:
                parent.token.remove_callback(unlink)
        delay, error = call.failed(attempt, error)
        if delay is None:
            raise call.conclude(error, attempt, compensate_blocking(call, error))
        if delay and _sleep_cancelled(parent, delay):
            stopped = call.stop_error(CancelReason.PARENT, True, "not_started", attempt)
            raise call.conclude(stopped, attempt, None)


def _sleep_cancelled(parent: RunContext | None, delay: float) -> bool:
    if parent is None:
        sleep(delay)
        return False
    return parent.token.wait(delay)
