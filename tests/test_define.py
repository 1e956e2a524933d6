"""Defining actions: the class form, the decorator form, and broken definitions.

Contract: "A broken definition fails when the class/function is defined." (decisions.md)
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pydantic
import pytest

import jido
from actions import Add


class Params(pydantic.BaseModel):
    value: int
    amount: int = 1


class Out(pydantic.BaseModel):
    value: int


# -- class form ----------------------------------------------------------------------------------
def test_class_form_metadata_attributes() -> None:
    class Full(jido.Action):
        name = "full_action"
        description = "Does everything"
        category = "math"
        tags = ["arith", "demo"]  # noqa: RUF012 - as a user would write it
        version = "1.2.3"
        schema = Params
        output_schema = Out

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            return {"value": params["value"] + params["amount"]}

    assert Full.name == "full_action"
    assert Full.description == "Does everything"
    assert Full.category == "math"
    assert list(Full.tags) == ["arith", "demo"]
    assert Full.version == "1.2.3"
    assert Full.schema is Params
    assert Full.output_schema is Out
    meta = Full.metadata()
    assert meta["name"] == "full_action"
    assert meta["description"] == "Does everything"
    assert meta["category"] == "math"
    assert list(meta["tags"]) == ["arith", "demo"]
    assert meta["version"] == "1.2.3"
    assert set(meta["schema"]["properties"]) == {"value", "amount"}
    assert set(meta["output_schema"]["properties"]) == {"value"}
    assert jido.run(Full, {"value": 2}, timeout=0) == {"value": 3}


def test_class_form_sync_and_async_run() -> None:
    class SyncAdd(jido.Action):
        schema = Params

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            return {"value": params["value"] + params["amount"]}

    class AsyncAdd(jido.Action):
        schema = Params

        async def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            await asyncio.sleep(0)
            return {"value": params["value"] + params["amount"]}

    for action in (SyncAdd, AsyncAdd):
        assert jido.run(action, {"value": 5}) == {"value": 6}
        assert jido.run(action, {"value": 5, "amount": 10}, timeout=0) == {"value": 15}


def test_readme_quick_start_class() -> None:
    assert jido.run(Add, {"value": 5}) == {"value": 6}
    assert jido.run(Add, {"value": 5}, {"user_id": 1}, timeout=2.0, max_retries=3, backoff=0.5) == {
        "value": 6
    }


def test_name_is_derived_from_the_class_name_when_omitted() -> None:
    class AddNumbersTogether(jido.Action):
        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            return {}

    derived = AddNumbersTogether.metadata()["name"]
    assert derived.replace("_", "").lower() == "addnumberstogether"
    assert jido.run(AddNumbersTogether, timeout=0) == {}
    # Quick start: ``name = "add"  # ... (default: from the class name)``: the attribute shows it.
    assert AddNumbersTogether.name == derived


def test_derived_name_is_used_in_errors() -> None:
    class ExplodingThing(jido.Action):
        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            raise ValueError("nope")

    with pytest.raises(jido.ExecutionError) as info:
        jido.run(ExplodingThing, timeout=0, max_retries=0)
    assert info.value.details["action"] == ExplodingThing.metadata()["name"]


def test_abstract_base_shares_behaviour_and_is_not_an_action() -> None:
    class Base(jido.Action, abstract=True):
        schema = Params

        def on_after_run(self, result: dict[str, Any]) -> dict[str, Any]:
            return {**result, "base_hook": True}

    class Concrete(Base):
        name = "concrete"

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            return {"value": params["value"]}

    assert jido.run(Concrete, {"value": 1}, timeout=0) == {"value": 1, "base_hook": True}
    with pytest.raises(jido.InvalidActionError):
        jido.run(Base, {"value": 1}, timeout=0)
    with pytest.raises(jido.InvalidActionError):

        class NoRun(Base):  # a concrete subclass of the base still needs a run
            name = "no_run"


def test_subclass_of_an_action_inherits_run() -> None:
    class Sub(Add):
        name = "add_sub"

    assert Sub.metadata()["name"] == "add_sub"
    assert jido.run(Sub, {"value": 1, "amount": 2}, timeout=0) == {"value": 3}


def test_validate_params_classmethod() -> None:
    assert Add.validate_params({"value": "4"}) == {"value": 4, "amount": 1}
    with pytest.raises(jido.ValidationError):
        Add.validate_params({"value": "four"})


# -- decorator form ------------------------------------------------------------------------------
def test_decorator_readme_example_and_still_callable() -> None:
    @jido.action(name="greet", description="Say hello")
    def greet(name: str, punctuation: str = "!") -> dict[str, Any]:
        return {"greeting": f"Hello, {name}{punctuation}"}

    assert jido.run(greet, {"name": "Ada"}) == {"greeting": "Hello, Ada!"}
    assert jido.run(greet, {"name": "Ada", "punctuation": "?"}, timeout=0) == {
        "greeting": "Hello, Ada?"
    }
    assert greet("Bob") == {"greeting": "Hello, Bob!"}  # still a plain function
    assert greet(name="Eve", punctuation=".") == {"greeting": "Hello, Eve."}
    assert greet.name == "greet"
    assert greet.description == "Say hello"


def test_bare_decorator_uses_function_name() -> None:
    @jido.action
    def compute_total(a: int, b: int = 2) -> dict[str, Any]:
        return {"total": a + b}

    assert compute_total.name == "compute_total"
    assert jido.run(compute_total, {"a": 1}, timeout=0) == {"total": 3}
    assert compute_total(1, 5) == {"total": 6}


def test_decorator_metadata_arguments() -> None:
    @jido.action(name="tagged", category="misc", tags=["a", "b"], version="0.1")
    def tagged() -> dict[str, Any]:
        return {}

    meta = tagged.metadata()
    assert meta["name"] == "tagged"
    assert meta["category"] == "misc"
    assert list(meta["tags"]) == ["a", "b"]
    assert meta["version"] == "0.1"


def test_signature_is_the_schema() -> None:
    @jido.action
    def typed(count: int, ratio: float = 0.5, label: str = "x") -> dict[str, Any]:
        return {"count": count, "ratio": ratio, "label": label}

    assert jido.run(typed, {"count": "3"}, timeout=0) == {"count": 3, "ratio": 0.5, "label": "x"}
    with pytest.raises(jido.ValidationError) as info:
        jido.run(typed, {"count": "three"}, timeout=0)
    assert info.value.details["field"] == "count"
    with pytest.raises(jido.ValidationError):
        jido.run(typed, {}, timeout=0)  # count is required
    assert set(typed.schema.model_fields) == {"count", "ratio", "label"}  # type: ignore[union-attr]


def test_context_parameter_receives_the_context() -> None:
    @jido.action
    def who(user: str, context: dict[str, Any]) -> dict[str, Any]:
        return {"user": user, "tenant": context["tenant"]}

    assert jido.run(who, {"user": "ada"}, {"tenant": "t1"}, timeout=0) == {
        "user": "ada",
        "tenant": "t1",
    }
    # "context" is not a param: it is not required from params
    assert who.schema is not None
    assert "context" not in who.schema.model_fields


def test_var_kwargs_receive_unknown_keys() -> None:
    @jido.action
    def open_fn(a: int, **extra: Any) -> dict[str, Any]:
        return {"a": a, "extra": extra}

    assert jido.run(open_fn, {"a": "1", "b": 2, "c": "three"}, timeout=0) == {
        "a": 1,
        "extra": {"b": 2, "c": "three"},
    }


def test_unknown_keys_without_var_kwargs_do_not_break_the_call() -> None:
    @jido.action
    def closed(a: int) -> dict[str, Any]:
        return {"a": a}

    assert jido.run(closed, {"a": 1, "unknown": 2}, timeout=0) == {"a": 1}


def test_async_def_decorated() -> None:
    @jido.action
    async def fetch(url: str) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"url": url, "status": 200}

    assert jido.run(fetch, {"url": "u"}) == {"url": "u", "status": 200}
    assert asyncio.run(jido.arun(fetch, {"url": "v"}, timeout=1.0)) == {"url": "v", "status": 200}
    coro = fetch("w")
    assert inspect.iscoroutine(coro)
    assert asyncio.run(coro) == {"url": "w", "status": 200}


class Result(pydantic.BaseModel):
    total: int


def test_return_annotation_model_is_the_output_schema() -> None:
    @jido.action
    def good() -> Result:
        return {"total": "7"}  # type: ignore[return-value]

    @jido.action
    def bad() -> Result:
        return {"total": "seven"}  # type: ignore[return-value]

    assert jido.run(good, timeout=0) == {"total": 7}
    with pytest.raises(jido.ValidationError):
        jido.run(bad, timeout=0, max_retries=0)


def test_decorator_explicit_output_schema() -> None:
    @jido.action(output_schema=Out)
    def out() -> dict[str, Any]:
        return {"value": "nope"}

    with pytest.raises(jido.ValidationError):
        jido.run(out, timeout=0, max_retries=0)


# -- broken definitions fail at definition time --------------------------------------------------
BAD_NAMES = ["1abc", "with-dash", "with space", "naïve", "_leading", "a.b", 123]


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_invalid_class_name_fails_at_definition(bad: object) -> None:
    with pytest.raises(jido.InvalidActionError) as info:

        class Broken(jido.Action):
            name = bad  # type: ignore[assignment]

            def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
                return {}

    assert info.value.type == "invalid_action"
    assert isinstance(info.value, jido.JidoError)


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_invalid_decorator_name_fails_at_decoration(bad: object) -> None:
    with pytest.raises(jido.InvalidActionError):

        @jido.action(name=bad)  # type: ignore[arg-type]
        def f() -> dict[str, Any]:
            return {}


def test_valid_names_are_accepted() -> None:
    for good in ("a", "A1", "add_numbers", "x_1_y"):

        class Ok(jido.Action):
            name = good

            def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
                return {}

        assert Ok.metadata()["name"] == good


def test_missing_run_fails_at_definition() -> None:
    with pytest.raises(jido.InvalidActionError):

        class NoRun(jido.Action):
            name = "no_run"


@pytest.mark.parametrize(
    "schema", [{"value": int}, Params(value=1), int, "Params", [Params]], ids=repr
)
def test_schema_not_a_model_fails_at_definition(schema: object) -> None:
    with pytest.raises(jido.InvalidActionError) as info:
        type(
            "BadSchema",
            (jido.Action,),
            {"name": "bad_schema", "schema": schema, "run": lambda self, p, c: {}},
        )
    assert info.value.type == "invalid_action"


def test_schema_dict_fails_in_a_class_statement() -> None:
    with pytest.raises(jido.InvalidActionError):

        class BadSchema(jido.Action):
            name = "bad_schema"
            schema = {"value": int}  # type: ignore[assignment]  # noqa: RUF012

            def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
                return {}


@pytest.mark.parametrize("schema", [{"value": int}, Params(value=1), str], ids=repr)
def test_output_schema_not_a_model_fails_at_definition(schema: object) -> None:
    with pytest.raises(jido.InvalidActionError):
        type(
            "BadOutput",
            (jido.Action,),
            {"name": "bad_output", "output_schema": schema, "run": lambda self, p, c: {}},
        )


def test_decorator_output_schema_not_a_model_fails() -> None:
    with pytest.raises(jido.InvalidActionError):

        @jido.action(output_schema={"x": int})  # type: ignore[arg-type]
        def f() -> dict[str, Any]:
            return {}


@pytest.mark.parametrize(
    "run",
    [
        lambda self: {},
        lambda self, params: {},
        lambda self, params, context, extra: {},
        lambda: {},  # noqa: PIE807 - a run that takes no self
        42,
    ],
    ids=["self-only", "no-context", "extra-required", "no-self", "not-callable"],
)
def test_run_with_wrong_arity_fails_at_definition(run: object) -> None:
    with pytest.raises(jido.InvalidActionError):
        type("BadRun", (jido.Action,), {"name": "bad_run", "run": run})


def test_run_with_optional_extras_is_accepted() -> None:
    class Flexible(jido.Action):
        name = "flexible"

        def run(
            self, params: dict[str, Any], context: dict[str, Any], extra: int = 1
        ) -> dict[str, Any]:
            return {"extra": extra}

    assert jido.run(Flexible, timeout=0) == {"extra": 1}


@pytest.mark.parametrize(
    "hook",
    [
        "on_before_validate_params",
        "on_after_validate_params",
        "on_before_validate_output",
        "on_after_validate_output",
        "on_after_run",
    ],
)
def test_async_hook_fails_at_definition(hook: str) -> None:
    async def async_hook(self: object, value: dict[str, Any]) -> dict[str, Any]:
        return value

    with pytest.raises(jido.InvalidActionError):
        type(
            "AsyncHook",
            (jido.Action,),
            {"name": "async_hook", "run": lambda self, p, c: {}, hook: async_hook},
        )


@pytest.mark.parametrize(
    ("attr", "value"),
    [
        ("tags", "not-a-list"),
        ("tags", [1, 2]),
        ("category", 5),
        ("version", 1.0),
        ("description", 42),
        ("compensation_timeout", -1),
        ("compensation_timeout", "soon"),
    ],
)
def test_bad_metadata_fails_at_definition(attr: str, value: object) -> None:
    with pytest.raises(jido.InvalidActionError):
        type(
            "BadMeta",
            (jido.Action,),
            {"name": "bad_meta", "run": lambda self, p, c: {}, attr: value},
        )


def test_decorator_rejects_unusable_signatures() -> None:
    with pytest.raises(jido.InvalidActionError):

        @jido.action
        def positional_only(a: int, /) -> dict[str, Any]:
            return {}

    with pytest.raises(jido.InvalidActionError):

        @jido.action
        def star_args(*args: int) -> dict[str, Any]:
            return {}


def test_decorator_rejects_unknown_arguments_and_non_functions() -> None:
    with pytest.raises(jido.InvalidActionError):
        jido.action(nmae="typo")  # type: ignore[call-overload]
    with pytest.raises(jido.InvalidActionError):
        jido.action(42)  # type: ignore[call-overload]
    with pytest.raises(jido.InvalidActionError):

        @jido.action
        class NotAFunction:
            pass


def test_non_actions_are_invalid_action_at_run() -> None:
    class Plain:
        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            return {}

    def plain_function() -> dict[str, Any]:
        return {}

    for thing in (Plain, plain_function, "add", None, 42, object()):
        with pytest.raises(jido.InvalidActionError) as info:
            jido.run(thing, timeout=0)
        assert info.value.type == "invalid_action"
        with pytest.raises(jido.InvalidActionError):
            jido.await_(jido.run_async(thing))
