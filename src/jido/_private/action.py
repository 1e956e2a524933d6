"""Defining actions: the ``Action`` base class and the ``@action`` decorator.

Both forms compile, when they are defined, into one :class:`ActionSpec` that the
runners use; a broken definition raises :class:`~jido.InvalidActionError` at once.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Generic, ParamSpec, TypeVar, overload

import pydantic

from jido._private.errors import ExecutionError, InvalidActionError, JidoError, ValidationError
from jido._private.normalize import normalize_params
from jido._private.options import check_seconds
from jido._private.redact import redact_text
from jido._private.schema import Schema

__all__ = ["Action", "ActionSpec", "FunctionAction", "action", "spec_of"]

P = ParamSpec("P")
R = TypeVar("R")

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
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
    ) -> None:
        self.target = target
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
        """The JidoError for an exception raised by the action (a JidoError is kept as is)."""
        if isinstance(exc, JidoError):
            return exc
        err = ExecutionError(
            f"Action '{self.name}' failed: {describe(exc)}",
            details={"action": self.name, "exception": type(exc).__qualname__},
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
    """``"ValueError: message"`` with secrets redacted and length bounded."""
    text = str(exc)
    return redact_text(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


# -- the class form ------------------------------------------------------------------------------
class Action:
    """Base class for actions.

    Subclasses set ``name`` (letters, digits, underscores; derived from the class name
    when omitted), ``description``, optionally ``category``, ``tags``, ``version``,
    ``schema`` and ``output_schema`` (pydantic models), and implement
    ``run(self, params, context)`` as ``def`` or ``async def``. The lifecycle hooks
    below may be overridden. ``class Base(jido.Action, abstract=True)`` declares a
    shared base that is not itself an action.

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
    __jido_action__: ClassVar[ActionSpec]

    def __init_subclass__(cls, *, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not abstract:
            cls.__jido_action__ = spec = _class_spec(cls)
            if "name" not in cls.__dict__:
                cls.name = spec.name

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
    if run is None:
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
        description=_description(cls.__dict__.get("description"), cls.__doc__, where),
        category=_opt_str(cls.category, "category", where),
        tags=_tags(cls.tags, where),
        version=_opt_str(cls.version, "version", where),
        schema=_schema(cls.schema, "schema", where),
        output_schema=_schema(cls.output_schema, "output_schema", where),
        is_async=inspect.iscoroutinefunction(run),
        invoke=run,
        make_instance=cls,
        hooks=frozenset(hooks),
        has_on_error=cls.on_error is not Action.on_error,
        is_async_on_error=inspect.iscoroutinefunction(cls.on_error),
        compensation_timeout=_comp_timeout(cls.compensation_timeout, where),
        interruptible=bool(cls.interruptible),
    )


# -- the decorator form --------------------------------------------------------------------------
class FunctionAction(Generic[P, R]):
    """A plain function turned into an action by :func:`jido.action`.

    Calling it calls the function directly; passing it to ``jido.run`` runs it as an
    action whose schema is the function's signature.
    """

    __jido_action__: ActionSpec

    def __init__(
        self,
        fn: Callable[P, R],
        spec_kwargs: dict[str, Any],
        localns: Mapping[str, Any] | None = None,
    ) -> None:
        functools.update_wrapper(self, fn)
        self._fn = fn
        self.__jido_action__ = _function_spec(self, fn, spec_kwargs, localns)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<jido action {self.__jido_action__.name} from {self._fn.__qualname__}>"

    def __reduce__(self) -> str:
        # pickled by reference: the module-level name the decorator was assigned to
        return str(getattr(self, "__qualname__", self._fn.__qualname__))

    @property
    def name(self) -> str:
        return self.__jido_action__.name

    @property
    def description(self) -> str:
        return self.__jido_action__.description

    @property
    def schema(self) -> type[pydantic.BaseModel] | None:
        schema = self.__jido_action__.schema
        return schema.model if schema else None

    def validate_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``params`` against the signature; raises ValidationError."""
        return self.__jido_action__.validate_params(None, dict(params))

    def metadata(self) -> dict[str, Any]:
        return self.__jido_action__.metadata()


@overload
def action(fn: Callable[P, R], /) -> FunctionAction[P, R]: ...
@overload
def action(
    *,
    name: str | None = None,
    description: str | None = None,
    category: str | None = None,
    tags: tuple[str, ...] | list[str] = (),
    version: str | None = None,
    output_schema: type[pydantic.BaseModel] | None = None,
) -> Callable[[Callable[P, R]], FunctionAction[P, R]]: ...
def action(
    fn: Callable[P, R] | None = None, /, **spec_kwargs: Any
) -> FunctionAction[P, R] | Callable[[Callable[P, R]], FunctionAction[P, R]]:
    """Turn a typed function into an action; its signature is the schema.

    Parameters become validated params (with their defaults); a parameter named
    ``context`` receives the run's context; ``**kwargs`` receives unknown keys. A
    return annotation that is a pydantic model becomes the output schema.

    Example:
        >>> import jido
        >>> @jido.action(name="greet", description="Say hello")
        ... def greet(name: str, punctuation: str = "!") -> dict:
        ...     return {"greeting": f"Hello, {name}{punctuation}"}
        >>> jido.run(greet, {"name": "Ada"}, timeout=0)
        {'greeting': 'Hello, Ada!'}
        >>> greet("Bob")                       # still a plain function
        {'greeting': 'Hello, Bob!'}
    """
    unknown = set(spec_kwargs) - {
        "name",
        "description",
        "category",
        "tags",
        "version",
        "output_schema",
    }
    if unknown:
        raise InvalidActionError(f"jido.action got unknown arguments: {sorted(unknown)}")
    if fn is not None:
        return FunctionAction(fn, spec_kwargs, sys._getframe(1).f_locals)

    def decorate(f: Callable[P, R]) -> FunctionAction[P, R]:
        # the scope applying the decorator resolves names in postponed annotations
        return FunctionAction(f, spec_kwargs, sys._getframe(1).f_locals)

    return decorate


def _function_spec(
    owner: Any, fn: Callable[..., Any], kw: dict[str, Any], localns: Mapping[str, Any] | None
) -> ActionSpec:
    where = f"action function {getattr(fn, '__qualname__', fn)!r}"
    if not callable(fn) or isinstance(fn, type):
        raise InvalidActionError(f"jido.action needs a function, got {fn!r}")
    hints = _hints(fn, localns, where)
    model, takes_context, takes_kwargs, field_names = _signature_model(fn, hints, where)
    returns = hints.get("return", inspect.Signature.empty)
    output = kw.get("output_schema")
    if output is None and isinstance(returns, type) and issubclass(returns, pydantic.BaseModel):
        output = returns
    hooks = frozenset({"returns_none"}) if returns is None or returns is type(None) else frozenset()
    return ActionSpec(
        target=owner,
        name=_check_name(kw.get("name") or fn.__name__, where),
        description=_description(kw.get("description"), fn.__doc__, where),
        category=_opt_str(kw.get("category"), "category", where),
        tags=_tags(kw.get("tags", ()), where),
        version=_opt_str(kw.get("version"), "version", where),
        schema=Schema(model) if field_names else None,
        output_schema=_schema(output, "output_schema", where),
        is_async=inspect.iscoroutinefunction(fn),
        invoke=_function_invoker(fn, field_names, takes_context, takes_kwargs),
        make_instance=_no_instance,
        hooks=hooks,
        has_on_error=False,
        compensation_timeout=5.0,
        interruptible=True,
    )


def _no_instance() -> None:
    return None


def _signature_model(
    fn: Callable[..., Any], hints: dict[str, Any], where: str
) -> tuple[type[pydantic.BaseModel], bool, bool, frozenset[str]]:
    fields: dict[str, Any] = {}
    takes_context = takes_kwargs = False
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL):
            raise InvalidActionError(f"{where}: parameter {p.name!r} must be passable by keyword")
        if p.kind is p.VAR_KEYWORD:
            takes_kwargs = True
        elif p.name == "context":
            takes_context = True
        else:
            default = ... if p.default is p.empty else p.default
            fields[p.name] = (hints.get(p.name, Any), default)
    try:
        model = pydantic.create_model(
            f"{_camel(fn.__name__)}Params",
            __config__=pydantic.ConfigDict(arbitrary_types_allowed=True),
            **fields,
        )
    except Exception as exc:
        raise InvalidActionError(
            f"{where}: cannot build a schema from its signature: {exc}"
        ) from exc
    return model, takes_context, takes_kwargs, frozenset(fields)


def _hints(fn: Callable[..., Any], localns: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    """Resolved annotations; a name that cannot be resolved fails the definition."""
    try:
        return typing.get_type_hints(fn, localns=dict(localns or {}), include_extras=True)
    except Exception as exc:
        raise InvalidActionError(
            f"{where}: cannot resolve its type annotations ({type(exc).__name__}: {exc}); "
            "the types of a schema must exist at run time, not only under TYPE_CHECKING"
        ) from exc


def _function_invoker(
    fn: Callable[..., Any], fields: frozenset[str], takes_context: bool, takes_kwargs: bool
) -> Callable[[Any, dict[str, Any], dict[str, Any]], Any]:
    def invoke(_: Any, params: dict[str, Any], context: dict[str, Any]) -> Any:
        kwargs = params if takes_kwargs or params.keys() <= fields else _only(params, fields)
        if takes_context:
            return fn(**kwargs, context=context)
        return fn(**kwargs)

    return invoke


def _only(params: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k in fields}


# -- definition checks ---------------------------------------------------------------------------
def _check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidActionError(
            f"{where}: invalid name {name!r}; use letters, digits and underscores, "
            "starting with a letter"
        )
    return name


def _description(explicit: object, doc: str | None, where: str) -> str:
    if explicit:
        if not isinstance(explicit, str):
            raise InvalidActionError(f"{where}: description must be a string, got {explicit!r}")
        return explicit
    return inspect.cleandoc(doc).split("\n\n")[0].replace("\n", " ") if doc else ""


def _opt_str(value: object, what: str, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidActionError(f"{where}: {what} must be a string, got {value!r}")


def _tags(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, list | tuple) and all(isinstance(t, str) for t in value):
        return tuple(value)
    raise InvalidActionError(f"{where}: tags must be a list of strings, got {value!r}")


def _schema(value: object, what: str, where: str) -> Schema | None:
    if value is None:
        return None
    if isinstance(value, type) and issubclass(value, pydantic.BaseModel):
        return Schema(value)
    raise InvalidActionError(f"{where}: {what} must be a pydantic model class, got {value!r}")


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


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_")) or "Action"


def spec_of(action: object) -> ActionSpec:
    """The compiled spec of ``action`` (a class, an instance or a decorated function)."""
    try:
        spec = action.__jido_action__  # type: ignore[attr-defined]
    except AttributeError:
        spec = None
    if type(spec) is ActionSpec:
        return spec
    raise InvalidActionError(
        f"Expected a jido action (an Action subclass or a @jido.action function), got {action!r}",
        details={"action": repr(action)[:100]},
    )
