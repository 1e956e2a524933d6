"""The private jido names that ``jido._mcp`` and ``jido._adapters`` use, and nothing else.

Everything here is a re-export (or a one-line view) of a core internal, so that a move of
the core's modules is one edit in this file.
"""

from __future__ import annotations

from typing import Any

from jido._action.action import ActionSpec, spec_of
from jido._action.refs import resolve
from jido._core.options import RunOptions
from jido._observe.redact import redact, redact_text
from jido._runtime.config import RunKwargs
from jido._runtime.runtime import Runtime
from jido._tools.convert import parameters_schema, parse_arguments
from jido._tools.schema import base_schema
from jido._workflow.instruction import check_options

__all__ = [
    "ActionSpec",
    "RunKwargs",
    "annotations_of",
    "base_schema",
    "check_options",
    "output_json_schema",
    "parameters_schema",
    "parse_arguments",
    "redact",
    "redact_text",
    "resolve",
    "resolved_options",
    "spec_of",
]


def annotations_of(spec: ActionSpec) -> dict[str, Any]:
    """What the action declared of ``title``, ``read_only``, ``destructive``... (maybe nothing)."""
    return dict(spec.annotations)


def output_json_schema(spec: ActionSpec) -> dict[str, Any] | None:
    """The JSON schema of the action's results (its ``output_schema``), or None."""
    if spec.output_schema is None:
        return None
    return spec.output_schema.model.model_json_schema(mode="serialization")


def resolved_options(runtime: Runtime, overrides: dict[str, Any]) -> RunOptions:
    """The options a run on ``runtime`` with these per-call ``overrides`` gets."""
    return runtime._options(overrides)
