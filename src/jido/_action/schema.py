"""Open-schema validation with pydantic: declared fields are validated, unknown keys kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic
from pydantic_core import SchemaValidator

from jido._core.errors import ValidationError
from jido._core.normalize import check_keys

__all__ = ["Schema", "format_validation_error"]

_MAX_LISTED = 5


class Schema:
    """A pydantic model compiled once, applied with Jido's open semantics."""

    __slots__ = ("known", "model", "validator")

    def __init__(self, model: type[pydantic.BaseModel]) -> None:
        self.model = model
        self.validator: SchemaValidator = model.__pydantic_validator__  # type: ignore[assignment]
        known = set(model.model_fields)
        for name, info in model.model_fields.items():
            for alias in (info.alias, info.validation_alias):
                if isinstance(alias, str) and alias != name:
                    known.add(alias)
        self.known = frozenset(known)

    def validate(self, data: Mapping[str, Any], action: str, what: str) -> dict[str, Any]:
        """Validate the declared keys of ``data``; unknown keys are kept as they are."""
        known = self.known
        extra: dict[str, Any] | None = None
        if not data.keys() <= known:
            extra = {k: v for k, v in data.items() if k not in known}
            data = {k: v for k, v in data.items() if k in known}
            check_keys(extra)
        try:
            model = self.validator.validate_python(data)
        except pydantic.ValidationError as exc:
            raise format_validation_error(exc, action, what) from None
        out: dict[str, Any] = dict(model.__dict__)
        if model.__pydantic_extra__:
            out.update(model.__pydantic_extra__)
        if extra:
            out.update(extra)
        return out


def format_validation_error(
    exc: pydantic.ValidationError, action: str, what: str
) -> ValidationError:
    """A jido ValidationError listing each failing field; input values are never included."""
    errors = [
        {
            "field": ".".join(str(p) for p in err["loc"]) or "(root)",
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
    listed = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:_MAX_LISTED])
    more = f" (and {len(errors) - _MAX_LISTED} more)" if len(errors) > _MAX_LISTED else ""
    return ValidationError(
        f"Invalid {what} for action '{action}': {listed}{more}",
        details={"action": action, "stage": what, "field": errors[0]["field"], "errors": errors},
    )
