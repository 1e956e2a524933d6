"""The default runtime: started on first use, replaced when settings change, shut at exit."""

from __future__ import annotations

import atexit
import os
import threading

from jido._runtime.runtime import Runtime

__all__ = ["default_runtime", "retire_default", "shutdown"]


_default: Runtime | None = None
_default_lock = threading.Lock()


def default_runtime() -> Runtime:
    """The process-wide runtime used by ``jido.run`` and friends (started on first use).

    It is shut down at interpreter exit, or earlier by :func:`shutdown`; the next run then
    starts a new one.

    Example:
        >>> import jido
        >>> jido.default_runtime() is jido.default_runtime()
        True
    """
    global _default
    runtime = _default
    if runtime is not None and not runtime._closed:
        return runtime
    with _default_lock:
        if _default is None or _default._closed:
            _default = Runtime(name="jido")
        return _default


def shutdown(*, cancel: bool = True, timeout: float = 5.0) -> None:
    """Shut the default runtime down (a new one starts on the next run).

    Args:
        cancel: cancel running work (reason ``shutdown``) instead of letting it finish.
        timeout: how long to wait for running work before giving up on it.

    Example:
        >>> import jido
        >>> old = jido.default_runtime()
        >>> jido.shutdown()
        >>> jido.default_runtime() is old
        False
    """
    runtime = _default
    retired, _retired[:] = list(_retired), []
    for old in retired:
        old.shutdown(cancel=cancel, timeout=timeout)
    if runtime is not None:
        runtime.shutdown(cancel=cancel, timeout=timeout)


_retired: list[Runtime] = []


def retire_default() -> None:
    """Make the next use create a new default runtime (its settings changed)."""
    global _default
    with _default_lock:
        if _default is not None and not _default._closed:
            _retired.append(_default)
        _default = None


def _after_fork() -> None:
    global _default
    _default = None


atexit.register(shutdown)
os.register_at_fork(after_in_child=_after_fork)
