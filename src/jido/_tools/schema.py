"""JSON schemas for LLM tools, per provider dialect. Pure functions on JSON-like dicts.

- Base: pydantic's validation-mode JSON schema with ``title`` keys removed; a root
  ``$ref`` (a recursive root model) is opened up so the root is an object.
- Strict (OpenAI's rules): every object gets ``additionalProperties: false`` and lists
  all its properties as required; a property that was optional becomes nullable
  (``anyOf [..., {"type": "null"}]``); a ``$ref`` with sibling keys is inlined once.
  A free-form mapping cannot be strict: ConfigError.
- Gemini (an OpenAPI 3.0 subset, no ``$ref``): references are inlined; a recursive
  model is unrolled :data:`GEMINI_RECURSION_DEPTH` levels deep and the field that
  recurses further is left out; ``null`` unions become ``nullable``; unsupported
  keywords are dropped. A free-form mapping cannot be described: ConfigError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from jido._core.errors import ConfigError

__all__ = [
    "GEMINI_RECURSION_DEPTH",
    "accepts_null",
    "base_schema",
    "gemini_schema",
    "resolve_ref",
    "strict_schema",
]

Schema = dict[str, Any]
Path = tuple[str, ...]

GEMINI_RECURSION_DEPTH: Final = 3
"""How many times a recursive model may nest inside itself in a Gemini schema."""

_MAPS: Final = ("properties", "$defs", "patternProperties")
_LISTS: Final = ("anyOf", "oneOf", "allOf", "prefixItems")
_SINGLES: Final = ("items", "additionalProperties", "not")
_GEMINI_KEYS: Final = frozenset(
    {
        "type",
        "format",
        "description",
        "nullable",
        "enum",
        "properties",
        "required",
        "items",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "anyOf",
    }
)
_GEMINI_FORMATS: Final = frozenset({"float", "double", "int32", "int64", "date-time", "enum"})


def walk(schema: Schema, fn: Callable[[Schema, Path], Schema], path: Path = ()) -> Schema:
    """Apply ``fn`` to every subschema, innermost first; returns new dicts."""
    out = dict(schema)
    for key in _MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {k: walk(v, fn, (*path, key, k)) for k, v in out[key].items()}
    for key in _LISTS:
        if isinstance(out.get(key), list):
            out[key] = [walk(v, fn, (*path, key, str(i))) for i, v in enumerate(out[key])]
    for key in _SINGLES:
        if isinstance(out.get(key), dict):
            out[key] = walk(out[key], fn, (*path, key))
    return fn(out, path)


def resolve_ref(schema: Schema, defs: Schema) -> Schema:
    """The definition a local ``$ref`` points to (``#/$defs/Name``), else the schema itself."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref.removeprefix("#/$defs/"))
        if isinstance(target, dict):
            return target
    return schema


def accepts_null(schema: Schema, defs: Schema) -> bool:
    """True if ``null`` is valid for ``schema`` (type null, a type list, or a null branch)."""
    schema = resolve_ref(schema, defs)
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if schema.get("nullable") is True or ("const" in schema and schema["const"] is None):
        return True
    return any(accepts_null(s, defs) for s in schema.get("anyOf", ()) if isinstance(s, dict))


# -- base -----------------------------------------------------------------------------------------
def base_schema(raw: Schema) -> Schema:
    """pydantic's schema without titles; the root is always an object schema."""
    schema = walk(raw, _untitled)
    defs = schema.get("$defs", {})
    if "$ref" in schema:
        root = resolve_ref(schema, defs)
        schema = {**root, **({"$defs": defs} if defs else {})}
    if "type" not in schema and "properties" not in schema:
        schema = {"type": "object", "properties": {}, **schema}
    return schema


def _untitled(schema: Schema, path: Path) -> Schema:
    schema.pop("title", None)
    return schema


# -- strict ---------------------------------------------------------------------------------------
def strict_schema(schema: Schema) -> Schema:
    """OpenAI strict rules applied everywhere (see the module docstring)."""
    defs = schema.get("$defs", {})
    strict = walk(schema, lambda s, path: _strict_object(s, path, defs))
    strict_defs = strict.get("$defs", {})
    return walk(strict, lambda s, path: _inline_sibling_ref(s, strict_defs))


def _strict_object(schema: Schema, path: Path, defs: Schema) -> Schema:
    if schema.get("type") != "object" and "properties" not in schema:
        return schema
    extra = schema.get("additionalProperties")
    if (isinstance(extra, dict) or extra is True) and not schema.get("properties"):
        raise ConfigError(
            f"strict mode cannot describe the free-form mapping at {_pointer(path)}: "
            "give it a model with fixed fields, or use strict=False",
            details={"path": _pointer(path)},
        )
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    schema["properties"] = {
        name: prop if name in required else _nullable(prop, defs)
        for name, prop in properties.items()
    }
    schema["required"] = list(properties)
    schema["additionalProperties"] = False
    return schema


def _nullable(prop: Schema, defs: Schema) -> Schema:
    if "default" in prop and prop["default"] is None:
        prop = {k: v for k, v in prop.items() if k != "default"}
    if accepts_null(prop, defs):
        return prop
    outer: Schema = {k: prop[k] for k in ("description", "default") if k in prop}
    inner = {k: v for k, v in prop.items() if k not in outer}
    return {"anyOf": [inner, {"type": "null"}], **outer}


def _inline_sibling_ref(schema: Schema, defs: Schema) -> Schema:
    if "$ref" in schema and len(schema) > 1:
        target = resolve_ref(schema, defs)
        if target is not schema:
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return {**target, **rest}
    return schema


# -- gemini ---------------------------------------------------------------------------------------
def gemini_schema(schema: Schema) -> Schema:
    """The schema as Gemini's function declarations accept it (see the module docstring)."""
    defs = schema.get("$defs", {})
    body = {k: v for k, v in schema.items() if k != "$defs"}
    inlined = _inline(body, defs, (), ())
    assert inlined is not None  # the root is an object, never a bare reference
    return walk(inlined, _gemini_node)


def _inline(schema: Schema, defs: Schema, seen: tuple[str, ...], path: Path) -> Schema | None:
    """Replace references by definitions; None where recursion goes too deep."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if seen.count(ref) >= GEMINI_RECURSION_DEPTH:
            return None
        target = resolve_ref(schema, defs)
        if target is schema:
            raise ConfigError(f"cannot resolve reference {ref!r} at {_pointer(path)}")
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return _inline({**target, **rest}, defs, (*seen, ref), path)
    out = dict(schema)
    for key in _MAPS:
        if isinstance(out.get(key), dict):
            out[key] = _inline_map(out, key, defs, seen, path)
    for key in _LISTS:
        if isinstance(out.get(key), list):
            kept = [_inline(s, defs, seen, (*path, key)) for s in out[key]]
            out[key] = [s for s in kept if s is not None]
            if not out[key]:
                return None
    for key in _SINGLES:
        if isinstance(out.get(key), dict):
            inner = _inline(out[key], defs, seen, (*path, key))
            if inner is None:
                return None
            out[key] = inner
    return out


def _inline_map(
    schema: Schema, key: str, defs: Schema, seen: tuple[str, ...], path: Path
) -> Schema:
    kept = {}
    for name, sub in schema[key].items():
        inner = _inline(sub, defs, seen, (*path, key, name))
        if inner is not None:
            kept[name] = inner
        elif key == "properties" and name in schema.get("required", ()):
            schema["required"] = [r for r in schema["required"] if r != name]
    return kept


def _gemini_node(schema: Schema, path: Path) -> Schema:
    schema = _gemini_nulls(schema)
    if "const" in schema:
        schema.setdefault("enum", [schema.pop("const")])
    enum = schema.get("enum")
    if isinstance(enum, list) and not all(isinstance(v, str) for v in enum):
        del schema["enum"]
        _describe(schema, f"one of: {', '.join(map(str, enum))}")
    fmt = schema.pop("format", None)
    if fmt in _GEMINI_FORMATS:
        schema["format"] = fmt
    elif fmt is not None:
        _describe(schema, f"format: {fmt}")
    if schema.get("type") == "object" and not schema.get("properties") and path:
        raise ConfigError(
            f"Gemini cannot describe the free-form mapping at {_pointer(path)}: "
            "give it a model with fixed fields",
            details={"path": _pointer(path)},
        )
    return {k: v for k, v in schema.items() if k in _GEMINI_KEYS}


def _describe(schema: Schema, note: str) -> None:
    """Say in the description what a dropped keyword said."""
    schema["description"] = f"{schema.get('description', '')} ({note})".strip()


def _gemini_nulls(schema: Schema) -> Schema:
    """``null`` as Gemini says it: ``nullable: true`` instead of a type or a branch."""
    kind = schema.get("type")
    if isinstance(kind, list):
        others = [t for t in kind if t != "null"]
        schema["type"] = others[0] if len(others) == 1 else others
        if len(others) < len(kind):
            schema["nullable"] = True
    branches = schema.get("anyOf")
    if isinstance(branches, list) and any(b.get("type") == "null" for b in branches):
        rest = [b for b in branches if b.get("type") != "null"]
        schema["nullable"] = True
        if len(rest) == 1:
            del schema["anyOf"]
            schema = {**rest[0], **schema}
        else:
            schema["anyOf"] = rest
    return schema


def _pointer(path: Path) -> str:
    return "/" + "/".join(path) if path else "/"
