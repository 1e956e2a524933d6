"""The Ray engine: attempts as Ray tasks, with jido's deadlines, retries and stops.

Ray has no per-task time limit and its soft cancel cannot interrupt a blocking call, so
jido keeps the deadline in the driver and escalates: ``ray.cancel(ref)``, then, once the
runtime's ``stop_timeout`` has passed, ``ray.cancel(ref, force=True)`` (the worker process
is killed; Ray starts another). In the worker, the attempt runs on the main thread and
Ray's soft cancel becomes jido's own stop, as in-process: the attempt's token is
cancelled, then ``jido.Interrupted`` is raised in the action (see ``attempt_task``).
Validation happens before dispatch; retries follow jido's policy (Ray's own retries are
off; a crashed worker surfaces as a retryable ``execution_error``).
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import ray
from ray import exceptions as ray_errors

from jido._action.refs import reference_of
from jido._core.context import RunContext
from jido._core.errors import ConfigError, ExecutionError
from jido._engines.ray.connect import check_reachable, check_same_cluster, connect_error, first_line
from jido._engines.ray.worker import CLOCK_SLACK, attempt_task
from jido._engines.remote import make_payload, unsendable
from jido._run.call import Call
from jido._run.outcome import Outcome, Stopped, deliver
from jido._run.timers import Timers

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
            if deadline is not None and time.monotonic() >= deadline - CLOCK_SLACK:
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
            check_same_cluster(address)
        else:
            check_reachable(address, connect_timeout)
            try:
                ray.init(address=address, **{"log_to_driver": False, **init_kwargs})
            except Exception as exc:
                raise connect_error(address, exc) from exc
            self._owns_ray = True
        self._references: dict[Any, Any] = {}
        options = {"max_retries": 0, "retry_exceptions": False, **task_options}
        try:
            self._task = ray.remote(**options)(attempt_task)
        except Exception as exc:
            raise ConfigError(
                f"invalid Ray task_options: {exc}", details={"engine": "ray"}
            ) from exc

    def start(self, call: Call, rctx: RunContext, on_done: Callable[[Outcome], None]) -> RayJob:
        grace = call.runtime.stop_timeout / 5
        try:
            target, params, context, meta = make_payload(call, rctx)
            # lists, not tuples: Ray sends lists, dicts and scalars as msgpack and pickles
            # anything else (a tuple would make it pickle the whole job)
            args = [[self._reference(target), params, context, list(meta)], grace]
            ref = self._task.remote(args)
        except (TypeError, ValueError, ray_errors.RaySystemError) as exc:
            raise unsendable(call, "the Ray engine", exc) from exc
        runtime = call.runtime
        job = RayJob(ref, on_done, runtime._timers, runtime.stop_timeout, rctx.deadline)
        _on_completed(ref, job.settle)
        return job

    def _reference(self, target: Any) -> Any:
        """``"module:qualname"`` when that names ``target``, else ``target`` itself.

        A string travels in Ray's fast (msgpack) path; an object must be pickled (Ray
        does that for it alone, see ``start``). Targets Python cannot import by name (in
        ``__main__``, in a function) travel as objects, by value.
        """
        try:
            return self._references[target]
        except KeyError:
            pass
        except TypeError:  # unhashable: send it as it is
            return target
        reference: Any = reference_of(target) or target
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
    if type(value) is dict:  # a result travels alone (see attempt_task)
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
            f"the Ray engine failed: {type(value).__name__}: {first_line(value)}",
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
            f"the Ray worker could not load the action or its params: {first_line(exc)} "
            "(the action's module must be importable on every node, with the same jido and "
            "Ray versions)"
        )
    else:  # the outcome could not be serialized there
        message = (
            "the action's result or error could not be sent back from the Ray worker: "
            f"{type(exc).__name__}: {first_line(exc)}"
        )
    return ExecutionError(
        message, details={"engine": "ray", "exception": type(exc).__name__}, retryable=False
    )
