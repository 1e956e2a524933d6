"""Open-schema validation with pydantic: declared fields are validated, unknown keys kept."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any, Final

import pydantic
from pydantic_core import SchemaValidator, core_schema

from jido._core.errors import ValidationError
from jido._core.normalize import check_keys
from jido._core.safe import exception_text, type_name
from jido._observe.redact import redact_text

__all__ = ["Schema", "format_validation_error", "known_names"]

_MAX_LISTED = 5


class Schema:
    """A pydantic model compiled once, applied with Jido's open semantics."""

    __slots__ = ("known", "model", "names", "validator")

    def __init__(self, model: type[pydantic.BaseModel]) -> None:
        self.model = model
        self.validator: SchemaValidator = model.__pydantic_validator__  # type: ignore[assignment]
        known = set(model.model_fields)
        for name, info in model.model_fields.items():
            for alias in (info.alias, info.validation_alias):
                if isinstance(alias, str) and alias != name:
                    known.add(alias)
        self.known = frozenset(known)
        self.names = known_names(model)

    def validate(self, data: Mapping[str, Any], action: str, what: str) -> dict[str, Any]:
        """Validate the declared keys of ``data``; unknown keys are kept as they are.

        Raises ValidationError, whatever goes wrong: a validator of the schema that raises
        something else, or values whose comparison or hashing raises.
        """
        try:
            return self._validate(data)
        except pydantic.ValidationError as exc:
            raise format_validation_error(exc, action, what, self.names) from None
        except ValidationError:
            raise
        except Exception as exc:
            text = redact_text(f"{type_name(exc)}: {exception_text(exc)}")
            raise ValidationError(
                f"Invalid {what} for action '{action}': validating them raised {text}",
                details={"action": action, "stage": what, "exception": type_name(exc)},
            ) from exc

    def _validate(self, data: Mapping[str, Any]) -> dict[str, Any]:
        known = self.known
        extra: dict[str, Any] | None = None
        if not data.keys() <= known:
            extra = {k: v for k, v in data.items() if k not in known}
            data = {k: v for k, v in data.items() if k in known}
            check_keys(extra)
        model = self.validator.validate_python(data)
        out: dict[str, Any] = dict(model.__dict__)
        if model.__pydantic_extra__:
            out.update(model.__pydantic_extra__)
        if extra:
            out.update(extra)
        return out


def format_validation_error(
    exc: pydantic.ValidationError, action: str, what: str, known: frozenset[str] = frozenset()
) -> ValidationError:
    """A jido ValidationError listing each failing field, without the values given.

    The message names each failing field by its path in the schema (``known`` names and
    list positions; a mapping key given in the input ends the path) and what is wrong. A
    validator's own text (``ValueError`` raised in a field validator) is the action's text:
    kept, with secret-looking values masked. Text pydantic derives from the input (a
    union tag, a parse error quoting the input) is masked. ``details["errors"]`` has the
    full path, pydantic's error type and the same text, per field.
    """
    errors = [
        {"field": _path(err["loc"]), "message": _text(err), "type": err["type"], "at": at}
        for err in exc.errors(include_url=False, include_input=False)
        for at in (_path(err["loc"], known),)
    ]
    listed = "; ".join(f"{e.pop('at')}: {e['message']}" for e in errors[:_MAX_LISTED])
    for e in errors[_MAX_LISTED:]:
        e.pop("at")
    more = f" (and {len(errors) - _MAX_LISTED} more)" if len(errors) > _MAX_LISTED else ""
    return ValidationError(
        f"Invalid {what} for action '{action}': {listed}{more}",
        details={"action": action, "stage": what, "field": errors[0]["field"], "errors": errors},
    )


def _path(loc: tuple[int | str, ...], known: frozenset[str] | None = None) -> str:
    """``a.b[0].c``; with ``known``, it stops at the first name the schema does not declare."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif known is None or part in known:
            out += f".{part}" if out else str(part)
        else:
            break
    return out or "(root)"


def _text(err: Any) -> str:
    """What is wrong with one field, with nothing pydantic took from the input."""
    kind = err["type"]
    if kind in _USER_TEXT or kind not in _BUILTIN:  # a validator's own text, a custom error
        return redact_text(str(err["msg"]))
    template = _MASKED.get(kind)
    if template is None:
        return str(err["msg"])
    return template.format_map(_Context(err.get("ctx") or {}))


class _Context(dict[str, Any]):
    """A message template's values; one that is missing shows as ``...``."""

    def __missing__(self, key: str) -> str:
        return "..."


def known_names(model: type[pydantic.BaseModel]) -> frozenset[str]:
    """Every name the schema itself declares: fields, aliases, nested models' fields, tags."""
    names: set[str] = set()
    seen: set[int] = set()
    todo: list[Any] = [model]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, type) and issubclass(node, pydantic.BaseModel):
            for name, info in node.model_fields.items():
                names.add(name)
                names.update(a for a in (info.alias, info.validation_alias) if isinstance(a, str))
                todo.append(info.annotation)
        elif typing.get_origin(node) is typing.Literal:
            names.update(a for a in typing.get_args(node) if isinstance(a, str))
        else:
            todo.extend(typing.get_args(node))
    return frozenset(names)


_BUILTIN: Final = frozenset(typing.get_args(core_schema.ErrorType))
_USER_TEXT: Final = frozenset({"value_error", "assertion_error"})
"""Errors whose text is the validator's own (the action's code), not pydantic's."""
_MASKED: Final = {
    "union_tag_invalid": "Input tag '...' found using {discriminator} does not match any of "
    "the expected tags: {expected_tags}",
    "json_invalid": "Invalid JSON",
    "get_attribute_error": "Error extracting attribute",
    "iteration_error": "Error iterating over object",
    "mapping_type": "Input should be a valid mapping",
    "bytes_invalid_encoding": "Data should be valid {encoding}",
    "date_parsing": "Input should be a valid date in the format YYYY-MM-DD",
    "date_from_datetime_parsing": "Input should be a valid date or datetime",
    "time_parsing": "Input should be in a valid time format",
    "datetime_parsing": "Input should be a valid datetime",
    "datetime_object_invalid": "Invalid datetime object",
    "datetime_from_date_parsing": "Input should be a valid datetime or date",
    "timezone_offset": "Timezone offset of {tz_expected} required",
    "time_delta_parsing": "Input should be a valid timedelta",
    "url_parsing": "Input should be a valid URL",
    "url_syntax_violation": "Input violated strict URL syntax rules",
    "uuid_parsing": "Input should be a valid UUID",
}
"""pydantic's messages that quote the input (a tag, a parse error), without that part."""
