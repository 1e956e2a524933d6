"""Defining actions: the ``Action`` base class and the ``@action`` decorator.

Both forms compile, when they are defined, into one :class:`ActionSpec` that the
runners use; a broken definition raises :class:`~jido.InvalidActionError` at once.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, ParamSpec, TypeVar

import pydantic

from jido._action.schema import Schema
from jido._core.errors import ExecutionError, InvalidActionError, JidoError, ValidationError
from jido._core.normalize import normalize_params
from jido._core.options import check_seconds
from jido._core.safe import describe as describe_value
from jido._core.safe import exception_text, type_name
from jido._observe.redact import redact_text

__all__ = ["ANNOTATIONS", "Action", "ActionSpec", "check_annotations", "describe", "spec_of"]

P = ParamSpec("P")
R = TypeVar("R")

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
ANNOTATIONS = ("title", "read_only", "destructive", "idempotent", "open_world")
"""Optional facts an action may declare about itself (tool annotations for agents)."""
_HOOKS = (
    "on_before_validate_params",
    "on_after_validate_params",
    "on_before_validate_output",
    "on_after_validate_output",
    "on_after_run",
)


class ActionSpec:
    """Everything the runners need to know about an action, computed once."""

    __slots__ = (
        "annotations",
        "category",
        "compensation_timeout",
        "description",
        "has_on_error",
        "hooks",
        "interruptible",
        "invoke",
        "is_async",
        "is_async_on_error",
        "make_instance",
        "name",
        "output_schema",
        "param_hooks",
        "plain_result",
        "schema",
        "tags",
        "target",
        "version",
    )

    def __init__(
        self,
        *,
        target: Any,
        name: str,
        description: str,
        category: str | None,
        tags: tuple[str, ...],
        version: str | None,
        schema: Schema | None,
        output_schema: Schema | None,
        is_async: bool,
        invoke: Callable[[Any, dict[str, Any], dict[str, Any]], Any],
        make_instance: Callable[[], Any],
        hooks: frozenset[str],
        has_on_error: bool,
        compensation_timeout: float,
        interruptible: bool,
        is_async_on_error: bool = False,
        annotations: Mapping[str, Any] | None = None,
    ) -> None:
        self.target = target
        self.annotations: dict[str, Any] = dict(annotations or {})
        """Only what the action declared: ``title``, ``read_only``, ``destructive``..."""
        self.name = name
        self.description = description
        self.category = category
        self.tags = tags
        self.version = version
        self.schema = schema
        self.output_schema = output_schema
        self.is_async = is_async
        self.invoke = invoke
        self.make_instance = make_instance
        self.hooks = hooks
        self.has_on_error = has_on_error
        self.is_async_on_error = is_async_on_error
        self.param_hooks = bool(hooks & {"on_before_validate_params", "on_after_validate_params"})
        self.plain_result = output_schema is None and not (
            hooks - {"on_before_validate_params", "on_after_validate_params"}
        )
        self.compensation_timeout = compensation_timeout
        self.interruptible = interruptible

    def __repr__(self) -> str:
        return f"<ActionSpec {self.name}>"

    # -- params -------------------------------------------------------------------------------
    def check_params(self, instance: Any, raw: object) -> dict[str, Any]:
        """Normalize then validate raw params (the fast path when there are no hooks)."""
        schema = self.schema
        if schema is not None and type(raw) is dict and not self.param_hooks:
            return schema.validate(raw, self.name, "params")
        return self.validate_params(instance, normalize_params(raw))

    def validate_params(self, instance: Any, params: dict[str, Any]) -> dict[str, Any]:
        """Hooks and schema around the params, in Jido's order. Raises ValidationError."""
        hooks = self.hooks
        if "on_before_validate_params" in hooks:
            params = self._hook(instance, "on_before_validate_params", params, ValidationError)
        if self.schema is not None:
            params = self.schema.validate(params, self.name, "params")
        if "on_after_validate_params" in hooks:
            params = self._hook(instance, "on_after_validate_params", params, ValidationError)
        return params

    # -- results ------------------------------------------------------------------------------
    def finish(self, instance: Any, result: Any) -> dict[str, Any]:
        """Shape check, output hooks and output schema, then ``on_after_run``."""
        out = self._as_dict(result)
        hooks = self.hooks
        if "on_before_validate_output" in hooks:
            out = self._hook(instance, "on_before_validate_output", out, ExecutionError)
        if self.output_schema is not None:
            out = self.output_schema.validate(out, self.name, "output")
        if "on_after_validate_output" in hooks:
            out = self._hook(instance, "on_after_validate_output", out, ExecutionError)
        if "on_after_run" in hooks:
            out = self._hook(instance, "on_after_run", out, ExecutionError)
        return out

    def _as_dict(self, result: Any) -> dict[str, Any]:
        if type(result) is dict:
            return result
        if isinstance(result, Mapping):
            return dict(result)
        if isinstance(result, pydantic.BaseModel):
            return dict(result)
        if result is None and "returns_none" in self.hooks:
            return {}
        raise ExecutionError(
            f"Action '{self.name}' returned {type(result).__name__}; "
            "an action must return a dict (or another mapping, or a pydantic model)",
            details={"action": self.name, "returned": type(result).__name__},
            retryable=False,
        )

    def _hook(
        self, instance: Any, hook: str, value: dict[str, Any], error: type[JidoError]
    ) -> dict[str, Any]:
        try:
            out = getattr(instance, hook)(value)
        except JidoError:
            raise
        except Exception as exc:
            raise error(
                f"Action '{self.name}' hook {hook} failed: {describe(exc)}",
                details={"action": self.name, "hook": hook, "exception": type(exc).__name__},
                retryable=False,
            ) from exc
        if isinstance(out, Mapping):
            return dict(out)
        raise error(
            f"Action '{self.name}' hook {hook} returned {type(out).__name__}, expected a dict",
            details={"action": self.name, "hook": hook},
            retryable=False,
        )

    # -- errors -------------------------------------------------------------------------------
    def wrap(self, exc: BaseException) -> JidoError:
        """The JidoError for an exception raised by the action (a JidoError is kept as is).

        ``SystemExit``, ``KeyboardInterrupt`` and ``GeneratorExit`` (a ``BaseException``
        that is not an ``Exception``) fail the run without a retry: the action asked to
        stop, not to be tried again.
        """
        if isinstance(exc, JidoError):
            return exc
        err = ExecutionError(
            f"Action '{self.name}' failed: {describe(exc)}",
            details={"action": self.name, "exception": type(exc).__qualname__},
            retryable=None if isinstance(exc, Exception) else False,
        )
        err.__cause__ = exc
        return err

    def metadata(self) -> dict[str, Any]:
        """Name, description, category, tags, version and the JSON schemas."""
        return {
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "tags": list(self.tags),
            "version": self.version,
            "schema": self.schema.model.model_json_schema() if self.schema else None,
            "output_schema": (
                self.output_schema.model.model_json_schema() if self.output_schema else None
            ),
        }


def describe(exc: BaseException) -> str:
    """``"ValueError: message"`` with secrets redacted and length bounded; never raises."""
    text = exception_text(exc)
    return redact_text(f"{type_name(exc)}: {text}" if text else type_name(exc))


# -- the class form ------------------------------------------------------------------------------
class Action:
    """Base class for actions.

    Subclasses set ``name`` (letters, digits, underscores; derived from the class name
    when omitted), ``description``, optionally ``category``, ``tags``, ``version``,
    ``schema`` and ``output_schema`` (pydantic models), and implement
    ``run(self, params, context)`` as ``def`` or ``async def``. The lifecycle hooks
    below may be overridden. A class that implements neither ``run`` nor ``name`` is an
    abstract base: it holds shared hooks, schema or settings for its subclasses and is
    not itself an action (running it raises ``InvalidActionError``). A class that sets
    ``name`` must implement ``run``.

    Example:
        >>> import pydantic, jido
        >>> class Params(pydantic.BaseModel):
        ...     value: int
        ...     amount: int = 1
        >>> class Add(jido.Action):
        ...     description = "Adds amount to value"
        ...     schema = Params
        ...     def run(self, params, context):
        ...         return {"value": params["value"] + params["amount"]}
        >>> jido.run(Add, {"value": 5}, timeout=0)
        {'value': 6}
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    category: ClassVar[str | None] = None
    tags: ClassVar[tuple[str, ...]] = ()
    version: ClassVar[str | None] = None
    schema: ClassVar[type[pydantic.BaseModel] | None] = None
    output_schema: ClassVar[type[pydantic.BaseModel] | None] = None
    compensation_timeout: ClassVar[float] = 5.0
    """Seconds ``on_error`` may take before it is stopped."""
    interruptible: ClassVar[bool] = True
    """When False, a timed-out sync action is only asked to stop (its token), never interrupted."""
    title: ClassVar[str | None] = None
    """A human-readable name (for agents' tool lists); None: not declared."""
    read_only: ClassVar[bool | None] = None
    """True: does not change its environment. None: not declared (claims nothing)."""
    destructive: ClassVar[bool | None] = None
    """True: may delete or overwrite; False: only adds. None: not declared."""
    idempotent: ClassVar[bool | None] = None
    """True: calling it again with the same params has no further effect. None: not declared."""
    open_world: ClassVar[bool | None] = None
    """True: talks to the outside world (the web, other systems). None: not declared."""
    __jido_action__: ClassVar[ActionSpec]

    def __init_subclass__(cls, *, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if abstract or (cls.run is Action.run and "name" not in cls.__dict__):
            return  # a base for other actions
        cls.__jido_action__ = spec = _class_spec(cls)
        if "name" not in cls.__dict__:
            cls.name = spec.name
        if "description" not in cls.__dict__:
            cls.description = spec.description

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> Any:
        """Do the work. Return a dict; raise to fail (any exception, or a JidoError)."""
        raise NotImplementedError

    def on_before_validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Transform raw params before schema validation."""
        return params

    def on_after_validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Transform or check params after schema validation."""
        return params

    def on_before_validate_output(self, output: dict[str, Any]) -> dict[str, Any]:
        """Transform the result before output validation."""
        return output

    def on_after_validate_output(self, output: dict[str, Any]) -> dict[str, Any]:
        """Transform the result after output validation."""
        return output

    def on_after_run(self, result: dict[str, Any]) -> dict[str, Any]:
        """Called with the final result of a successful attempt; returns the result to keep."""
        return result

    def on_error(
        self, params: dict[str, Any], error: JidoError, context: dict[str, Any]
    ) -> Mapping[str, Any] | Awaitable[Mapping[str, Any]]:
        """Compensation: undo partial work after the final failed attempt.

        Overriding it turns compensation on. It runs once, with its own timeout
        (``compensation_timeout``); its result, or its failure, is reported in the
        raised error's ``details["compensation"]``.
        """
        return {}

    @classmethod
    def validate_params(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``params`` as a run would (hooks included); raises ValidationError."""
        spec = cls.__jido_action__
        return spec.validate_params(spec.make_instance(), dict(params))

    @classmethod
    def metadata(cls) -> dict[str, Any]:
        """Name, description, category, tags, version and JSON schemas (Jido's ``to_json``)."""
        return cls.__jido_action__.metadata()


def _class_spec(cls: type[Action]) -> ActionSpec:
    where = f"action class {cls.__qualname__}"
    run = cls.run if cls.run is not Action.run else None
    if run is None:  # it has a name: it means to be an action
        raise InvalidActionError(f"{where} does not implement run(self, params, context)")
    _check_arity(run, 3, where, "run(self, params, context)")
    try:
        inspect.signature(cls).bind()
    except (TypeError, ValueError) as exc:
        raise InvalidActionError(f"{where} must be constructible without arguments") from exc
    hooks = {h for h in _HOOKS if getattr(cls, h) is not getattr(Action, h)}
    for hook in hooks:
        if inspect.iscoroutinefunction(getattr(cls, hook)):
            raise InvalidActionError(f"{where}: hook {hook} must be a plain def, not async def")
    name = cls.__dict__.get("name") or _snake(cls.__name__)
    return ActionSpec(
        target=cls,
        name=_check_name(name, where),
        description=_description(cls.__dict__.get("description"), cls.__doc__, where)
        or _description(cls.description, None, where),  # a base's, when it has one
        category=_opt_str(cls.category, "category", where),
        tags=_tags(cls.tags, where),
        version=_opt_str(cls.version, "version", where),
        schema=_schema(cls.schema, "schema", where),
        output_schema=_schema(cls.output_schema, "output_schema", where),
        is_async=inspect.iscoroutinefunction(run),
        invoke=run,
        make_instance=_factory(cls),
        hooks=frozenset(hooks),
        has_on_error=cls.on_error is not Action.on_error,
        is_async_on_error=inspect.iscoroutinefunction(cls.on_error),
        compensation_timeout=_comp_timeout(cls.compensation_timeout, where),
        interruptible=bool(cls.interruptible),
        annotations=check_annotations({k: getattr(cls, k) for k in ANNOTATIONS}, where),
    )


def _factory(cls: type[Action]) -> Callable[[], Any]:
    """What makes an instance for a run: the class itself, guarded if it has an ``__init__``."""
    if cls.__init__ is object.__init__ and cls.__new__ is object.__new__:
        return cls

    def make() -> Any:
        try:
            return cls()
        except Exception as exc:
            name = cls.__dict__.get("name") or cls.__name__
            raise ExecutionError(
                f"Action '{name}' could not be created: {describe(exc)}",
                details={"action": name, "exception": type_name(exc)},
                retryable=False,
            ) from exc

    return make


# -- definition checks ---------------------------------------------------------------------------
def _check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidActionError(
            f"{where}: invalid name {describe_value(name)}; use letters, digits and underscores, "
            "starting with a letter"
        )
    return name


def _description(explicit: object, doc: str | None, where: str) -> str:
    if explicit:
        if not isinstance(explicit, str):
            raise InvalidActionError(
                f"{where}: description must be a string, got {describe_value(explicit)}"
            )
        return explicit
    return inspect.cleandoc(doc).split("\n\n")[0].replace("\n", " ") if doc else ""


def check_annotations(declared: Mapping[str, object], where: str) -> dict[str, Any]:
    """The declared annotations (None values left out), checked: a str title, bool hints."""
    out: dict[str, Any] = {}
    for key, value in declared.items():
        if value is None:
            continue
        if key == "title" and not (isinstance(value, str) and value):
            raise InvalidActionError(f"{where}: title must be a non-empty string, got {value!r}")
        if key != "title" and not isinstance(value, bool):
            raise InvalidActionError(f"{where}: {key} must be True, False or None, got {value!r}")
        out[key] = value
    return out


def _opt_str(value: object, what: str, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidActionError(f"{where}: {what} must be a string, got {describe_value(value)}")


def _tags(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, list | tuple) and all(isinstance(t, str) for t in value):
        return tuple(value)
    raise InvalidActionError(
        f"{where}: tags must be a list of strings, got {describe_value(value)}"
    )


def _schema(value: object, what: str, where: str) -> Schema | None:
    if value is None:
        return None
    if isinstance(value, type) and issubclass(value, pydantic.BaseModel):
        return Schema(value)
    raise InvalidActionError(
        f"{where}: {what} must be a pydantic model class, got {describe_value(value)}"
    )


def _comp_timeout(value: object, where: str) -> float:
    try:
        seconds = check_seconds("compensation_timeout", value, allow_none=False)
    except JidoError as exc:
        raise InvalidActionError(f"{where}: {exc.message}") from None
    assert seconds is not None
    return seconds


def _check_arity(fn: Any, count: int, where: str, expected: str) -> None:
    if not callable(fn):
        raise InvalidActionError(f"{where}: run must be a method {expected}")
    try:
        inspect.signature(fn).bind(*range(count))
    except TypeError:
        raise InvalidActionError(f"{where}: run must accept {expected}") from None


def _snake(name: str) -> str:
    return _CAMEL_RE.sub("_", name).lower()


def spec_of(action: object) -> ActionSpec:
    """The compiled spec of ``action`` (a class, an instance or a decorated function).

    Raises InvalidActionError for anything else, whatever its attributes do.
    """
    try:
        spec = action.__jido_action__  # type: ignore[attr-defined]
    except Exception:  # no such attribute, or a __getattr__ that raises something else
        spec = None
    if type(spec) is ActionSpec:
        return spec
    raise InvalidActionError(_not_an_action(action), details={"action": describe_value(action)})


def _not_an_action(action: object) -> str:
    if isinstance(action, type) and issubclass(action, Action):
        return (
            f"{action.__qualname__} is an abstract action class: it does not implement "
            "run(self, params, context); run a subclass that does"
        )
    return (
        "Expected a jido action (an Action subclass or a @jido.action function), "
        f"got {describe_value(action)}"
    )
