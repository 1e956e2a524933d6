"""Showing values that came from outside in a message, whatever they are.

An error message that names what it was given must not fail itself: a ``__repr__`` that
raises, an int of 10,000 digits (whose ``repr`` raises), a list nested 100,000 deep or a
string of a megabyte. Every message that shows a value goes through :func:`describe`;
every message that shows an exception's text goes through :func:`exception_text`.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_DESCRIBED", "describe", "exception_text", "type_name"]

MAX_DESCRIBED: Final = 80
"""Characters of a value's ``repr`` kept in a message."""

_BIG_INT_BITS: Final = 256
_EXACT_TEXT: Final = (str, bytes, bytearray)


def type_name(value: object) -> str:
    """The name of ``value``'s class (``"int"``, ``"MyThing"``); never raises.

    Example:
        >>> type_name(3), type_name(None)
        ('int', 'NoneType')
    """
    try:
        name = type(value).__qualname__
    except Exception:  # a metaclass that hides its name
        return "object"
    return name if type(name) is str else "object"


def describe(value: object, limit: int = MAX_DESCRIBED) -> str:
    """A short ``repr`` of ``value`` for a message: bounded, and never raising.

    Example:
        >>> describe("abc"), describe(10**5000)
        ("'abc'", '<int of about 5001 digits>')
        >>> class Broken:
        ...     def __repr__(self):
        ...         raise RuntimeError("no")
        >>> describe(Broken())
        '<Broken object (its repr raised RuntimeError)>'
    """
    kind = type(value)
    if kind is int and int.bit_length(value) > _BIG_INT_BITS:  # type: ignore[arg-type]
        return f"<int of about {_digits(value)} digits>"  # type: ignore[arg-type]
    if kind in _EXACT_TEXT and len(value) > limit:  # type: ignore[arg-type]
        value = value[: limit + 1]  # type: ignore[index]
    try:
        text = repr(value)
    except Exception as exc:  # a raising or recursing repr, an int too long to print
        return f"<{type_name(value)} object (its repr raised {type_name(exc)})>"
    if type(text) is not str:  # pragma: no cover - repr() itself enforces str
        return f"<{type_name(value)} object>"
    return text if len(text) <= limit else f"{text[:limit]}..."


def exception_text(exc: BaseException) -> str:
    """``str(exc)``, or a placeholder when that raises; never raises.

    Example:
        >>> exception_text(ValueError("bad input"))
        'bad input'
    """
    try:
        text = str(exc)
    except Exception as inner:
        return f"<{type_name(exc)} (its str raised {type_name(inner)})>"
    return text if type(text) is str else ""


def _digits(value: int) -> int:
    """Decimal digits of a big int, from its bit length (exact enough for a message)."""
    return int(int.bit_length(value) * 0.30102999566398120) + 1
