"""What a call returns to the model: the result dict as JSON, or a structured error.

Shared by the MCP server and the adapters. An error body is always
``{type, message, retryable, retry_after, details}``, redacted, with no traceback.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pydantic_core

import jido
from jido._mcp._internal import redact, redact_text

__all__ = ["error_body", "jsonable", "unexpected"]

log = logging.getLogger("jido.mcp")


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (pydantic models, dates, sets... converted; NaN to null)."""
    return pydantic_core.to_jsonable_python(value, fallback=_text, inf_nan_mode="null")


def dumps(value: Any) -> str:
    """Plain JSON data as compact text (non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def error_body(error: jido.JidoError) -> dict[str, Any]:
    """The structured error a model sees: type, message, retryable, retry_after, details.

    Details are redacted (secrets masked, sizes bounded); the message never holds params.
    """
    return {
        "type": error.type,
        "message": redact_text(error.message),
        "retryable": error.retryable,
        "retry_after": error.retry_after,
        "details": jsonable(redact(_public_details(error.details))),
    }


def unexpected(exc: BaseException, where: str) -> jido.InternalError:
    """An error jido itself did not expect, logged here, reported without a traceback."""
    log.error("jido: unexpected error while %s", where, exc_info=exc)
    return jido.InternalError(
        f"internal error while {where} ({type(exc).__name__}); the server log has the details",
        details={"exception": type(exc).__name__},
    )


def _public_details(details: dict[str, Any]) -> dict[str, Any]:
    """Details minus what only the server should see (compensation internals stay, redacted)."""
    return {k: v for k, v in details.items() if k not in ("traceback", "cause")}


def _text(value: Any) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__}>"
