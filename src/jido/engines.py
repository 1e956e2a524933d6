"""Where attempts run.

By default a :class:`jido.Runtime` runs them in-process (the caller's thread, worker
threads, the event loop) or in local child processes (``isolation="process"``). A
cluster engine sends every attempt of a runtime to a cluster instead, with the same
contract: validation before dispatch, deadlines enforced and work stopped, the same
retries, errors and telemetry.

Example:
    >>> import jido
    >>> rt = jido.Runtime(engine=jido.engines.Ray(address="auto"))   # doctest: +SKIP
    >>> rt.run(my_action, {"x": 1}, timeout=5.0)                      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jido._core.errors import ConfigError, ValidationError
from jido._core.normalize import normalize_context
from jido._core.options import check_seconds
from jido._core.safe import describe, type_name

__all__ = ["Ray"]


class Ray:
    """Run attempts as Ray tasks (``pip install "jido[ray]"``).

    Args:
        address: the cluster to join (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``);
            None starts a local Ray instance (or uses the one already initialized).
        init: extra keyword arguments for ``ray.init`` (``num_cpus``, ``runtime_env``...).
        task_options: extra options for the Ray task (``num_cpus``, ``resources``...).
        connect_timeout: seconds to wait for an explicit ``host:port`` address to answer
            before giving up (Ray itself would retry for minutes).

    The connection is made when the runtime is created; an unreachable cluster raises
    ``jido.ConfigError`` there. Ray connects a process to one cluster: when Ray is already
    initialized in this process, that connection is used (an explicit address of another
    cluster is a ``jido.ConfigError``) and ``init`` is ignored.

    Example:
        >>> import jido, jido.engines
        >>> engine = jido.engines.Ray(address="auto", task_options={"num_cpus": 1})
        >>> engine                                  # nothing is connected yet
        jido.engines.Ray(address='auto')
        >>> rt = jido.Runtime(engine=engine)        # doctest: +SKIP
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        init: Mapping[str, Any] | None = None,
        task_options: Mapping[str, Any] | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        if address is not None and not isinstance(address, str):
            raise ConfigError(f"address must be a string or None, got {describe(address)}")
        seconds = check_seconds("connect_timeout", connect_timeout, allow_none=False)
        if not seconds or seconds > 3600:
            raise ConfigError(
                f"connect_timeout must be in (0, 3600] seconds, got {describe(connect_timeout)}"
            )
        self.address = None if address is None else str.__str__(address)
        self.init = _options("init", init)
        self.task_options = _options("task_options", task_options)
        self.connect_timeout = seconds

    def __repr__(self) -> str:
        return f"jido.engines.Ray(address={self.address!r})"

    def _open(self) -> Any:
        try:
            from jido._engines.ray.driver import RayEngine
        except ImportError as exc:
            raise ConfigError('the Ray engine needs Ray: pip install "jido[ray]"') from exc
        return RayEngine(self.address, self.init, self.task_options, self.connect_timeout)


def _options(name: str, value: object) -> dict[str, Any]:
    """Keyword arguments passed on to Ray: a mapping with string keys, or None."""
    if value is None:
        return {}
    try:
        out = normalize_context(value) if isinstance(value, Mapping) else None
    except ValidationError:
        out = None
    if out is None or not all(type(key) is str for key in out):
        raise ConfigError(f"{name} must be a mapping of keyword arguments, got {type_name(value)}")
    return out
