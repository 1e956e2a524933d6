"""What a durable run records so that another process can run it again, and its fingerprint.

An action travels by reference (``"module:qualname"``, as for process isolation and Ray;
an action defined in the script itself is ``"__main__:name"`` and resolves in the script
that resumes it), with its version. Run options are stored as JSON, exception types and
predicates by reference. Context values are stored only when they are JSON; live ones
(a database session, a client) must come from the runtime (``Runtime(context=...)``) so
that a resumed run gets them again.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any

from jido._action.action import ActionSpec, spec_of
from jido._action.refs import resolve
from jido._core.errors import ValidationError
from jido._core.options import RetryPolicy
from jido._store.codec import encode

__all__ = [
    "action_entry",
    "decode_options",
    "encode_options",
    "fingerprint",
    "load_action",
    "stored_context",
]

_LIVE_HINT = (
    "a durable run stores its context as JSON; provide live values (a session, a client) "
    "with jido.Runtime(store=..., context={...}) so that a resumed run gets them again"
)


def reference(target: object, name: str) -> str:
    """``"module:qualname"`` naming ``target``, or a ValidationError saying why there is none."""
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and "<locals>" not in qualname:
        ref = f"{module}:{qualname}"
        try:
            found = _resolve(ref)
        except Exception:  # not importable by that name
            found = None
        if found is target:
            return ref
    raise ValidationError(
        f"Action '{name}' cannot run durably: a resumed run finds it by module path, so it "
        "must be defined at module level (not in a function, not a lambda)",
        details={"action": name},
    )


def _resolve(ref: str) -> Any:
    module, _, qualname = ref.partition(":")
    if module == "__main__":
        target: Any = sys.modules["__main__"]
        for part in qualname.split("."):
            target = getattr(target, part)
        return target
    return resolve(ref)


def action_entry(spec: ActionSpec) -> dict[str, Any]:
    """How a definition names an action: its reference, version and schema digest."""
    return {
        "action": reference(spec.target, spec.name),
        "version": spec.version,
        "schema": _schema_digest(spec),
    }


def load_action(entry: Mapping[str, Any]) -> tuple[Any, ActionSpec]:
    """The action an entry names, checked against what was recorded (else a reason, raised).

    Raises:
        LookupError: the reason the run cannot be resumed with the code loaded now.
    """
    ref = str(entry.get("action"))
    try:
        target = _resolve(ref)
        spec = spec_of(target)
    except Exception as exc:
        raise LookupError(f"action {ref} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    if spec.version != entry.get("version"):
        raise LookupError(
            f"action {ref} is at version {spec.version!r}, the run was recorded with "
            f"{entry.get('version')!r}"
        )
    if _schema_digest(spec) != entry.get("schema"):
        raise LookupError(f"the params schema of action {ref} changed since the run was recorded")
    return target, spec


_DIGESTS: dict[ActionSpec, str] = {}
"""Schema digests by spec: a JSON schema takes milliseconds to build, and a chain of
twenty steps would build it twenty times per start. Only specs of module-level actions
(the only ones a durable run accepts) get here, so the cache stays small."""


def _schema_digest(spec: ActionSpec) -> str:
    digest = _DIGESTS.get(spec)
    if digest is None:
        try:
            schema = spec.schema.model.model_json_schema() if spec.schema else None
            text = json.dumps(schema, sort_keys=True, default=str)
        except Exception:  # a schema pydantic cannot describe: compare nothing
            text = ""
        digest = _DIGESTS[spec] = hashlib.sha256(text.encode()).hexdigest()[:16]
    return digest


def fingerprint(shape: Any) -> str:
    """A digest of a definition's shape: steps, actions, versions, schemas, dependencies."""
    text = json.dumps(shape, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# -- options ------------------------------------------------------------------------------------
_POLICY_FIELDS = tuple(f.name for f in fields(RetryPolicy))


def encode_options(opts: Mapping[str, Any], where: str = "options") -> dict[str, Any]:
    """Run options as JSON: exception types and predicates by reference."""
    out: dict[str, Any] = {}
    for key, value in opts.items():
        if key == "retry_on":
            out[key] = _encode_retry_on(value, where)
        elif key == "retry" and isinstance(value, RetryPolicy):
            policy = asdict(value)
            policy["retry_on"] = _encode_retry_on(value.retry_on, where)
            out[key] = {"policy": policy}
        else:
            encode(value, f"{where}[{key!r}]", "durable runs store their options as JSON")
            out[key] = value
    return out


def decode_options(data: Mapping[str, Any]) -> dict[str, Any]:
    """The run options :func:`encode_options` stored (references imported again)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "retry_on":
            out[key] = _decode_retry_on(value)
        elif key == "retry" and isinstance(value, Mapping) and "policy" in value:
            policy = dict(value["policy"])
            policy["retry_on"] = _decode_retry_on(policy.get("retry_on"))
            out[key] = RetryPolicy(**{k: policy[k] for k in _POLICY_FIELDS if k in policy})
        else:
            out[key] = value
    return out


def _encode_retry_on(value: Any, where: str) -> Any:
    if value is None:
        return None
    if isinstance(value, type):
        return {"types": [_ref_of(value, where)]}
    if isinstance(value, tuple):
        return {"types": [_ref_of(t, where) for t in value]}
    return {"predicate": _ref_of(value, where)}


def _decode_retry_on(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return None
    if "types" in value:
        return tuple(_resolve(ref) for ref in value["types"])
    return _resolve(value["predicate"])


def _ref_of(target: object, where: str) -> str:
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and "<locals>" not in qualname:
        ref = f"{module}:{qualname}"
        try:
            if _resolve(ref) is target:
                return ref
        except Exception:  # not importable by that name
            pass
    raise ValidationError(
        f"{where}: retry_on of a durable run must be importable by module path (a module-level "
        "exception type or function), so that a resumed run can use it again",
        details={"option": "retry_on"},
    )


# -- context ------------------------------------------------------------------------------------
def stored_context(context: Mapping[Any, Any]) -> dict[str, Any]:
    """The context a caller gave a durable run, checked to be storable as JSON.

    Raises:
        ValidationError: a value that is not JSON (a live object passed per call), naming
            the key and how to provide it instead.
    """
    out: dict[str, Any] = {}
    for key, value in context.items():
        if not isinstance(key, str):
            raise ValidationError(
                "context keys of a durable run must be strings", details={"path": "context"}
            )
        encode(value, f"context[{key!r}]", _LIVE_HINT)
        out[key] = value
    return out
