"""Strict JSON for the journal: params, results and context in, errors both ways. No pickle.

Only ``None``, ``bool``, ``int``, finite ``float``, ``str``, ``list``/``tuple`` (stored as a
list) and ``dict`` with string keys are encodable; subclasses of the scalar types (enums,
``numpy`` scalars...) are not, so what comes back is what went in. Anything else is a
:class:`jido.ValidationError` whose message and ``details["path"]`` name where it is,
e.g. ``params['order']['items'][2]``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from jido._core import errors as jido_errors
from jido._core.errors import JidoError, ValidationError

__all__ = ["decode", "encode", "error_from_json", "error_json", "error_to_json"]

_SCALARS = (str, int, bool, type(None))
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_MAX_DEPTH = 200


def encode(value: Any, root: str = "value", hint: str = "") -> str:
    """``value`` as compact JSON text, or a ValidationError naming the offending key path.

    Args:
        value: the value to encode.
        root: the name the path starts with (``"params"``, ``"result"``, ``"context"``).
        hint: a sentence appended to the error message (how to provide the value instead).

    Example:
        >>> encode({"n": 1, "tags": ("a", "b")}, "params")
        '{"n":1,"tags":["a","b"]}'
    """
    _check(value, root, hint)
    return _ENCODER.encode(value)


def decode(text: str | None) -> Any:
    """The value encoded by :func:`encode` (``None`` for a missing column).

    Example:
        >>> decode('{"n":1}')
        {'n': 1}
    """
    return None if text is None else json.loads(text)


def _check(value: Any, root: str, hint: str) -> None:
    found = _bad(value, 0)
    if found is not None:
        keys, why, type_name = found
        path = root + "".join(f"[{k!r}]" for k in reversed(keys))
        message = f"{path}: {why}" + (f"; {hint}" if hint else "")
        raise ValidationError(message, details={"path": path, "type": type_name})


_Bad = tuple[list[Any], str, str]


def _bad(item: Any, depth: int) -> _Bad | None:
    """Where ``item`` is not JSON: (keys from the inside out, why, type name), else None."""
    kind = type(item)
    if kind in _SCALARS:
        return None
    if kind is float:
        return None if math.isfinite(item) else ([], f"{item!r} is not valid JSON", "float")
    if depth >= _MAX_DEPTH and isinstance(item, dict | list | tuple):
        return ([], f"nested deeper than {_MAX_DEPTH} levels", "depth")
    if isinstance(item, dict):
        return _bad_dict(item, depth)
    if kind is list or kind is tuple:
        for index, element in enumerate(item):
            found = _bad(element, depth + 1)
            if found is not None:
                found[0].append(index)
                return found
        return None
    name = f"{kind.__module__}.{kind.__qualname__}".removeprefix("builtins.")
    return ([], f"a {name} cannot be stored as JSON", name)


def _bad_dict(item: dict[Any, Any], depth: int) -> _Bad | None:
    for key, element in item.items():
        if type(key) is not str:
            return ([key], f"the key {key!r} is a {type(key).__name__}, not a str", "key")
        found = _bad(element, depth + 1)
        if found is not None:
            found[0].append(key)
            return found
    return None


# --- errors ------------------------------------------------------------------------------


def _jido_error_types() -> dict[str, type[JidoError]]:
    found: dict[str, type[JidoError]] = {}
    for name in dir(jido_errors):
        cls = getattr(jido_errors, name)
        if isinstance(cls, type) and issubclass(cls, JidoError) and cls is not JidoError:
            found.setdefault(cls.type, cls)
    return found


_BY_TYPE = _jido_error_types()


def error_to_json(error: BaseException) -> dict[str, Any]:
    """The JSON form ``{type, message, details, retryable, retry_after, cause}`` of an error.

    A jido error keeps its ``type`` code; any other exception gets its qualified class name
    (``"builtins.ValueError"``), ``retryable`` false. The cause chain follows ``__cause__``.
    Details that are not JSON are replaced by their ``repr``.

    Example:
        >>> import jido
        >>> error_to_json(jido.ExecutionError("busy", retry_after=1.0))["retry_after"]
        1.0
    """
    return _error_json(error, depth=0)


def _error_json(error: BaseException, depth: int) -> dict[str, Any]:
    cause = error.__cause__
    tail = _error_json(cause, depth + 1) if cause is not None and depth < 20 else None
    if isinstance(error, JidoError):
        return error_json(
            error.type,
            error.message,
            _json_details(error.details),
            retryable=error.retryable,
            retry_after=error.retry_after,
            cause=tail,
        )
    kind = type(error)
    name = f"{kind.__module__}.{kind.__qualname__}"
    return error_json(name, str(error), {}, retryable=False, cause=tail)


def error_json(
    type_: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    *,
    retryable: bool = False,
    retry_after: float | None = None,
    cause: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build an error's JSON form from its parts."""
    return {
        "type": type_,
        "message": message,
        "details": dict(details or {}),
        "retryable": retryable,
        "retry_after": retry_after,
        "cause": cause,
    }


def _json_details(details: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in details.items():
        out[str(key)] = value if _bad(value, 0) is None else repr(value)
    return out


def error_from_json(data: Mapping[str, Any]) -> JidoError:
    """Rebuild the :class:`jido.JidoError` of a JSON form, its cause chain included.

    A type code jido does not know becomes a :class:`jido_errors.InternalError`; a non-jido
    exception becomes a :class:`jido_errors.RemoteError` that keeps its class name and message
    (at the top, as the cause of an :class:`jido_errors.InternalError`).

    Example:
        >>> import jido
        >>> err = error_from_json(error_to_json(jido.TimeoutError("slow")))
        >>> (type(err).__name__, err.retryable)
        ('TimeoutError', True)
    """
    err = _build(data)
    if isinstance(err, JidoError):
        return err
    wrapper = jido_errors.InternalError(
        str(data.get("message", "")), details={"type": data.get("type")}
    )
    wrapper.__cause__ = err
    return wrapper


def _build(data: Mapping[str, Any]) -> BaseException:
    code = str(data.get("type", ""))
    message = str(data.get("message", ""))
    cls = _BY_TYPE.get(code)
    err: BaseException
    if cls is not None:
        err = cls(
            message,
            details=data.get("details") or {},
            retryable=data.get("retryable"),
            retry_after=data.get("retry_after"),
        )
    elif "." in code:
        err = jido_errors.RemoteError(code, message)
    else:
        err = jido_errors.InternalError(
            message, details={**(data.get("details") or {}), "type": code}
        )
    cause = data.get("cause")
    if isinstance(cause, Mapping):
        err.__cause__ = _build(cause)
    return err
