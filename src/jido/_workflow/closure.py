"""Closures: an action with its context and run options bound, called later with params."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from jido._action.action import spec_of
from jido._core.normalize import normalize_context
from jido._core.safe import describe
from jido._run.ref import AsyncRef
from jido._runtime.config import RunKwargs
from jido._runtime.default import default_runtime
from jido._runtime.runtime import Runtime
from jido._workflow.composite import pick_runtime
from jido._workflow.instruction import check_options

__all__ = ["AsyncClosure", "Closure", "async_closure", "closure"]


class _Bound:
    """What both closure kinds hold; checked when the closure is created."""

    __slots__ = ("action", "context", "name", "opts", "runtime")

    def __init__(
        self,
        action: object,
        /,
        context: object = None,
        *,
        runtime: Runtime | None = None,
        **opts: Unpack[RunKwargs],
    ) -> None:
        self.name = spec_of(action).name
        self.action = action
        self.context: Mapping[Any, Any] = normalize_context(context)
        self.opts: Mapping[str, Any] = check_options(opts, f"{type(self).__name__} options")
        self.runtime = runtime if runtime is None else pick_runtime(runtime)

    def _rt(self) -> Runtime:
        return self.runtime if self.runtime is not None else default_runtime()

    def __repr__(self) -> str:
        opts = "".join(f", {k}={describe(v)}" for k, v in self.opts.items())
        return f"<{type(self).__name__} {self.name}{opts}>"


class Closure(_Bound):
    """An action with context and options bound; calling it runs the action.

    Created by :func:`closure`. ``closure(params)`` runs synchronously,
    ``await closure.arun(params)`` inside asyncio, ``closure.run_async(params)`` returns
    an :class:`~jido.AsyncRef`.
    """

    __slots__ = ()

    def __call__(self, params: object = None) -> dict[str, Any]:
        """Run the action with ``params`` and the bound context and options."""
        return self._rt().run(self.action, params, self.context, **self.opts)

    async def arun(self, params: object = None) -> dict[str, Any]:
        """Run the action inside asyncio, like :func:`jido.arun`."""
        return await self._rt().arun(self.action, params, self.context, **self.opts)

    def run_async(self, params: object = None) -> AsyncRef:
        """Start the action and return its handle, like :func:`jido.run_async`."""
        return self._rt().run_async(self.action, params, self.context, **self.opts)


class AsyncClosure(_Bound):
    """An action with context and options bound; calling it starts the action.

    Created by :func:`async_closure`. ``ref = c(params)`` returns an
    :class:`~jido.AsyncRef` at once: ``jido.await_(ref)``, or ``await c(params)``
    inside asyncio.
    """

    __slots__ = ()

    def __call__(self, params: object = None) -> AsyncRef:
        """Start the action with ``params`` and the bound context and options."""
        return self._rt().run_async(self.action, params, self.context, **self.opts)


def closure(
    action: object,
    /,
    context: object = None,
    *,
    runtime: Runtime | None = None,
    **opts: Unpack[RunKwargs],
) -> Closure:
    """Bind ``context`` and run options to ``action``; call the result with params.

    The action, the context and the options are checked now, not at the first call.

    Raises:
        jido.InvalidActionError: ``action`` is not an action.
        jido.ValidationError: ``context`` is not a mapping, pairs or None.
        jido.ConfigError: an unknown or invalid run option.

    Example:
        >>> import jido
        >>> from jido.workflow import closure
        >>> @jido.action
        ... def greet(name: str, context: dict) -> dict:
        ...     return {"greeting": f"{context['greeting']}, {name}"}
        >>> hello = closure(greet, {"greeting": "Hello"}, timeout=1.0)
        >>> hello({"name": "Ada"})
        {'greeting': 'Hello, Ada'}
    """
    return Closure(action, context, runtime=runtime, **opts)


def async_closure(
    action: object,
    /,
    context: object = None,
    *,
    runtime: Runtime | None = None,
    **opts: Unpack[RunKwargs],
) -> AsyncClosure:
    """Like :func:`closure`, but calling it starts the action and returns its AsyncRef.

    Example:
        >>> import jido
        >>> from jido.workflow import async_closure
        >>> @jido.action
        ... def square(x: int) -> dict:
        ...     return {"x": x * x}
        >>> start = async_closure(square, timeout=1.0)
        >>> refs = [start({"x": i}) for i in range(3)]
        >>> [jido.await_(ref)["x"] for ref in refs]
        [0, 1, 4]
    """
    return AsyncClosure(action, context, runtime=runtime, **opts)
