"""The Ray engine: attempts as Ray tasks, with jido's deadlines, retries and stops.

Ray has no per-task time limit and its soft cancel cannot interrupt a blocking call, so
jido keeps the deadline in the driver and escalates: ``ray.cancel(ref)`` (a
``KeyboardInterrupt`` in the task), then after ``stop_timeout`` ``ray.cancel(ref,
force=True)`` (the worker process is killed; Ray starts another). Validation happens
before dispatch; retries follow jido's policy (Ray's own retries are off, except that a
crashed worker surfaces as a retryable ``execution_error``).
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import ray
from ray import exceptions as ray_errors

from jido._private.context import RunContext
from jido._private.errors import ConfigError, ExecutionError
from jido._private.remote import make_payload, serve, unsendable
from jido._private.runs import Call
from jido._private.threads import Outcome, Stopped

__all__ = ["RayEngine"]

log = logging.getLogger("jido")


def _attempt_task(payload: Any) -> Outcome:
    return serve(payload)


class RayJob:
    """One attempt running as a Ray task."""

    __slots__ = ("_forced", "_ref")

    def __init__(self, ref: Any) -> None:
        self._ref = ref
        self._forced = False

    def interrupt(self) -> None:
        _cancel(self._ref, force=False)

    def kill(self) -> bool:
        self._forced = True
        _cancel(self._ref, force=True)
        return True

    def abandon(self) -> bool:
        return True


def _cancel(ref: Any, *, force: bool) -> None:
    try:
        ray.cancel(ref, force=force)
    except Exception:  # already finished, or the cluster is going away
        log.debug("ray.cancel(force=%s) failed", force, exc_info=True)


class RayEngine:
    """Sends every attempt of a runtime to a Ray cluster."""

    name = "ray"
    observes_token = False

    def __init__(
        self,
        address: str | None,
        init_kwargs: Mapping[str, Any],
        task_options: Mapping[str, Any],
    ) -> None:
        self._owns_ray = False
        self._lock = threading.Lock()
        if not ray.is_initialized():
            try:
                ray.init(address=address, **{"log_to_driver": False, **init_kwargs})
            except Exception as exc:
                where = address or "a new local cluster"
                raise ConfigError(
                    f"could not connect to Ray at {where}: {type(exc).__name__}: {exc}",
                    details={"engine": "ray", "address": address},
                ) from exc
            self._owns_ray = True
        options = {"max_retries": 0, "retry_exceptions": False, **task_options}
        self._task = ray.remote(**options)(_attempt_task)

    def start(self, call: Call, rctx: RunContext, on_done: Callable[[Outcome], None]) -> RayJob:
        try:
            ref = self._task.remote(make_payload(call, rctx))
        except (TypeError, ValueError, ray_errors.RaySystemError) as exc:
            raise unsendable(call, "the Ray engine", exc) from exc
        job = RayJob(ref)
        future: concurrent.futures.Future[Any] = ref.future()
        future.add_done_callback(lambda f: on_done(_outcome(f, job)))
        return job

    def close(self) -> None:
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()


def _outcome(future: concurrent.futures.Future[Any], job: RayJob) -> Outcome:
    try:
        value: Outcome = future.result()
    except (ray_errors.TaskCancelledError, concurrent.futures.CancelledError):
        return (False, Stopped("killed" if job._forced else "interrupted"))
    except ray_errors.RayTaskError as exc:
        if isinstance(exc.cause, ray_errors.TaskCancelledError) or "TaskCancelledError" in str(
            type(exc)
        ):
            return (False, Stopped("killed" if job._forced else "interrupted"))
        return (False, ExecutionError(f"the Ray task failed: {exc}", details={"engine": "ray"}))
    except (
        ray_errors.WorkerCrashedError,
        ray_errors.NodeDiedError,
        ray_errors.ObjectLostError,
    ) as exc:
        if job._forced:
            return (False, Stopped("killed"))
        return (
            False,
            ExecutionError(
                f"the Ray worker running the action died: {type(exc).__name__}",
                details={"engine": "ray", "exception": type(exc).__name__, "stopped": True},
            ),
        )
    except Exception as exc:
        return (
            False,
            ExecutionError(
                f"the Ray engine failed: {type(exc).__name__}: {exc}", details={"engine": "ray"}
            ),
        )
    return value
