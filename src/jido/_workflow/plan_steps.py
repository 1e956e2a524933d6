"""Reading what is given to a plan: step forms, dependencies, contexts and limits.

Pure checks used by :class:`~jido.Plan` (``plan.py``); every one raises a
``ValidationError`` or ``ConfigError`` whatever it is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jido._core.errors import ConfigError, JidoError, ValidationError
from jido._core.normalize import normalize_context, normalize_params
from jido._core.safe import describe, type_name
from jido._workflow.instruction import Instruction, check_options, normalize

__all__ = [
    "dependencies",
    "limit",
    "plan_context",
    "read_mapping",
    "step_error",
    "step_instruction",
]


def plan_context(context: object) -> dict[Any, Any]:
    try:
        return normalize_context(context)
    except ValidationError as exc:
        raise ValidationError(f"Plan context: {exc.message}", details=exc.details) from exc


def step_instruction(
    step: object,
    params: object,
    context: object,
    opts: Mapping[str, Any],
    plan_context: Mapping[Any, Any],
) -> Instruction:
    if isinstance(step, list):
        raise ValidationError(
            "a plan step is one instruction, not a list", details={"form": "list"}
        )
    (instr,) = normalize(step)
    return instr.replace(
        params={**instr.params, **normalize_params(params)},
        context={**instr.context, **normalize_context(context), **plan_context},
        opts={**instr.opts, **check_options(opts, "step options")},
    )


def step_error(exc: JidoError, name: str) -> JidoError:
    return type(exc)(f"Plan step {name!r}: {exc.message}", details={**exc.details, "step": name})


def dependencies(value: object, step: str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, Iterable) or isinstance(names, Mapping | bytes):
        names = (value,)
    try:
        listed = list(names)
    except Exception as exc:  # an iterable that fails while iterating
        raise ValidationError(
            f"Plan step {step!r}: dependencies could not be read ({type_name(exc)})",
            details={"step": step, "exception": type_name(exc)},
        ) from exc
    for dep in listed:
        if not isinstance(dep, str) or not dep:
            raise ValidationError(
                f"Plan step {step!r}: dependencies must be step names (strings), "
                f"got {describe(dep)}",
                details={"step": step, "dependency": describe(dep, 60)},
            )
    return tuple(dict.fromkeys(str.__str__(dep) for dep in listed))


def read_mapping(value: Mapping[Any, Any], label: str) -> dict[Any, Any]:
    """A mapping given to a plan as a dict, whatever its iteration does."""
    try:
        return normalize_context(value)
    except ValidationError as exc:
        raise ValidationError(f"{label}: {exc.message}", details=exc.details) from exc


def limit(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"max_concurrency must be a positive integer or None, got {describe(value)}",
            details={"option": "max_concurrency"},
        )
    return value
