"""Redaction of secrets and truncation of long values, for anything jido logs or reports.

Keys such as ``password``, ``token``, ``secret``, ``api_key`` or ``authorization``
have their values masked (in mappings, and in text as ``key=value``, quoted or not);
``Authorization`` credentials in text are masked whatever their scheme; long strings
are truncated. Pure functions, no I/O.
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
_ASSIGN_RE = re.compile(  # key=value, key: value, 'key': 'value', "key": "value with spaces"
    rf"(?i)\b(?P<key>[\w.-]*(?:{_SECRET})[\w.-]*)(?P<sep>['\"]?\s*[=:]\s*)"
    r"(?:(?P<q>['\"])(?P<quoted>(?:\\.|(?!(?P=q))[^\\])*)(?P=q)"  # a quoted value, escapes kept
    r"|(?P<open>['\"])[^\n]*"  # a quote never closed (cut text): masked to the end of the line
    r"|(?P<bare>[^\s'\",;&}]+))"
)
_AUTH_RE = re.compile(  # Authorization: <scheme> <credential>
    r"(?i)\b(?P<head>(?:[\w-]*authorization|auth)['\"]?\s*[=:]\s*['\"]?)"
    r"(?P<scheme>[A-Za-z][\w.+-]*)(?P<cred>[ \t]+(?![\w.-]+=[^=\s])[^\s'\",;&}]+)?"
)
_SCHEMES = frozenset(
    {
        "apikey",
        "aws4-hmac-sha256",
        "basic",
        "bearer",
        "digest",
        "dpop",
        "hawk",
        "hoba",
        "jwt",
        "key",
        "mutual",
        "negotiate",
        "ntlm",
        "oauth",
        "sharedaccesssignature",
        "ssws",
        "token",
    }
)
"""Authorization schemes kept in text (their credential is masked); any other first word
of an Authorization value is masked with what follows it."""
_BEARER_RE = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+")
_MASKED_NEXT = re.compile(rf"[ \t]+{re.escape(MASK)}")


def is_secret_key(key: object) -> bool:
    """True when a mapping key names a secret (``"api_key"``, ``"X-Auth-Token"``...)."""
    return isinstance(key, str) and _KEY_RE.search(key) is not None


def redact_text(text: str, limit: int = MAX_TEXT) -> str:
    """Mask secrets in ``text``; truncate past ``limit``.

    Masked: the value of ``key=value``/``key: value`` pairs whose key names a secret
    (quoted values whole, spaces included), the value of an ``Authorization`` header (a
    well-known scheme such as ``Bearer``, ``Basic`` or ``Token`` is kept, its credential
    masked), and ``Bearer``/``Basic`` credentials anywhere.

    Example:
        >>> redact_text("Authorization: Token abc123 password='a b' user=ada")
        "Authorization: Token [REDACTED] password='[REDACTED]' user=ada"
    """
    text = _BEARER_RE.sub(lambda m: f"{m[1]} {MASK}", text)
    text = _AUTH_RE.sub(_mask_auth, text)
    text = _ASSIGN_RE.sub(_mask_value, text)
    if len(text) > limit:
        text = f"{text[:limit]}...(truncated {len(text) - limit} chars)"
    return text


def _mask_auth(m: re.Match[str]) -> str:
    if m["cred"] is not None and m["scheme"].lower() in _SCHEMES:
        return f"{m['head']}{m['scheme']} {MASK}"
    return f"{m['head']}{MASK}"


def _mask_value(m: re.Match[str]) -> str:
    head = f"{m['key']}{m['sep']}"
    if m["q"] is not None:
        return f"{head}{m['q']}{MASK}{m['q']}"
    if m["open"] is not None:
        return f"{head}{m['open']}{MASK}"
    if _MASKED_NEXT.match(m.string, m.end()):  # an auth scheme whose credential is masked
        return m[0]
    return f"{head}{MASK}"


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
