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
from jido._private.action import Action
from jido._private.api import arun, await_, cancel, run, run_async
from jido._private.cancel import CancelReason, Interrupted
from jido._private.chain import chain
from jido._private.context import RunContext, current
from jido._private.errors import (
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
from jido._private.function_action import FunctionAction, action
from jido._private.instruction import Instruction
from jido._private.options import RetryPolicy, RunOptions
from jido._private.plan import Plan
from jido._private.ref import AsyncRef
from jido._private.runtime import Runtime, configure, default_runtime, shutdown

__version__ = "0.1.0"

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
    "RunOptions",
    "Runtime",
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
