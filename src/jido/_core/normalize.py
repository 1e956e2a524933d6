"""Normalization of params and context: anything either becomes a dict or a validation_error.

Messages name types and positions, never the values or keys given (they may be secrets).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pydantic

from jido._core.errors import ValidationError
from jido._core.safe import type_name

__all__ = ["check_keys", "normalize_context", "normalize_params"]


def normalize_params(params: object) -> dict[str, Any]:
    """A fresh dict from a Mapping, (key, value) pairs, a pydantic model or None.

    Keys must be strings (they name schema fields). Anything else is a ValidationError.
    """
    if type(params) is dict:
        out = params.copy()
    elif params is None:
        return {}
    elif isinstance(params, pydantic.BaseModel):
        out = dict(params)
    else:
        out = _to_dict(params, "params")
    check_keys(out)
    return out


def check_keys(params: dict[Any, Any]) -> None:
    """Params keys name schema fields: they must be strings."""
    for key in params:
        if type(key) is not str:
            raise ValidationError(
                f"Invalid params: keys must be strings, got a key of type {type_name(key)}",
                details={"stage": "params", "key_type": type_name(key)},
            )


def normalize_context(context: object) -> dict[Any, Any]:
    """A shallow copy of a Mapping or (key, value) pairs, or {} for None. Values are untouched."""
    if type(context) is dict:
        return context.copy()
    if context is None:
        return {}
    return _to_dict(context, "context")


def _to_dict(value: object, what: str) -> dict[Any, Any]:
    if isinstance(value, Mapping):
        try:
            return dict(value)
        except Exception as exc:  # a mapping whose iteration or lookup raises
            raise ValidationError(
                f"Invalid {what}: reading the mapping raised {type_name(exc)}",
                details={"stage": what, "exception": type_name(exc)},
            ) from exc
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | bytearray | memoryview):
        return _pairs(value, what)
    raise ValidationError(
        f"Invalid {what} type: expected a mapping, (key, value) pairs or None, "
        f"got {type_name(value)}",
        details={"stage": what, "type": type_name(value)},
    )


def _pairs(items: Iterable[object], what: str) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    try:
        for i, item in enumerate(items):
            if not isinstance(item, tuple | list) or len(item) != 2:
                raise ValidationError(
                    f"Invalid {what}: element {i} is not a (key, value) pair",
                    details={"stage": what, "index": i, "type": type_name(item)},
                )
            key, val = item
            out[key] = val
    except ValidationError:
        raise
    except Exception as exc:  # unhashable keys, iterators that raise
        raise ValidationError(
            f"Invalid {what}: reading the (key, value) pairs raised {type_name(exc)}",
            details={"stage": what, "exception": type_name(exc)},
        ) from exc
    return out
