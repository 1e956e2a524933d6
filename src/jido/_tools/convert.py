"""Actions as LLM tools: definitions per provider, and executing a tool call.

Executing a call never raises for what the model got wrong or for the action failing:
bad JSON, invalid arguments and action errors come back as a JSON error object the
model can read. Misuse by the program (not an action, bad run options) still raises.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, Literal, Unpack

import pydantic
import pydantic_core

from jido._action.action import ActionSpec, spec_of
from jido._core.errors import ConfigError, ExecutionError, JidoError, ValidationError
from jido._core.normalize import normalize_context
from jido._core.safe import describe, type_name
from jido._observe.redact import redact, redact_text
from jido._runtime.config import RunKwargs
from jido._runtime.runtime import Runtime
from jido._tools.schema import (
    accepts_null,
    base_schema,
    gemini_schema,
    resolve_ref,
    strict_schema,
)
from jido._workflow.composite import pick_runtime
from jido._workflow.instruction import check_options

__all__ = [
    "DIALECTS",
    "Dialect",
    "aexecute_tool",
    "error_json",
    "execute_tool",
    "parameters_schema",
    "to_tool",
]

Dialect = Literal["openai", "anthropic", "gemini"]
"""The providers a tool definition can be written for."""
DIALECTS: Final[tuple[Dialect, ...]] = ("openai", "anthropic", "gemini")
"""Every dialect, in this order: ``("openai", "anthropic", "gemini")``."""
_MAX_NAME: Final = 64


def parameters_schema(
    action: object, dialect: Dialect = "openai", *, strict: bool = False
) -> dict[str, Any]:
    """The JSON schema of an action's params, as ``dialect`` accepts it.

    Raises:
        jido.InvalidActionError: ``action`` is not an action.
        jido.ConfigError: an unknown dialect, strict mode for Gemini, or a schema the
            dialect cannot express (a free-form mapping in strict mode or for Gemini).

    Example:
        >>> import jido, jido.tools
        >>> @jido.action
        ... def add(a: int, b: int = 1) -> dict:
        ...     return {"sum": a + b}
        >>> jido.tools.parameters_schema(add, strict=True)["properties"]["b"]
        {'anyOf': [{'type': 'integer'}, {'type': 'null'}], 'default': 1}
    """
    dialect = _check_dialect(dialect, strict)
    schema = base_schema(_raw_schema(spec_of(action)))
    if strict:
        schema = strict_schema(schema)
    if dialect == "gemini":
        schema = gemini_schema(schema)
    return schema


def to_tool(
    action: object,
    dialect: Dialect = "openai",
    *,
    strict: bool = False,
    name: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """A tool definition for ``dialect``, ready to put in the provider's ``tools`` list.

    - ``"openai"`` (Chat Completions): ``{"type": "function", "function": {"name",
      "description", "parameters"[, "strict": true]}}``.
    - ``"anthropic"`` (Messages): ``{"name", "description", "input_schema"[, "strict": true]}``.
    - ``"gemini"``: a function declaration ``{"name", "description"[, "parameters"]}``
      (no ``parameters`` when the action takes none); put it in ``functionDeclarations``.

    Args:
        action: an ``Action`` subclass or a ``@jido.action`` function.
        dialect: ``"openai"``, ``"anthropic"`` or ``"gemini"``.
        strict: ``additionalProperties: false`` everywhere and every property required
            (optional ones become nullable; a ``null`` then means "use the default").
            Not available for Gemini.
        name: the tool name (default: the action's name; at most 64 characters).
        description: the tool description (default: the action's description).

    Example:
        >>> import jido, jido.tools
        >>> @jido.action(description="Add two numbers")
        ... def add(a: int, b: int = 1) -> dict:
        ...     return {"sum": a + b}
        >>> jido.tools.to_tool(add, "anthropic")
        {'name': 'add', 'description': 'Add two numbers', 'input_schema': {'properties': \
{'a': {'type': 'integer'}, 'b': {'default': 1, 'type': 'integer'}}, 'required': ['a'], \
'type': 'object'}}
    """
    spec = spec_of(action)
    dialect = _check_dialect(dialect, strict)
    tool_name = _tool_name(name if name is not None else spec.name)
    text = _description(description if description is not None else spec.description)
    schema = parameters_schema(action, dialect, strict=strict)
    flag = {"strict": True} if strict else {}
    if dialect == "openai":
        function = {"name": tool_name, "description": text, "parameters": schema, **flag}
        return {"type": "function", "function": function}
    if dialect == "anthropic":
        return {"name": tool_name, "description": text, "input_schema": schema, **flag}
    params = {"parameters": schema} if schema.get("properties") else {}
    return {"name": tool_name, "description": text, **params}


def execute_tool(
    action: object,
    arguments: str | bytes | Mapping[str, Any] | None,
    context: object = None,
    *,
    runtime: Runtime | None = None,
    **opts: Unpack[RunKwargs],
) -> str:
    """Run ``action`` for a tool call and return JSON: its result, or an error object.

    ``arguments`` is the provider's JSON arguments string (OpenAI), or the already
    parsed object (Anthropic ``input``, Gemini ``args``). A ``null`` given for an
    optional field that does not accept null means "use the default" (this is how
    strict mode says "not given"). Errors are returned, not raised, as
    ``{"error": {"type", "message", "retryable", "details"}}``.

    Raises:
        jido.InvalidActionError: ``action`` is not an action.
        jido.ConfigError: an invalid run option.

    Example:
        >>> import jido, jido.tools
        >>> @jido.action
        ... def add(a: int, b: int = 1) -> dict:
        ...     return {"sum": a + b}
        >>> jido.tools.execute_tool(add, '{"a": 2, "b": null}')
        '{"sum": 3}'
        >>> jido.tools.execute_tool(add, '{"a": "two"}')[:60]
        '{"error": {"type": "validation_error", "message": "Invalid p'
    """
    spec, run_opts = _prepare(action, opts)
    rt = pick_runtime(runtime)
    try:
        params = parse_arguments(spec, arguments)
        result = rt.run(action, params, context, **run_opts)
    except JidoError as exc:
        return error_json(exc)
    return _result_json(spec, result)


async def aexecute_tool(
    action: object,
    arguments: str | bytes | Mapping[str, Any] | None,
    context: object = None,
    *,
    runtime: Runtime | None = None,
    **opts: Unpack[RunKwargs],
) -> str:
    """Like :func:`execute_tool`, awaited inside asyncio.

    Example:
        >>> import asyncio, jido, jido.tools
        >>> @jido.action
        ... async def add(a: int, b: int = 1) -> dict:
        ...     return {"sum": a + b}
        >>> asyncio.run(jido.tools.aexecute_tool(add, {"a": 41}))
        '{"sum": 42}'
    """
    spec, run_opts = _prepare(action, opts)
    rt = pick_runtime(runtime)
    try:
        params = parse_arguments(spec, arguments)
        result = await rt.arun(action, params, context, **run_opts)
    except JidoError as exc:
        return error_json(exc)
    return _result_json(spec, result)


def error_json(error: JidoError) -> str:
    """``{"error": {"type", "message", "retryable", "details"}}`` (details redacted)."""
    body = {
        "type": error.type,
        "message": redact_text(error.message),
        "retryable": error.retryable,
        "details": redact(error.details),
    }
    return _dumps({"error": body})


# -- internals ------------------------------------------------------------------------------------
def _check_dialect(dialect: object, strict: object) -> Dialect:
    """The dialect as a plain string (never compared with its own ``__eq__``)."""
    plain = str.__str__(dialect) if isinstance(dialect, str) else None
    if plain not in DIALECTS:
        raise ConfigError(
            f"unknown tool dialect {describe(dialect)}; use one of {', '.join(DIALECTS)}",
            details={"option": "dialect"},
        )
    if not isinstance(strict, bool):
        raise ConfigError(
            f"strict must be a bool, got {describe(strict)}", details={"option": "strict"}
        )
    if strict and plain == "gemini":
        raise ConfigError(
            "Gemini function declarations have no strict mode; use strict=False",
            details={"option": "strict"},
        )
    return plain


def _raw_schema(spec: ActionSpec) -> dict[str, Any]:
    if spec.schema is None:
        return {"type": "object", "properties": {}}
    try:
        return spec.schema.model.model_json_schema(mode="validation")
    except pydantic.PydanticUserError as exc:
        raise ConfigError(
            f"the params of action '{spec.name}' cannot be described as JSON schema: {exc}",
            details={"action": spec.name},
        ) from exc


def _tool_name(name: object) -> str:
    if isinstance(name, str) and 0 < len(name) <= _MAX_NAME:
        return str.__str__(name)
    raise ConfigError(
        f"a tool name must be a string of 1 to {_MAX_NAME} characters, got {describe(name)}",
        details={"option": "name"},
    )


def _description(text: object) -> str:
    if isinstance(text, str):
        return str.__str__(text)
    raise ConfigError(
        f"a tool description must be a string, got {describe(text)}",
        details={"option": "description"},
    )


def _prepare(action: object, opts: Mapping[str, Any]) -> tuple[ActionSpec, dict[str, Any]]:
    return spec_of(action), check_options(opts, "tool run options")


def parse_arguments(spec: ActionSpec, arguments: object) -> dict[str, Any]:
    """The params of a tool call: parsed JSON, ``null`` for optional fields dropped.

    Anything the model sent that is not a JSON object of arguments (invalid or deeply
    nested JSON, another type) is a ValidationError.
    """
    if arguments is None or (type(arguments) in (str, bytes) and not arguments):
        return {}
    value = _loads(spec, arguments) if isinstance(arguments, str | bytes) else arguments
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"Invalid tool arguments for '{spec.name}': expected a JSON object, "
            f"got {type_name(value)}",
            details={"action": spec.name, "stage": "arguments"},
        )
    try:
        params = normalize_context(value)
        if spec.schema is None:
            return params
        schema = base_schema(_raw_schema(spec))
        return _drop_nulls(params, schema, schema.get("$defs", {}))  # type: ignore[no-any-return]
    except RecursionError:
        raise _too_deep(spec) from None


def _loads(spec: ActionSpec, text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise _too_deep(spec) from None
    except ValueError as exc:
        raise ValidationError(
            f"Invalid tool arguments for '{spec.name}': not valid JSON ({_json_problem(exc)})",
            details={"action": spec.name, "stage": "arguments"},
        ) from None


def _too_deep(spec: ActionSpec) -> ValidationError:
    return ValidationError(
        f"Invalid tool arguments for '{spec.name}': nested too deeply",
        details={"action": spec.name, "stage": "arguments"},
    )


def _json_problem(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return type(exc).__name__


def _drop_nulls(value: Any, schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    schema = resolve_ref(schema, defs)
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        props, required = schema["properties"], set(schema.get("required", ()))
        return {
            k: _drop_nulls(v, props[k], defs) if k in props else v
            for k, v in value.items()
            if not (
                v is None and k in props and k not in required and not accepts_null(props[k], defs)
            )
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_drop_nulls(v, schema["items"], defs) for v in value]
    branches = [b for b in schema.get("anyOf", ()) if not accepts_null(b, defs)]
    if value is not None and len(branches) == 1:
        return _drop_nulls(value, branches[0], defs)
    return value


def _result_json(spec: ActionSpec, result: Any) -> str:
    """The result as JSON; a result that cannot be written as JSON is an error object."""
    try:
        return _dumps(result)
    except Exception as exc:  # nested too deeply, a value whose serialization raises
        return error_json(
            ExecutionError(
                f"Action '{spec.name}' returned a result that cannot be written as JSON "
                f"({type_name(exc)})",
                details={"action": spec.name, "exception": type_name(exc)},
                retryable=False,
            )
        )


def _dumps(value: Any) -> str:
    plain = pydantic_core.to_jsonable_python(value, fallback=_text, inf_nan_mode="null")
    return json.dumps(plain, ensure_ascii=False)


def _text(value: Any) -> str:
    """What a value that is not JSON becomes: its repr (or its type, if repr fails)."""
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__}>"
