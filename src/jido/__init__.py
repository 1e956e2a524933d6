"""jido: typed actions, validated, timed out, retried, cancelled and observed.

Define an action (an :class:`Action` subclass or a ``@jido.action`` function) and run it
with :func:`run`, :func:`arun` or :func:`run_async`.
"""

# the sub-namespaces, reachable as jido.workflow, jido.telemetry... after `import jido`
from jido import engines as engines
from jido import telemetry as telemetry
from jido import testing as testing
from jido import tools as tools
from jido import workflow as workflow
from jido._action.action import Action
from jido._action.function import FunctionAction, action
from jido._core.cancel import CancelReason, Interrupted
from jido._core.context import RunContext, current
from jido._core.errors import (
    CancelledError,
    CompensationError,
    ConfigError,
    ExecutionError,
    InternalError,
    InvalidActionError,
    InvalidAsyncRefError,
    JidoError,
    RemoteError,
    TimeoutError,
    ValidationError,
)
from jido._core.options import RetryPolicy, RunOptions
from jido._core.version import VERSION
from jido._durable.info import RunInfo, RunPage, StepInfo
from jido._run.ref import AsyncRef
from jido._runtime.api import arun, await_, cancel, run, run_async
from jido._runtime.config import configure
from jido._runtime.default import default_runtime, shutdown
from jido._runtime.runtime import Runtime
from jido._workflow import resume as _resume  # noqa: F401 (durable chains and plans resume)
from jido._workflow.chain import chain
from jido._workflow.instruction import Instruction
from jido._workflow.plan import Plan

__version__ = VERSION

__all__ = [
    "Action",
    "AsyncRef",
    "CancelReason",
    "CancelledError",
    "CompensationError",
    "ConfigError",
    "ExecutionError",
    "FunctionAction",
    "Instruction",
    "InternalError",
    "Interrupted",
    "InvalidActionError",
    "InvalidAsyncRefError",
    "JidoError",
    "Plan",
    "RemoteError",
    "RetryPolicy",
    "RunContext",
    "RunInfo",
    "RunOptions",
    "RunPage",
    "Runtime",
    "StepInfo",
    "TimeoutError",
    "ValidationError",
    "action",
    "arun",
    "await_",
    "cancel",
    "chain",
    "configure",
    "current",
    "default_runtime",
    "run",
    "run_async",
    "shutdown",
]
