"""Instructions: an action with its params, context and options, as one frozen value.

Every accepted way of writing "run this action with these inputs" is normalized here:
a bare action, ``(action, params)``, ``(action, params, context)``,
``(action, params, context, opts)``, an :class:`Instruction`, or a list of those.
Malformed input is a :class:`~jido.ValidationError` that names its position and form;
an unknown or invalid option is a :class:`~jido.ConfigError`.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, NoReturn

from jido._action.action import ActionSpec, spec_of
from jido._core.errors import ConfigError, JidoError, ValidationError
from jido._core.normalize import normalize_context, normalize_params
from jido._core.options import RunOptions, cache_key
from jido._core.safe import describe, type_name
from jido._observe.redact import redact, redact_text

if TYPE_CHECKING:
    from jido._run.ref import AsyncRef
    from jido._runtime.runtime import Runtime

__all__ = ["Instruction", "check_allowed", "check_options", "new_id", "normalize"]

_FORMS: Final = {
    2: "(action, params)",
    3: "(action, params, context)",
    4: "(action, params, context, opts)",
}
_EMPTY: Final[Mapping[Any, Any]] = MappingProxyType({})
_ID_LOCK: Final = threading.Lock()


def new_id() -> str:
    """A UUIDv7 string: unique, and sortable by creation time."""
    return _uuid7(time.time_ns() // 1_000_000)


def _uuid7(millis: int) -> str:
    """A UUIDv7 string for a creation time of ``millis`` (Unix epoch milliseconds)."""
    value = (millis & (2**48 - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def check_options(opts: object, where: str) -> dict[str, Any]:
    """Run options as a dict, validated by the core (an unknown or bad option: ConfigError)."""
    if opts is None:
        return {}
    try:
        out = normalize_context(opts)
    except ValidationError:
        raise ConfigError(
            f"{where}: options must be a mapping of run options, got {type_name(opts)}",
            details={"type": type_name(opts)},
        ) from None
    if not out:
        return out
    names = tuple(map(type, out))
    key = cache_key(out) if names.count(str) == len(names) else None
    if key is not None and key in _CHECKED:
        return out
    try:
        _DEFAULTS.merge(out)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc.message}", details=exc.details) from exc
    if key is not None:
        if len(_CHECKED) >= 256:
            _CHECKED.clear()
        _CHECKED[key] = None
    return out


_DEFAULTS: Final = RunOptions()
_CHECKED: dict[Any, None] = {}
"""Option sets already found valid (plain values only): checking them again is a lookup."""


class Instruction:
    """An action with its params, context and run options; immutable.

    ``params``, ``context`` and ``opts`` are read-only mappings (the values inside are
    not copied, so a context can carry a session or a client). ``opts`` are run options
    (``timeout``, ``max_retries``, ...), validated on creation. ``id`` defaults to a
    UUIDv7 string.

    Args:
        action: an ``Action`` subclass or a ``@jido.action`` function.
        params: a mapping, ``(key, value)`` pairs, a pydantic model or None.
        context: a mapping, ``(key, value)`` pairs or None.
        opts: run options for this instruction, or None.
        id: a string id (default: a new UUIDv7).

    Raises:
        jido.ValidationError: a non-action, or params/context of the wrong type.
        jido.ConfigError: an unknown or invalid run option.

    Example:
        >>> import jido
        >>> @jido.action
        ... def add(value: int, amount: int = 1) -> dict:
        ...     return {"value": value + amount}
        >>> step = jido.Instruction(add, {"value": 1}, opts={"timeout": 2.0})
        >>> step.name, dict(step.params), step.run()
        ('add', {'value': 1}, {'value': 2})
    """

    __slots__ = ("_action", "_context", "_id", "_opts", "_params", "_spec")

    _action: Any
    _params: Mapping[str, Any]
    _context: Mapping[Any, Any]
    _opts: Mapping[str, Any]
    _id: str | int  # an int: the creation time of an id made when first read
    _spec: ActionSpec

    def __init__(
        self,
        action: object,
        params: object = None,
        context: object = None,
        opts: object = None,
        *,
        id: str | None = None,
    ) -> None:
        spec = _spec(action, None, "Instruction(...)")
        setter = object.__setattr__
        setter(self, "_spec", spec)
        setter(self, "_action", action)
        setter(self, "_params", _frozen(_params(params, None, "Instruction(...)")))
        setter(self, "_context", _frozen(_context(context, None, "Instruction(...)")))
        setter(self, "_opts", _frozen(check_options(opts, "Instruction(...)")))
        setter(self, "_id", _check_id(id))

    @property
    def action(self) -> Any:
        """The action (an ``Action`` subclass or a ``@jido.action`` function)."""
        return self._action

    @property
    def params(self) -> Mapping[str, Any]:
        """The params (read-only)."""
        return self._params

    @property
    def context(self) -> Mapping[Any, Any]:
        """The context (read-only; the values are the ones given, not copies)."""
        return self._context

    @property
    def opts(self) -> Mapping[str, Any]:
        """The run options, validated (read-only)."""
        return self._opts

    @property
    def id(self) -> str:
        """A unique id (a UUIDv7 string unless one was given)."""
        value = self._id
        if isinstance(value, str):
            return value
        with _ID_LOCK:  # made once, whichever thread reads it first
            value = self._id
            if not isinstance(value, str):
                value = _uuid7(value)
                object.__setattr__(self, "_id", value)
        return value

    @property
    def name(self) -> str:
        """The action's name."""
        return self._spec.name

    def replace(self, **changes: Any) -> Instruction:
        """A copy with some of ``action``, ``params``, ``context``, ``opts``, ``id`` replaced."""
        unknown = set(changes) - {"action", "params", "context", "opts", "id"}
        if unknown:
            raise ConfigError(
                f"Instruction.replace() got unknown fields: {sorted(unknown)}",
                details={"fields": sorted(unknown)},
            )
        fields = {k: getattr(self, k) for k in ("action", "params", "context", "opts")}
        fields.update(changes)
        return Instruction(**fields, id=changes.get("id", self.id))

    def run(self, *, runtime: Runtime | None = None) -> dict[str, Any]:
        """Run it with :func:`jido.run` (or on ``runtime``) and return the result."""
        return _runtime(runtime).run(self.action, self.params, self.context, **self.opts)

    async def arun(self, *, runtime: Runtime | None = None) -> dict[str, Any]:
        """Run it inside asyncio, like :func:`jido.arun`."""
        return await _runtime(runtime).arun(self.action, self.params, self.context, **self.opts)

    def run_async(self, *, runtime: Runtime | None = None) -> AsyncRef:
        """Start it and return its :class:`jido.AsyncRef`, like :func:`jido.run_async`."""
        return _runtime(runtime).run_async(self.action, self.params, self.context, **self.opts)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"Instruction is immutable; use .replace({name}=...)")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Instruction is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instruction):
            return NotImplemented
        return _key(self) == _key(other)

    __hash__ = None  # type: ignore[assignment]  # holds mappings: not hashable

    def __repr__(self) -> str:
        parts = [self.name]
        for field in ("params", "context", "opts"):
            value = getattr(self, field)
            if value:
                parts.append(f"{field}={redact(dict(value))!r}")
        parts.append(f"id={self.id!r}")
        return f"Instruction({', '.join(parts)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.action, *map(dict, _key(self)[1:4]), self.id))


def _rebuild(action: object, params: object, context: object, opts: object, id: str) -> Instruction:
    return Instruction(action, params, context, opts, id=id)


def _key(instr: Instruction) -> tuple[Any, ...]:
    return (instr.action, instr.params, instr.context, instr.opts, instr.id)


def _runtime(runtime: Runtime | None) -> Runtime:
    from jido._workflow.composite import pick_runtime

    return pick_runtime(runtime)


# -- normalization --------------------------------------------------------------------------------
def normalize(
    instructions: object, context: object = None, opts: object = None
) -> list[Instruction]:
    """Turn any accepted instruction form, or a list of them, into a list of Instructions.

    A shared ``context`` is merged into every instruction's own context and shared
    ``opts`` into its options; the shared values win (Jido's rule). A list may not
    contain a list. An ``Instruction`` keeps its id.

    Raises:
        jido.ValidationError: a malformed item; ``details`` has ``index`` (None for a
            single item) and ``form``.
        jido.ConfigError: an unknown or invalid run option.

    Example:
        >>> import jido
        >>> from jido.workflow import normalize
        >>> @jido.action
        ... def ping() -> dict:
        ...     return {}
        >>> steps = normalize([ping, (ping, {"n": 1}), (ping, {}, {"user": 7})], {"tenant": "a"})
        >>> [dict(s.context) for s in steps]
        [{'tenant': 'a'}, {'tenant': 'a'}, {'user': 7, 'tenant': 'a'}]
    """
    shared_context = _context(context, None, "shared context")
    shared_opts = check_options(opts, "shared options")
    if not isinstance(instructions, list):
        return [_one(instructions, None, shared_context, shared_opts)]
    out = []
    bare = (_frozen(shared_context), _frozen(shared_opts), time.time_ns() // 1_000_000)
    for index, item in enumerate(instructions):
        try:  # the common case first: an action alone (what spec_of reads)
            spec = item.__jido_action__
        except Exception:
            spec = None
        if type(spec) is ActionSpec:
            out.append(_bare(spec, item, *bare))
            continue
        if isinstance(item, list):
            _invalid(index, "list", "nested lists are not allowed")
        out.append(_one(item, index, shared_context, shared_opts))
    return out


def _one(
    item: object, index: int | None, context: dict[Any, Any], opts: dict[str, Any]
) -> Instruction:
    if isinstance(item, Instruction):
        merged_context = {**item.context, **context}
        return item.replace(context=merged_context, opts={**item.opts, **opts})
    if isinstance(item, tuple):
        return _from_tuple(item, index, context, opts)
    if _is_action(item):
        return Instruction(item, None, context or None, opts or None)
    hint = " (write an action with its params as a tuple: (action, params))"
    raise _error(
        index,
        type(item).__name__,
        "expected an action, an Instruction or a tuple (action, params[, context[, opts]]), "
        f"got {_describe(item)}{hint if isinstance(item, Mapping) else ''}",
    )


def _bare(
    spec: ActionSpec,
    action: object,
    context: Mapping[Any, Any],
    opts: Mapping[str, Any],
    millis: int,
) -> Instruction:
    """An action alone, with a list's shared (checked, read-only) context and options."""
    instr = Instruction.__new__(Instruction)
    _SET_SPEC(instr, spec)  # the slots' own setters: a chain normalizes every step
    _SET_ACTION(instr, action)
    _SET_PARAMS(instr, _EMPTY)
    _SET_CONTEXT(instr, context)
    _SET_OPTS(instr, opts)
    _SET_ID(instr, millis)
    return instr


_SET_SPEC, _SET_ACTION, _SET_PARAMS, _SET_CONTEXT, _SET_OPTS, _SET_ID = (
    Instruction.__dict__[slot].__set__
    for slot in ("_spec", "_action", "_params", "_context", "_opts", "_id")
)


def _from_tuple(
    item: tuple[Any, ...], index: int | None, context: dict[Any, Any], opts: dict[str, Any]
) -> Instruction:
    form = _FORMS.get(len(item))
    if form is None:
        _invalid(
            index,
            f"tuple of {len(item)}",
            "expected (action, params), (action, params, context) or "
            f"(action, params, context, opts), got a tuple of {len(item)} elements",
        )
    action, params, own_context, own_opts = (*item, None, None)[:4]
    _spec(action, index, form)
    where = _where(index, form)
    return Instruction(
        action,
        _params(params, index, form),
        {**_context(own_context, index, form), **context},
        {**check_options(own_opts, where), **opts},
    )


def _is_action(value: object) -> bool:
    try:
        spec_of(value)
    except JidoError:
        return False
    return True


def _spec(action: object, index: int | None, form: str) -> ActionSpec:
    try:
        return spec_of(action)
    except JidoError as exc:
        raise _error(
            index,
            form,
            "expected an action (an Action subclass or a @jido.action function), "
            f"got {_describe(action)}",
        ) from exc


def _params(params: object, index: int | None, form: str) -> dict[str, Any]:
    try:
        return normalize_params(params)
    except ValidationError as exc:
        raise _error(index, form, f"params: {exc.message}") from exc


def _context(context: object, index: int | None, form: str) -> dict[Any, Any]:
    try:
        return normalize_context(context)
    except ValidationError as exc:
        raise _error(index, form, f"context: {exc.message}") from exc


def _check_id(value: object) -> str | int:
    if value is None:
        return time.time_ns() // 1_000_000  # the id itself is made when first read
    if isinstance(value, str) and value:
        return value
    raise ValidationError(
        f"Invalid instruction id: expected a non-empty string, got {_describe(value)}",
        details={"index": None, "form": "Instruction(...)"},
    )


def _frozen(values: dict[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(values) if values else _EMPTY


def _where(index: int | None, form: str) -> str:
    at = "" if index is None else f" at index {index}"
    return f"Invalid instruction{at} written as {form}"


def _error(index: int | None, form: str, problem: str) -> ValidationError:
    return ValidationError(
        f"{_where(index, form)}: {problem}", details={"index": index, "form": form}
    )


def _invalid(index: int | None, form: str, problem: str) -> NoReturn:
    raise _error(index, form, problem)


def _describe(value: object) -> str:
    """What was given where an action was expected; a container (params written in the
    wrong place, most likely) is described by its type and size, never its values."""
    if type(value) in (dict, list, tuple, set, frozenset):
        return f"a {type_name(value)} of {len(value)} items"  # type: ignore[arg-type]
    if isinstance(value, Mapping):
        return f"a {type_name(value)}"
    return f"{type_name(value)} {redact_text(describe(value, 60))}"


# -- allow-lists ----------------------------------------------------------------------------------
def check_allowed(instructions: object, allowed: Iterable[object]) -> None:
    """Raise :class:`jido.ConfigError` unless every instruction's action is allowed.

    Args:
        instructions: one instruction form, or a list (normalized first).
        allowed: actions, or action names (strings), that may run.

    Raises:
        jido.ConfigError: ``"Actions not allowed: a, b"``; ``details`` has ``actions``
            (the disallowed names) and ``allowed_actions``.

    Example:
        >>> import jido
        >>> from jido.workflow import check_allowed
        >>> @jido.action
        ... def ping() -> dict:
        ...     return {}
        >>> @jido.action
        ... def wipe_disk() -> dict:
        ...     return {}
        >>> check_allowed([ping], [ping])
        >>> try:
        ...     check_allowed([ping, wipe_disk], ["ping"])
        ... except jido.ConfigError as e:
        ...     print(e.message)
        Actions not allowed: wipe_disk
    """
    actions, names = _allowed(allowed)
    denied: list[str] = []
    for instr in normalize(instructions):
        ok = instr.name in names or any(instr.action is a for a in actions)
        if not ok and instr.name not in denied:
            denied.append(instr.name)
    if denied:
        labels = names | {spec_of(a).name for a in actions}
        raise ConfigError(
            f"Actions not allowed: {', '.join(denied)}",
            details={"actions": denied, "allowed_actions": sorted(labels)},
        )


def _allowed(allowed: Iterable[object]) -> tuple[list[object], set[str]]:
    """Split an allow-list into actions (matched by identity) and names (matched by name)."""
    if isinstance(allowed, str | bytes) or not isinstance(allowed, Iterable):
        raise ConfigError(
            f"allowed must be a list of actions or action names, got {type_name(allowed)}"
        )
    actions: list[object] = []
    names: set[str] = set()
    try:
        entries = list(allowed)
    except Exception as exc:
        raise ConfigError(f"allowed could not be read: {type_name(exc)}") from exc
    for entry in entries:
        if isinstance(entry, str):
            names.add(str.__str__(entry))
        elif _is_action(entry):
            actions.append(entry)
        else:
            raise ConfigError(f"allowed: {_describe(entry)} is neither an action nor a name")
    return actions, names
