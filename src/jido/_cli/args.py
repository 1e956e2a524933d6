"""What the ``jido`` command accepts: numbers, JSON objects, ``MODULE:ACTION`` targets.

Each check raises :class:`UsageError` (or argparse's ``ArgumentTypeError``) with a
one-line message; the command prints it and exits with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
from collections.abc import Callable
from typing import Any

from jido._action.action import spec_of
from jido._core.errors import JidoError
from jido._core.safe import describe, exception_text, type_name

__all__ = ["UsageError", "count", "load_action", "parse_object", "seconds", "version"]


class UsageError(Exception):
    """Bad input to the command: printed as one line, exit code 2."""


def version() -> str:
    """The installed distribution's version (the package's own when not installed)."""
    from importlib import metadata

    try:
        return metadata.version("jido")
    except metadata.PackageNotFoundError:
        import jido

        return jido.__version__


def seconds(text: str) -> float:
    """A finite number of seconds >= 0 (argparse ``type=``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def count(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type=`` for an integer in ``[minimum, maximum]``."""
    bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected an integer {bounds}, got {text!r}")
        return value

    return parse


def parse_object(option: str, text: str) -> dict[str, Any]:
    """The JSON object given to ``option``."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise UsageError(f"{option} is nested too deeply") from None
    except ValueError as exc:
        problem = exc.msg if isinstance(exc, json.JSONDecodeError) else type_name(exc)
        raise UsageError(f"{option} is not valid JSON ({problem})") from None
    if not isinstance(value, dict):
        raise UsageError(f"{option} must be a JSON object, got {type_name(value)}")
    return value


def load_action(target: str) -> object:
    """The action ``MODULE:ACTION`` names (``main`` puts the current directory on the path)."""
    module_name, _, qualname = target.partition(":")
    if not module_name or not qualname:
        raise UsageError(f"expected MODULE:ACTION (e.g. myapp.actions:send_email), got {target!r}")
    found: Any = _import(module_name)
    for part in qualname.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise UsageError(f"{module_name}:{qualname}: {part!r} not found") from None
        except Exception as exc:
            raise UsageError(f"{target}: reading {part!r} raised {_text(exc)}") from None
    try:
        spec_of(found)
    except JidoError:
        raise UsageError(f"{target} is not a jido action (got {describe(found)})") from None
    return found


def _import(module_name: str) -> object:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UsageError(f"cannot import {module_name!r}: {exception_text(exc)}") from None
    except Exception as exc:
        raise UsageError(f"importing {module_name!r} raised {_text(exc)}") from None


def _text(exc: BaseException) -> str:
    text = exception_text(exc).splitlines()
    return f"{type_name(exc)}: {text[0]}" if text else type_name(exc)
