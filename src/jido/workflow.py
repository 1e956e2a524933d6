"""``jido.workflow``: composing actions.

- the seed's ``Jido.Workflow`` entry points under their original module name:
  :func:`run`, :func:`arun`, :func:`run_async`, :func:`await_`, :func:`cancel`;
- :class:`Instruction` and :func:`normalize`: every way of writing "an action with its
  params, context and options"; :func:`check_allowed` for allow-lists;
- chains (:func:`chain`, :func:`achain`, :func:`chain_async`): a sequence, each result
  merged into the params of the next;
- plans (:class:`Plan`): a DAG of named steps, independent steps run concurrently;
- closures (:func:`closure`, :func:`async_closure`): an action with context and
  options bound.

See ``docs/workflows.md``.
"""

from jido._runtime.api import arun, await_, cancel, run, run_async
from jido._workflow.chain import ChainInterrupted, achain, chain, chain_async
from jido._workflow.closure import AsyncClosure, Closure, async_closure, closure
from jido._workflow.instruction import Instruction, check_allowed, normalize
from jido._workflow.plan import Plan, PlanResult, PlanStep

__all__ = [
    "AsyncClosure",
    "ChainInterrupted",
    "Closure",
    "Instruction",
    "Plan",
    "PlanResult",
    "PlanStep",
    "achain",
    "arun",
    "async_closure",
    "await_",
    "cancel",
    "chain",
    "chain_async",
    "check_allowed",
    "closure",
    "normalize",
    "run",
    "run_async",
]
