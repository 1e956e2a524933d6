"""The decorator form: a plain typed function becomes an action; its signature is the schema."""

from __future__ import annotations

import functools
import inspect
import sys
import typing
from collections.abc import Callable, Mapping
from typing import Any, Generic, ParamSpec, TypeVar, overload

import pydantic

from jido._action.action import (
    ANNOTATIONS,
    ActionSpec,
    _check_name,
    _description,
    _opt_str,
    _schema,
    _tags,
    check_annotations,
)
from jido._action.schema import Schema
from jido._core.errors import InvalidActionError

__all__ = ["FunctionAction", "action"]

P = ParamSpec("P")
R = TypeVar("R")


class FunctionAction(Generic[P, R]):
    """A plain function turned into an action by :func:`jido.action`.

    Calling it calls the function directly; passing it to ``jido.run`` runs it as an
    action whose schema is the function's signature.

    Example:
        >>> import jido
        >>> @jido.action
        ... def double(value: int) -> dict:
        ...     return {"value": 2 * value}
        >>> isinstance(double, jido.FunctionAction)
        True
        >>> double(2), jido.run(double, {"value": "2"})
        ({'value': 4}, {'value': 4})
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
    title: str | None = None,
    read_only: bool | None = None,
    destructive: bool | None = None,
    idempotent: bool | None = None,
    open_world: bool | None = None,
) -> Callable[[Callable[P, R]], FunctionAction[P, R]]: ...
def action(
    fn: Callable[P, R] | None = None, /, **spec_kwargs: Any
) -> FunctionAction[P, R] | Callable[[Callable[P, R]], FunctionAction[P, R]]:
    """Turn a typed function into an action; its signature is the schema.

    Parameters become validated params (with their defaults); a parameter named
    ``context`` receives the run's context; ``**kwargs`` receives unknown keys. A
    return annotation that is a pydantic model becomes the output schema. ``title``,
    ``read_only``, ``destructive``, ``idempotent`` and ``open_world`` are optional facts
    for agents (tool annotations); an action that declares none claims nothing.

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
        *ANNOTATIONS,
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
        annotations=check_annotations({k: kw.get(k) for k in ANNOTATIONS}, where),
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


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_")) or "Action"
