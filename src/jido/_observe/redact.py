"""Redaction of secrets and truncation of long values, for anything jido logs or reports.

Keys such as ``password``, ``token``, ``secret``, ``api_key`` or ``authorization``
have their values masked; ``Bearer``/``Basic`` credentials in text are masked;
long strings are truncated. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MASK", "is_secret_key", "redact", "redact_text"]

MASK = "[REDACTED]"
MAX_TEXT = 256
MAX_DEPTH = 4
MAX_ITEMS = 25

_SECRET = (
    r"password|passwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|"
    r"private[_-]?key|authorization|auth|cookie|session|credential"
)
_KEY_RE = re.compile(rf"(?i)({_SECRET})")
_ASSIGN_RE = re.compile(  # key=value, key: value, 'key': 'value', "key": "value"
    rf"(?i)\b([\w.-]*(?:{_SECRET})[\w.-]*)(['\"]?\s*[=:]\s*)(['\"]?)([^\s'\",;&}}]+)(\3)"
)
_BEARER_RE = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+")


def is_secret_key(key: object) -> bool:
    """True when a mapping key names a secret (``"api_key"``, ``"X-Auth-Token"``...)."""
    return isinstance(key, str) and _KEY_RE.search(key) is not None


def redact_text(text: str, limit: int = MAX_TEXT) -> str:
    """Mask ``key=value`` secrets and bearer credentials in ``text``; truncate past ``limit``."""
    text = _BEARER_RE.sub(lambda m: f"{m[1]} {MASK}", text)
    text = _ASSIGN_RE.sub(lambda m: f"{m[1]}{m[2]}{m[3]}{MASK}{m[5]}", text)
    if len(text) > limit:
        text = f"{text[:limit]}...(truncated {len(text) - limit} chars)"
    return text


def redact(value: Any, *, depth: int = 0) -> Any:
    """A copy of ``value`` safe to log: secrets masked, strings truncated, depth and size bounded.

    Example:
        >>> redact({"user": "ada", "password": "hunter2"})
        {'user': 'ada', 'password': '[REDACTED]'}
    """
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= MAX_DEPTH:
        return f"<{type(value).__name__} truncated at depth {MAX_DEPTH}>"
    if isinstance(value, Mapping):
        return _redact_mapping(value, depth)
    if isinstance(value, list | tuple | set | frozenset):
        items = [redact(v, depth=depth + 1) for v in list(value)[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            items.append(f"...({len(value) - MAX_ITEMS} more)")
        return items
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not break what is being reported
        text = f"<{type(value).__name__} (repr failed)>"
    return redact_text(text)


def _redact_mapping(value: Mapping[Any, Any], depth: int) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for i, (k, v) in enumerate(value.items()):
        if i == MAX_ITEMS:
            out["..."] = f"({len(value) - MAX_ITEMS} more)"
            break
        out[k] = MASK if is_secret_key(k) else redact(v, depth=depth + 1)
    return out
