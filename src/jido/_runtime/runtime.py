"""The runtime: owns the workers (threads, an event loop, child processes, timers).

Like the seed's ``Task.Supervisor``: a default runtime is started lazily and shut down
at interpreter exit; ``jido.Runtime(...)`` instances give isolated pools and limits.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Unpack

from jido._action.action import ActionSpec, spec_of
from jido._core.cancel import CancelReason, Token
from jido._core.clock import deadline_after
from jido._core.context import _CURRENT
from jido._core.errors import ConfigError, JidoError, TimeoutError
from jido._core.normalize import normalize_context
from jido._core.options import UNSET, RunOptions, RuntimeSettings, cache_key
from jido._core.safe import describe, type_name
from jido._engines.remote import check_importable
from jido._engines.threads import ThreadEngine, ThreadPool
from jido._observe.telemetry import tracker_for
from jido._run.aio import AsyncRun, LoopThread
from jido._run.call import Call
from jido._run.driver import EngineRun
from jido._run.engine import Engine
from jido._run.inline import run_inline
from jido._run.ref import AsyncRef, cancel_all, wait_all, wait_for
from jido._run.supervise import Supervisor
from jido._run.timers import Timers
from jido._runtime.config import SETTINGS, RunKwargs, new_run_id
from jido._runtime.durable import check_context, check_run_id, open_durable, provided_context

if TYPE_CHECKING:
    from jido._durable.runs import Runs

__all__ = ["Runtime"]


class Runtime:
    """Owns the workers that runs execute on; runs started on it use its pools and limits.

    Args:
        name: a label for its threads.
        max_threads: worker threads for sync actions with a timeout (default 64).
        max_processes: child processes for ``isolation="process"`` (default: CPU count).
        stop_timeout: seconds a stopped attempt gets to confirm before jido escalates
            (kills a process) or gives up on it (abandons a thread).
        start_method: multiprocessing start method for child processes
            (default ``"forkserver"`` where available, else ``"spawn"``).
        defaults: run options for every run on this runtime (over ``jido.configure``).
        engine: a cluster engine (``jido.engines.Ray(...)``) that runs every attempt.
        store: where durable runs are journaled: ``"sqlite:///path/runs.db"`` or
            ``"postgresql://user@host/db"``; unset: ``jido.configure(store=...)``, then
            the ``JIDO_STORE`` environment variable; ``None``: no store (runs live in
            memory only).
        durability: ``"process"`` (a run survives a crash of its process) or ``"power"``
            (it survives a power loss: an fsync per checkpoint).
        lease: seconds after which a durable run whose process stopped renewing it is
            orphaned (and recoverable by another process).
        recover: resume the store's orphaned runs when the runtime starts.
        context: values added to every run's context (a mapping, or a function returning
            one, called per run): how durable runs get live objects (a database session,
            a client) in every process, resumed runs included.

    Example:
        >>> import jido
        >>> @jido.action
        ... def ping() -> dict:
        ...     return {"pong": True}
        >>> with jido.Runtime(max_threads=4) as rt:
        ...     rt.run(ping)
        {'pong': True}
    """

    def __init__(
        self,
        *,
        name: str = "jido",
        max_threads: int = 64,
        max_processes: int | None = None,
        stop_timeout: float = 0.1,
        start_method: str | None = None,
        defaults: Mapping[str, Any] | None = None,
        engine: Any = None,
        store: str | None = UNSET,
        durability: str = "process",
        lease: float = 10.0,
        recover: bool = False,
        context: Mapping[Any, Any] | Callable[[], Mapping[Any, Any]] | None = None,
    ) -> None:
        settings = RuntimeSettings(
            name=name,
            max_threads=max_threads,
            max_processes=max_processes,
            stop_timeout=stop_timeout,
            start_method=start_method,
            defaults=defaults,
        )
        self.name = settings.name
        self.stop_timeout = settings.stop_timeout
        self._defaults = dict(settings.defaults or {})
        self._max_processes = settings.max_processes or os.cpu_count() or 2
        self._start_method = settings.start_method
        self._supervisor = Supervisor(settings.name)
        self._pool = ThreadPool(settings.name, settings.max_threads, self._supervisor)
        self._thread_engine: Engine = ThreadEngine(self._pool)
        self._timers = Timers(settings.name, self._supervisor)
        self._lock = threading.Lock()
        self._loop_thread: LoopThread | None = None
        self._processes: Any = None
        self._active: set[AsyncRef] = set()
        self._closed = False
        self._base: RunOptions = RunOptions()
        self._base_version = -1
        self._merged: dict[Any, RunOptions] = {}
        self._remote: Any = None
        self._context = check_context(context)
        if engine is not None:
            self._remote = _open_engine(engine)
        self._durable: Any = open_durable(self, store, durability, lease)
        if recover:
            self.recover()

    def __repr__(self) -> str:
        return f"<jido.Runtime {self.name!r}{' closed' if self._closed else ''}>"

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.shutdown)

    # -- running ---------------------------------------------------------------------------------
    def run(
        self,
        action: object,
        /,
        params: object = None,
        context: object = None,
        *,
        run_id: str | None = None,
        **options: Unpack[RunKwargs],
    ) -> dict[str, Any]:
        """Run ``action`` and return its result; see :func:`jido.run`."""
        if self._durable is not None:
            return wait_for(self._durable.start_action(action, params, context, run_id, options))
        spec, opts = self._resolve(action, options)
        return self._run_resolved(spec, opts, params, context, run_id)

    def _run_resolved(
        self,
        spec: ActionSpec,
        opts: RunOptions,
        params: object,
        context: object,
        run_id: str | None = None,
        key: str | None = None,
        linked: Token | None = None,
    ) -> dict[str, Any]:
        """Run a resolved action from this thread: in it when sync with no time limit, else
        on its engine or loop, waited for. ``key``: its attempts' idempotency key; ``linked``:
        the token of a run in this thread (see :func:`~jido._run.inline.run_inline`)."""
        mode = self._mode(spec, opts)
        if mode == "thread" and opts.timeout is None and not opts.retry.total_timeout:
            mode = "inline"
        call = self._prepare(spec, opts, params, context, mode, run_id)
        if key is not None:
            call.key = key
        if mode == "inline":
            return run_inline(call, linked)
        if mode == "async":
            return wait_for(self._start_on_loop(call))
        return wait_for(self._start_engine(call))

    async def arun(
        self,
        action: object,
        /,
        params: object = None,
        context: object = None,
        *,
        run_id: str | None = None,
        **options: Unpack[RunKwargs],
    ) -> dict[str, Any]:
        """Run ``action`` inside asyncio, on the caller's loop; see :func:`jido.arun`."""
        if self._durable is not None:
            return await self._durable.start_action(action, params, context, run_id, options)  # type: ignore[no-any-return]
        spec, opts = self._resolve(action, options)
        mode = self._mode(spec, opts)
        call = self._prepare(spec, opts, params, context, mode, run_id)
        if mode == "async":
            return await AsyncRun(call).drive()
        if mode == "process" and self._processes is None:
            await asyncio.to_thread(self._process_engine)  # its first set-up, off the loop
        return await self._start_engine(call)

    def run_async(
        self,
        action: object,
        /,
        params: object = None,
        context: object = None,
        *,
        run_id: str | None = None,
        **options: Unpack[RunKwargs],
    ) -> AsyncRef:
        """Start ``action`` and return its handle at once; see :func:`jido.run_async`."""
        if self._durable is not None:
            return self._durable.start_action(action, params, context, run_id, options)  # type: ignore[no-any-return]
        return self._start(action, params, context, run_id, options)

    def _start(
        self,
        action: object,
        params: object,
        context: object,
        run_id: str | None,
        options: Mapping[str, Any],
        step: Callable[[Call], None] | None = None,
    ) -> AsyncRef:
        """Start a run that is not journaled itself (``step`` may make it a composite's step)."""
        try:
            spec, opts = self._resolve(action, options)
            mode = self._mode(spec, opts)
            call = self._prepare(spec, opts, params, context, mode, run_id)
            if step is not None:
                step(call)
        except JidoError as exc:
            named = run_id if isinstance(run_id, str) and run_id else new_run_id()
            ref = AsyncRef(_name_of(action), named, self._grace())
            ref._set_error(exc)
            return ref
        return self._start_call(call, mode)

    def _start_call(self, call: Call, mode: str) -> AsyncRef:
        """Hand a prepared call to its driver: the event loop, or an engine."""
        if mode == "async":
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return self._start_on_loop(call)
            return self._start_here(call)
        return self._start_engine(call)

    # -- lifecycle -------------------------------------------------------------------------------
    def shutdown(self, *, cancel: bool = True, timeout: float = 5.0) -> None:
        """Stop accepting runs, stop what is running, and release every worker.

        Args:
            cancel: cancel running work (reason ``shutdown``) instead of letting it finish.
            timeout: how long to wait for running work before giving up on it.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        refs = list(self._active)
        if cancel:
            cancel_all(refs)
        wait_all(refs, deadline_after(time.monotonic(), timeout))
        left = [ref for ref in refs if not ref.done()]
        if left:  # stop what would not finish, and never leave a waiter hanging
            cancel_all(left)
            wait_all(left, time.monotonic() + self._grace())
            for ref in left:
                ref._give_up(CancelReason.SHUTDOWN)
        if self._durable is not None:
            self._durable.close()
        if self._processes is not None:
            self._processes.close()
        if self._remote is not None:
            self._remote.close()
        if self._loop_thread is not None:
            self._loop_thread.close(min(timeout, 1.0))
        self._pool.close()
        self._timers.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def runs(self) -> Runs:
        """The durable runs in this runtime's store: get, list, wait, cancel, resume, prune.

        Raises:
            jido.ConfigError: the runtime has no store.
        """
        if self._durable is None:
            raise ConfigError(
                f"runtime {self.name!r} has no store: create it with jido.Runtime(store=...)"
            )
        from jido._durable.runs import Runs

        return Runs(self._durable)

    def recover(self) -> list[AsyncRef]:
        """Resume every run of the store whose owner's lease expired; their handles.

        Each orphaned run is resumed by exactly one process, even when several recover at
        once. Completed steps are not run again.

        Raises:
            jido.ConfigError: the runtime has no store.
        """
        return self.runs._durable.recover()

    def stats(self) -> dict[str, Any]:
        """Live counts: worker threads (``threads``, ``idle``, ``abandoned``), attempts
        waiting for a free worker (``queued``), runs in flight, child processes, and how
        many times one of the runtime's own threads died and was restarted (``restarts``)."""
        stats: dict[str, Any] = dict(self._pool.stats())
        stats["in_flight"] = len(self._active)
        stats["processes"] = self._processes.size() if self._processes is not None else 0
        stats["restarts"] = self._supervisor.restarts
        return stats

    # -- internals -------------------------------------------------------------------------------
    def _options(self, overrides: Mapping[str, Any]) -> RunOptions:
        if self._base_version != SETTINGS.version:
            version, config = SETTINGS.snapshot()
            self._base = RunOptions().merge(config).merge(self._defaults)
            self._merged = {}
            self._base_version = version
        if not overrides:
            return self._base
        key = cache_key(overrides)
        if key is None:  # a value that is not plain (unhashable, a predicate...): no caching
            return self._base.merge(overrides)
        cached = self._merged.get(key)
        if cached is None:
            if len(self._merged) > 256:
                self._merged = {}
            cached = self._merged[key] = self._base.merge(overrides)
        return cached

    def _mode(self, spec: ActionSpec, opts: RunOptions) -> str:
        """Where the attempts run: ``async``, ``thread``, ``process`` or a cluster engine.

        Without an explicit ``isolation`` a runtime with a cluster engine sends everything
        there; ``isolation="thread"``/``"process"`` always means this machine.
        """
        if opts.isolation is None and self._remote is not None:
            return str(self._remote.name)
        if opts.isolation == "process":
            return "process"
        return "async" if spec.is_async else "thread"

    def _resolve(self, action: object, options: Mapping[str, Any]) -> tuple[ActionSpec, RunOptions]:
        if self._closed:
            raise ConfigError(f"runtime {self.name!r} is shut down")
        spec = spec_of(action)
        if not options and self._base_version == SETTINGS.version:
            return spec, self._base
        return spec, self._options(options)

    def _prepare(
        self,
        spec: ActionSpec,
        opts: RunOptions,
        params: object,
        context: object,
        mode: str,
        run_id: str | None = None,
        recovered: bool = False,
    ) -> Call:
        """Normalize and validate (before any attempt); report the start of the run."""
        run_id = new_run_id() if run_id is None else check_run_id(run_id)
        tracker = tracker_for(spec, run_id, opts, mode)
        if tracker is not None and recovered:
            tracker.recovered = True
        try:
            if mode == "process":
                check_importable(spec, "isolation='process'")
            instance = spec.make_instance()
            checked = spec.check_params(instance, params)
            values = context.copy() if type(context) is dict else normalize_context(context)
            if self._context is not None:
                values = {**provided_context(self._context), **values}
            parent = _CURRENT.get()
            deadline = None
            if opts.retry.total_timeout or (parent is not None and parent.deadline is not None):
                deadline = _run_deadline(opts, parent, spec.name)
        except JidoError as exc:
            exc.details.setdefault("attempts", 0)  # the run never started
            if tracker is not None:
                tracker.run_start(_as_mapping(params), _as_mapping(context))
                tracker.run_stop(None, exc, 0)
            raise
        if tracker is not None:
            tracker.run_start(checked, values)
        return Call(self, spec, instance, checked, values, opts, run_id, deadline, parent, tracker)

    def _grace(self) -> float:
        return 2 * self.stop_timeout + 0.5

    def _track(self, call: Call, loop: asyncio.AbstractEventLoop | None) -> AsyncRef:
        ref = AsyncRef(call.spec.name, call.run_id, self._grace())
        self._active.add(ref)
        ref._loop = loop
        return ref

    def _start_engine(self, call: Call) -> AsyncRef:
        engine = self._engine(call)
        ref = self._track(call, None)
        run = EngineRun(call, engine, ref)
        ref._bind(run, None)
        ref.add_done_callback(self._active.discard)
        run.start()
        return ref

    def _start_on_loop(self, call: Call) -> AsyncRef:
        loop = self._loop()
        run = AsyncRun(call)
        ref = run.bind(self._track(call, loop.loop), guarded=True)
        loop.spawn(run.drive, contextvars.copy_context())
        return ref

    def _start_here(self, call: Call) -> AsyncRef:
        run = AsyncRun(call)
        running = asyncio.get_running_loop()
        ref = run.bind(self._track(call, running), guarded=False)
        running.create_task(run.drive())  # noqa: RUF006 - kept alive by ref (in _active) -> run
        return ref

    def _engine(self, call: Call) -> Engine:
        if call.opts.isolation is None and self._remote is not None:
            return self._remote  # type: ignore[no-any-return]
        if call.opts.isolation == "process":
            return self._process_engine()
        return self._thread_engine

    def _process_engine(self) -> Engine:
        with self._lock:
            if self._processes is None:
                from jido._engines.processes import ProcessEngine

                self._processes = ProcessEngine(
                    self.name, self._max_processes, self._start_method, self.stop_timeout
                )
            return self._processes  # type: ignore[no-any-return]

    def _loop(self) -> LoopThread:
        with self._lock:
            if self._closed:
                raise ConfigError(f"runtime {self.name!r} is shut down")
            if self._loop_thread is None:
                self._loop_thread = LoopThread(self.name, self._supervisor)
            return self._loop_thread


def _run_deadline(opts: RunOptions, parent: Any, name: str) -> float | None:
    now = time.monotonic()
    total = opts.retry.total_timeout
    deadline = deadline_after(now, total) if total else None
    if parent is not None and parent.deadline is not None:
        if parent.deadline <= now:
            raise TimeoutError(
                f"Action '{name}' was not started: its deadline had already passed",
                details={"action": name, "stopped": True, "stop": "not_started"},
                retryable=False,
            )
        if deadline is None or parent.deadline < deadline:
            deadline = parent.deadline
    return deadline


def _as_mapping(value: object) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {"value": value}


def _name_of(action: object) -> str:
    try:
        name = action.name  # type: ignore[attr-defined]
    except Exception:  # anything at all may be passed as an action
        name = None
    return name if type(name) is str and name else type_name(action)


def _open_engine(engine: object) -> Any:
    try:
        opener = engine._open  # type: ignore[attr-defined]
    except Exception:
        opener = None
    if not callable(opener):
        raise ConfigError(f"engine must be a jido.engines engine, got {describe(engine)}")
    return opener()
