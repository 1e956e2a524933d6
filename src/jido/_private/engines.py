"""The in-process engine: attempts on the runtime's worker threads."""

from __future__ import annotations

import functools
from collections.abc import Callable

from jido._private.attempt import call_sync
from jido._private.context import RunContext
from jido._private.runs import AttemptHandle, Call
from jido._private.threads import Outcome, ThreadPool

__all__ = ["ThreadEngine"]


class ThreadEngine:
    """Runs each attempt on a worker thread; stops it with the token, then an interrupt."""

    name = "thread"
    observes_token = True

    def __init__(self, pool: ThreadPool) -> None:
        self._pool = pool

    def start(
        self, call: Call, rctx: RunContext, on_done: Callable[[Outcome], None]
    ) -> AttemptHandle:
        spec = call.spec
        fn = functools.partial(call_sync, spec, call.instance, call.params, call.context, rctx)
        return self._pool.submit(fn, on_done, interruptible=spec.interruptible, context=call.ctx)
