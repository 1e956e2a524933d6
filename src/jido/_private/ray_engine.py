"""The Ray engine: attempts as Ray tasks, with jido's deadlines, retries and stops.

Ray has no per-task time limit and its soft cancel cannot interrupt a blocking call, so
jido keeps the deadline in the driver and escalates: ``ray.cancel(ref)``, then, once the
runtime's ``stop_timeout`` has passed, ``ray.cancel(ref, force=True)`` (the worker process
is killed; Ray starts another). In the worker, the attempt runs on the main thread and
Ray's soft cancel becomes jido's own stop, as in-process: the attempt's token is
cancelled, then ``jido.Interrupted`` is raised in the action (see ``_attempt_task``).
Validation happens before dispatch; retries follow jido's policy (Ray's own retries are
off; a crashed worker surfaces as a retryable ``execution_error``).
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import ray
from ray import exceptions as ray_errors

from jido._private import remote
from jido._private.action import spec_of
from jido._private.cancel import CancelReason
from jido._private.context import RunContext
from jido._private.errors import ConfigError, ExecutionError
from jido._private.remote import Payload, make_payload, serve, unsendable
from jido._private.runs import Call
from jido._private.threads import Outcome, Stopped, ThreadJob, ThreadPool, deliver
from jido._private.timers import Timers

__all__ = ["RayEngine"]

log = logging.getLogger("jido")

_DIED = (
    ray_errors.WorkerCrashedError,
    ray_errors.NodeDiedError,
    ray_errors.ObjectLostError,
    ray_errors.OutOfMemoryError,
    ray_errors.LocalRayletDiedError,
)
"""Ray errors meaning the process running the attempt went away."""

_CLOCK_SLACK = 0.05
"""A stop this close to the attempt's deadline is taken for its timeout."""


# -- the driver side ------------------------------------------------------------------------------
class RayJob:
    """One attempt running as a Ray task; the handle that stops it.

    The soft stop (``interrupt``) is ``ray.cancel(ref)``; the hard one
    ``ray.cancel(ref, force=True)``, which kills the worker process. Ray's soft cancel
    takes a few milliseconds to reach the worker, where the action then gets its token
    and a short grace, so the force-kill is never sent before the runtime's
    ``stop_timeout`` has passed since the soft stop, however early the driver asks: a
    killed worker runs no ``finally`` block and Ray must start a new one.
    """

    __slots__ = (
        "_deadline",
        "_early",
        "_forced",
        "_forcing",
        "_interrupted_at",
        "_kill_after",
        "_lock",
        "_on_done",
        "_ref",
        "_settled",
        "_timers",
    )

    def __init__(
        self,
        ref: Any,
        on_done: Callable[[Outcome], None],
        timers: Timers,
        kill_after: float,
        deadline: float | None,
    ) -> None:
        self._ref = ref
        self._deadline = deadline
        self._early: Outcome | None = None
        self._on_done = on_done
        self._timers = timers
        self._kill_after = kill_after
        self._interrupted_at: float | None = None
        self._forced = False
        self._forcing = False
        self._settled = False
        self._lock = threading.Lock()

    def interrupt(self) -> None:
        with self._lock:
            if self._interrupted_at is None:
                self._interrupted_at = time.monotonic()
            early, self._early = self._early, None
        if early is not None:
            self.finish(early)
        else:
            _cancel(self._ref, force=False)

    def kill(self) -> bool:
        now = time.monotonic()
        delay = (self._interrupted_at or now) + self._kill_after - now
        if delay > 0.001:
            self._timers.call_later(delay, self._force)
        else:
            self._force()
        return True

    def _force(self) -> None:
        with self._lock:
            if self._settled or self._forcing:
                return
            self._forcing = True
        self._forced = _cancel(self._ref, force=True)

    def abandon(self) -> bool:
        self._force()  # if it is still due
        if self._forced:
            # Ray kills the worker of a force-cancelled task: the work is stopped even if
            # Ray has not confirmed it yet (the confirmation is then ignored).
            self.finish((False, Stopped("killed")))
            return False
        with self._lock:
            return not self._settled

    def finish(self, outcome: Outcome) -> None:
        with self._lock:
            if self._settled:
                return
            self._settled = True
        deliver(self._on_done, outcome)

    def settle(self, value: Any) -> None:
        """Ray's callback: the task's return value, or the exception Ray stands in for it."""
        outcome = _outcome(value, self._forced)
        if self._interrupted_at is None and isinstance(outcome[1], Stopped):
            deadline = self._deadline
            if deadline is not None and time.monotonic() >= deadline - _CLOCK_SLACK:
                # the attempt's own deadline stopped it over there (an async action)
                # before the driver's timer fired here: deliver it with the driver's stop
                with self._lock:
                    if self._interrupted_at is None:
                        self._early = outcome
                        return
            else:  # a stop meant for the worker's previous task, landing as this one began
                outcome = (
                    False,
                    ExecutionError(
                        "the Ray worker stopped the attempt without being asked to",
                        details={"engine": "ray", "stop": outcome[1].mechanism},
                    ),
                )
        self.finish(outcome)


def _cancel(ref: Any, *, force: bool) -> bool:
    try:
        ray.cancel(ref, force=force)
    except Exception:  # already finished, or the cluster is going away
        log.debug("ray.cancel(force=%s) failed", force, exc_info=True)
        return False
    return True


class RayEngine:
    """Sends every attempt of a runtime to a Ray cluster."""

    name = "ray"
    observes_token = False

    def __init__(
        self,
        address: str | None,
        init_kwargs: Mapping[str, Any],
        task_options: Mapping[str, Any],
        connect_timeout: float = 10.0,
    ) -> None:
        self._owns_ray = False
        if ray.is_initialized():
            _check_same_cluster(address)
        else:
            _check_reachable(address, connect_timeout)
            try:
                ray.init(address=address, **{"log_to_driver": False, **init_kwargs})
            except Exception as exc:
                raise _connect_error(address, exc) from exc
            self._owns_ray = True
        self._references: dict[Any, Any] = {}
        options = {"max_retries": 0, "retry_exceptions": False, **task_options}
        try:
            self._task = ray.remote(**options)(_attempt_task)
        except Exception as exc:
            raise ConfigError(
                f"invalid Ray task_options: {exc}", details={"engine": "ray"}
            ) from exc

    def start(self, call: Call, rctx: RunContext, on_done: Callable[[Outcome], None]) -> RayJob:
        grace = call.runtime.stop_timeout / 5
        try:
            target, params, context, meta = make_payload(call, rctx)
            ref = self._task.remote(((self._reference(target), params, context, meta), grace))
        except (TypeError, ValueError, ray_errors.RaySystemError) as exc:
            raise unsendable(call, "the Ray engine", exc) from exc
        runtime = call.runtime
        job = RayJob(ref, on_done, runtime._timers, runtime.stop_timeout, rctx.deadline)
        _on_completed(ref, job.settle)
        return job

    def _reference(self, target: Any) -> Any:
        """``"module:qualname"`` when that names ``target``, else ``target`` itself.

        A string travels in Ray's fast (msgpack) path; an object makes Ray pickle the
        whole payload. Targets Python cannot import by name (in ``__main__``, in a
        function) travel as objects, by value.
        """
        try:
            return self._references[target]
        except KeyError:
            pass
        except TypeError:  # unhashable: send it as it is
            return target
        reference: Any = target
        module = getattr(target, "__module__", None)
        qualname = getattr(target, "__qualname__", None)
        if module and qualname and module != "__main__" and "<locals>" not in qualname:
            try:
                if _resolve(f"{module}:{qualname}") is target:
                    reference = f"{module}:{qualname}"
            except Exception:  # not importable by that name: by value
                pass
        if len(self._references) > 1024:
            self._references.clear()
        self._references[target] = reference
        return reference

    def close(self) -> None:
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()


def _on_completed(ref: Any, callback: Callable[[Any], None]) -> None:
    """Call ``callback(value)`` once the task is done (from a Ray thread).

    ``ObjectRef._on_completed`` is what ``ObjectRef.future()`` is built on, without the
    Future: a Ray error arrives as the value.
    """
    register = getattr(ref, "_on_completed", None)
    if register is not None:
        register(callback)
        return
    future: concurrent.futures.Future[Any] = ref.future()
    future.add_done_callback(lambda done: callback(_value_of(done)))


def _value_of(future: concurrent.futures.Future[Any]) -> Any:
    try:
        return future.result()
    except BaseException as exc:
        return exc


def _outcome(value: Any, forced: bool) -> Outcome:
    """The attempt's outcome from what Ray delivered for the task."""
    if type(value) is dict:  # a result travels alone (see _attempt_task)
        return (True, value)
    if not isinstance(value, BaseException):
        return value  # type: ignore[no-any-return]
    stopped = Stopped("killed" if forced else "interrupted")
    if isinstance(value, ray_errors.TaskCancelledError | concurrent.futures.CancelledError):
        return (False, stopped)
    if isinstance(value, ray_errors.RayTaskError):
        # the task function never raises: this is Ray failing around it
        cause = value.cause
        if isinstance(cause, ray_errors.TaskCancelledError | KeyboardInterrupt):
            return (False, stopped)
        if isinstance(cause, _DIED):
            return (False, stopped) if forced else (False, _died(cause))
        return (False, _task_failed(cause if isinstance(cause, BaseException) else value))
    if isinstance(value, _DIED):
        return (False, stopped) if forced else (False, _died(value))
    return (
        False,
        ExecutionError(
            f"the Ray engine failed: {type(value).__name__}: {_first_line(value)}",
            details={"engine": "ray", "exception": type(value).__name__},
        ),
    )


def _died(exc: BaseException) -> ExecutionError:
    return ExecutionError(
        f"the Ray worker running the action died: {type(exc).__name__}",
        details={"engine": "ray", "exception": type(exc).__name__, "stopped": True},
    )


def _task_failed(exc: BaseException) -> ExecutionError:
    """Ray could not run the task function, or could not send its outcome back."""
    if isinstance(exc, ray_errors.RaySystemError):  # the payload could not be loaded there
        message = (
            f"the Ray worker could not load the action or its params: {_first_line(exc)} "
            "(the action's module must be importable on every node, with the same jido and "
            "Ray versions)"
        )
    else:  # the outcome could not be serialized there
        message = (
            "the action's result or error could not be sent back from the Ray worker: "
            f"{type(exc).__name__}: {_first_line(exc)}"
        )
    return ExecutionError(
        message, details={"engine": "ray", "exception": type(exc).__name__}, retryable=False
    )


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _first_line(exc: BaseException) -> str:
    text = _ANSI.sub("", str(exc)).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


# -- connecting -----------------------------------------------------------------------------------
def _host_port(address: str) -> tuple[str, int] | None:
    """``host:port`` of an explicit address (``ray://`` included); None for ``auto`` etc."""
    bare = address.removeprefix("ray://")
    host, sep, port = bare.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def _check_reachable(address: str | None, timeout: float) -> None:
    """Fail fast on an unreachable address (Ray itself retries for minutes)."""
    where = _host_port(address) if address else None
    if where is None:
        return
    try:
        socket.create_connection(where, timeout=timeout).close()
    except OSError as exc:
        raise ConfigError(
            f"could not connect to Ray at {address}: nothing answers at {where[0]}:{where[1]} "
            f"({type(exc).__name__}: {exc}); start the cluster with `ray start --head` or "
            "check the address",
            details={"engine": "ray", "address": address},
        ) from exc


def _check_same_cluster(address: str | None) -> None:
    """Ray connects a process to one cluster: refuse an explicit address of another one."""
    wanted = _host_port(address) if address else None
    if wanted is None or (address or "").startswith("ray://"):
        return
    try:
        current = str(ray.get_runtime_context().gcs_address)
    except Exception:  # client mode, or an old Ray: nothing to compare with
        return
    have = _host_port(current)
    if have is None or (have[1] == wanted[1] and _same_host(have[0], wanted[0])):
        return
    raise ConfigError(
        f"this process is already connected to the Ray cluster at {current}, not {address}: "
        "a process can join one Ray cluster (call ray.shutdown() first)",
        details={"engine": "ray", "address": address, "connected": current},
    )


def _same_host(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        ip_a, ip_b = socket.gethostbyname(a), socket.gethostbyname(b)
    except OSError:
        return False
    return ip_a == ip_b or (_is_local(ip_a) and _is_local(ip_b))


def _is_local(ip: str) -> bool:
    """True for an address of this machine (one a socket can be bound to)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((ip, 0))
    except OSError:
        return False
    return True


def _connect_error(address: str | None, exc: Exception) -> ConfigError:
    where = address or "a new local cluster"
    hint = ""
    if "auth" in f"{type(exc).__name__} {exc}".lower():
        hint = (
            " (Ray token authentication: copy ~/.ray/auth_token from the head node, or set "
            "RAY_AUTH_TOKEN with RAY_AUTH_MODE=token)"
        )
    return ConfigError(
        f"could not connect to Ray at {where}: {type(exc).__name__}: {_first_line(exc)}{hint}",
        details={"engine": "ray", "address": address},
    )


# -- the worker side (runs in a Ray worker process) -----------------------------------------------


def _attempt_task(job: tuple[Payload, float]) -> Any:
    """Run one attempt in this Ray worker; never raises (the outcome carries the error).

    A result (always a dict) comes back alone, a failure as the ``(False, error)``
    outcome. Ray's soft cancel (``ray.cancel(ref)``) calls ``_thread.interrupt_main()`` in the
    worker, which would raise ``KeyboardInterrupt`` at whatever bytecode the worker's main
    thread runs next, and would not wake a blocked wait. While the attempt runs here (on
    the main thread), SIGINT has a handler that does nothing, and the signal's wake-up byte
    goes to a watcher thread, which turns it into jido's stop, as in-process: the attempt's
    token is cancelled (``jido.current().check()``/``.sleep()`` and async actions stop at
    once, ``finally`` blocks run), then after ``grace`` ``jido.Interrupted`` is raised in
    the action at its next bytecode (never in an ``interruptible = False`` action). A call
    blocked in C stops neither way: the driver then force-kills this worker.
    """
    payload, grace = job
    attempt = _WorkerAttempt(payload, grace)
    if threading.current_thread() is not threading.main_thread():  # not how Ray runs tasks
        return _shipped(attempt.run())
    watcher = _Watcher.get()
    previous = signal.signal(signal.SIGINT, _ignore)
    wakeup = signal.set_wakeup_fd(watcher.fd, warn_on_full_buffer=False)
    watcher.current = attempt
    try:
        outcome = attempt.run()
        if not attempt.stopping and attempt.stopped_itself():
            # its own deadline stopped it (an async action): the driver's stop for the
            # same deadline is on its way; take it here, not in Ray's code
            end = time.monotonic() + 4 * grace
            while not attempt.cancel_seen and time.monotonic() < end:
                time.sleep(0.002)
    finally:
        watcher.current = None
        signal.set_wakeup_fd(wakeup)
        signal.signal(signal.SIGINT, previous)
    return _shipped(outcome)


def _shipped(outcome: Outcome) -> Any:
    ok, value = outcome
    return value if ok and type(value) is dict else outcome


_targets: dict[str, Any] = {}


def _resolve(reference: str) -> Any:
    """The object ``"module:qualname"`` names (cached)."""
    target = _targets.get(reference)
    if target is None:
        target = _targets[reference] = remote.resolve(reference)
    return target


def _not_loaded(exc: Exception) -> ExecutionError:
    return ExecutionError(
        f"the Ray worker could not load the action: {type(exc).__name__}: {exc} (the "
        "action's module must be importable on every node, with the same jido and Ray "
        "versions)",
        details={"engine": "ray", "exception": type(exc).__name__},
        retryable=False,
    )


def _ignore(signum: int, frame: object) -> None:
    """SIGINT while an attempt runs: the watcher thread does the work."""


class _Watcher:
    """One thread per worker process that sees Ray's soft cancel and stops the attempt."""

    _instance: _Watcher | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._read, self._write = socket.socketpair()
        self._write.setblocking(False)
        self.fd = self._write.fileno()
        self.current: _WorkerAttempt | None = None
        threading.Thread(target=self._watch, name="jido-ray-stop", daemon=True).start()

    @classmethod
    def get(cls) -> _Watcher:
        with cls._lock:
            if cls._instance is None:
                cls._instance = _Watcher()
            return cls._instance

    def _watch(self) -> None:
        while True:
            try:
                data = self._read.recv(64)
            except OSError:  # pragma: no cover - the process is going away
                return
            if not data:  # pragma: no cover
                return
            attempt = self.current
            if attempt is not None and signal.SIGINT in data:
                attempt.stop()


_pool = ThreadPool("jido-ray", 1)
"""Never started: the attempt's job runs in the worker's main thread (see _attempt_task)."""


class _WorkerAttempt:
    """One attempt in this worker: the job that runs it, and how to stop it."""

    __slots__ = ("_deadline", "_grace", "_job", "cancel_seen", "outcome", "stopping")

    def __init__(self, payload: Payload, grace: float) -> None:
        target, params, context, meta = payload
        remaining = meta[3]
        self._deadline = None if remaining is None else time.monotonic() + remaining
        self._grace = grace
        self.outcome: Outcome = (False, Stopped("interrupted"))
        self.stopping = False
        self.cancel_seen = False
        self._job: ThreadJob | None = None
        try:
            if isinstance(target, str):  # sent by import path (see RayEngine._reference)
                target = _resolve(target)
            interruptible = spec_of(target).interruptible
        except Exception as exc:  # the action cannot be loaded here
            self.outcome = (False, _not_loaded(exc))
            return
        job = functools.partial(serve, (target, params, context, meta))
        self._job = ThreadJob(_pool, job, self._finish, interruptible, None)

    def run(self) -> Outcome:
        """Run the attempt in this thread (interrupts raised into it stay inside the job)."""
        if self._job is not None:
            self._job._run(threading.get_ident())
        return self.outcome

    def _finish(self, outcome: Outcome) -> None:
        ok, value = outcome
        # (True, serve's outcome), or (False, Stopped) for an interrupt that landed around it
        self.outcome = value if ok else (False, value)

    def stopped_itself(self) -> bool:
        ok, value = self.outcome
        return not ok and isinstance(value, Stopped)

    def stop(self) -> None:
        """On the watcher thread: the token first, then (after the grace) an interrupt."""
        self.cancel_seen = True
        if self.stopping or self._job is None:
            return
        self.stopping = True
        token = remote.ACTIVE
        if token is not None:
            token.cancel(self._reason())
            time.sleep(self._grace)
            if token.observed:
                return
        self._job.interrupt()  # a no-op once the job is done, or for interruptible=False

    def _reason(self) -> CancelReason:
        deadline = self._deadline
        if deadline is not None and time.monotonic() >= deadline - _CLOCK_SLACK:
            return CancelReason.TIMEOUT
        return CancelReason.CALLER
