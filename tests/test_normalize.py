"""Params and context normalization, and open-schema validation.

Contract: params and context accept a Mapping, an iterable of (key, value) pairs, a pydantic
model instance (params) or None; anything else is a validation_error. Schema fields are
validated and coerced, defaults filled, unknown keys kept. Validation happens before the
first attempt: never runs the action, never retried.
"""

from __future__ import annotations

import threading
import types
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import pydantic
import pytest

import jido
from actions import Add, Echo, Probe
from support import Stopwatch


class FrozenMapping(Mapping[str, Any]):
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class AddInput(pydantic.BaseModel):
    value: int
    amount: int = 1


def echo_params(params: object, **opts: Any) -> dict[str, Any]:
    return jido.run(Echo, params, timeout=0, **opts)["params"]


def echo_context(context: object) -> dict[Any, Any]:
    return jido.run(Echo, None, context, timeout=0)["context"]


# -- params: accepted shapes ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"x": 5, "tag": "t"},
        OrderedDict([("x", 5), ("tag", "t")]),
        types.MappingProxyType({"x": 5, "tag": "t"}),
        FrozenMapping({"x": 5, "tag": "t"}),
        [("x", 5), ("tag", "t")],
        [["x", 5], ["tag", "t"]],
        (("x", 5), ("tag", "t")),
        iter([("x", 5), ("tag", "t")]),
    ],
    ids=[
        "dict",
        "ordereddict",
        "mappingproxy",
        "custom-mapping",
        "pairs",
        "lists",
        "tuple",
        "iter",
    ],
)
def test_params_shapes_are_normalized(params: object) -> None:
    assert echo_params(params) == {"x": 5, "tag": "t"}


def test_params_generator_of_pairs() -> None:
    assert echo_params((k, v) for k, v in {"x": 1}.items()) == {"x": 1, "tag": ""}


def test_params_none_is_empty() -> None:
    assert echo_params(None) == {"x": 0, "tag": ""}
    assert jido.run(Echo, timeout=0)["params"] == {"x": 0, "tag": ""}


def test_params_pydantic_model_instance() -> None:
    assert jido.run(Add, AddInput(value=3, amount=4), timeout=0) == {"value": 7}
    assert jido.run(Add, AddInput(value=3)) == {"value": 4}


def test_params_are_not_mutated() -> None:
    params = {"value": "5"}
    jido.run(Add, params, timeout=0)
    assert params == {"value": "5"}


# -- params: garbage -> validation_error ---------------------------------------------------------
GARBAGE = [
    "value=5",
    b"value=5",
    42,
    3.5,
    True,
    object(),
    ["not", "pairs"],
    [("a", 1, 2)],
    [("a",)],
    [1, 2, 3],
    [([], 1)],  # unhashable key
    ("ok", {"value": 1}),  # Elixir's {:ok, map} is not a thing here
    {1: "int key"},
    {("tuple",): "key"},
    AddInput,  # the model class, not an instance
]


@pytest.mark.parametrize("garbage", GARBAGE, ids=repr)
def test_garbage_params_are_validation_errors(garbage: object) -> None:
    probe = Probe()

    @jido.action
    def never(context: dict[str, Any], **params: Any) -> dict[str, Any]:
        context["probe"].enter()
        return {}

    with pytest.raises(jido.ValidationError) as info:
        jido.run(never, garbage, {"probe": probe}, timeout=0)
    assert info.value.type == "validation_error"
    assert info.value.retryable is False
    assert probe.attempts == []
    # also through the worker-thread path and run_async
    with pytest.raises(jido.ValidationError):
        jido.run(never, garbage, {"probe": probe}, timeout=1.0)
    with pytest.raises(jido.ValidationError):
        jido.await_(jido.run_async(never, garbage, {"probe": probe}))
    assert probe.attempts == []


def test_pairs_iterator_that_raises_is_a_validation_error() -> None:
    def broken() -> Iterator[tuple[str, int]]:
        yield ("a", 1)
        raise RuntimeError("iterator broke")

    with pytest.raises(jido.ValidationError):
        jido.run(Echo, broken(), timeout=0)


class RaisingMapping(Mapping[str, Any]):
    """A Mapping that fails when read (a broken proxy, a lazy config...)."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("cannot iterate")

    def __len__(self) -> int:
        return 1


def test_mapping_that_raises_is_a_validation_error_for_params() -> None:
    with pytest.raises(jido.ValidationError):
        jido.run(Echo, RaisingMapping(), timeout=0)


def test_mapping_that_raises_is_a_validation_error_for_context() -> None:
    with pytest.raises(jido.ValidationError):
        jido.run(Echo, None, RaisingMapping(), timeout=0)


# -- context -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "context",
    [
        {"user": 1},
        [("user", 1)],
        types.MappingProxyType({"user": 1}),
        FrozenMapping({"user": 1}),
    ],
    ids=["dict", "pairs", "mappingproxy", "custom-mapping"],
)
def test_context_shapes_are_normalized(context: object) -> None:
    assert echo_context(context) == {"user": 1}


def test_context_none_is_empty() -> None:
    assert echo_context(None) == {}


@pytest.mark.parametrize("garbage", ["ctx", 7, object(), [1, 2], [("a", 1, 2)]], ids=repr)
def test_garbage_context_is_a_validation_error(garbage: object) -> None:
    with pytest.raises(jido.ValidationError) as info:
        jido.run(Echo, {"x": 1}, garbage, timeout=0)
    assert info.value.type == "validation_error"


@pytest.mark.parametrize("timeout", [0, 1.0], ids=["inline", "thread"])
def test_context_values_reach_the_action_as_they_are(timeout: float) -> None:
    lock = threading.Lock()
    session = object()
    nested = {"deep": [1, 2]}
    seen: dict[str, Any] = {}

    @jido.action
    def uses_context(context: dict[str, Any]) -> dict[str, Any]:
        seen.update(context)
        with context["lock"]:
            pass
        return {}

    jido.run(
        uses_context, None, {"lock": lock, "session": session, "nested": nested}, timeout=timeout
    )
    assert seen["lock"] is lock
    assert seen["session"] is session
    assert seen["nested"] is nested  # no deep copy


def test_context_non_string_keys_are_allowed() -> None:
    # Only param keys must be strings (they name schema fields); the context is free-form.
    marker = object()
    assert echo_context({marker: 1})[marker] == 1


# -- open schema ---------------------------------------------------------------------------------
def test_unknown_keys_are_kept() -> None:
    assert echo_params({"x": 1, "other": [1, 2], "more": None}) == {
        "x": 1,
        "tag": "",
        "other": [1, 2],
        "more": None,
    }


def test_defaults_are_filled() -> None:
    assert echo_params({}) == {"x": 0, "tag": ""}


def test_declared_fields_are_coerced() -> None:
    assert echo_params({"x": "42"}) == {"x": 42, "tag": ""}
    assert jido.run(Add, {"value": "5", "amount": 2.0}, timeout=0) == {"value": 7}


def test_unknown_keys_are_not_coerced() -> None:
    assert echo_params({"x": "1", "y": "1"})["y"] == "1"


def test_missing_required_field() -> None:
    with pytest.raises(jido.ValidationError) as info:
        jido.run(Add, {"amount": 2}, timeout=0)
    assert info.value.details["field"] == "value"


def test_type_mismatch_names_the_field_and_hides_the_value() -> None:
    with pytest.raises(jido.ValidationError) as info:
        jido.run(Add, {"value": "hunter2-secret-value"}, timeout=0)
    err = info.value
    assert err.type == "validation_error"
    assert err.details["field"] == "value"
    assert "value" in err.message
    assert "hunter2-secret-value" not in err.message  # messages never carry params
    assert "hunter2-secret-value" not in repr(err.details)


def test_string_key_required_semantics_are_exact() -> None:
    # keys are matched exactly: "Value" is an unknown key, and "value" is then missing
    with pytest.raises(jido.ValidationError):
        jido.run(Add, {"Value": 1}, timeout=0)


# -- validation happens before the first attempt -------------------------------------------------
@pytest.mark.parametrize("timeout", [0, 1.0], ids=["inline", "thread"])
def test_validation_error_never_runs_and_is_never_retried(timeout: float) -> None:
    probe = Probe()

    class Counted(jido.Action):
        name = "counted"
        schema = AddInput

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            probe.enter()
            return {}

    with Stopwatch() as sw, pytest.raises(jido.ValidationError):
        jido.run(Counted, {"value": "x"}, timeout=timeout, max_retries=5, backoff=5.0)
    assert probe.attempts == []
    assert sw.elapsed < 1.0  # no backoff sleeps either


def test_async_action_validation_error_never_runs() -> None:
    probe = Probe()

    class AsyncCounted(jido.Action):
        name = "async_counted"
        schema = AddInput

        async def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            probe.enter()
            return {}

    with pytest.raises(jido.ValidationError):
        jido.run(AsyncCounted, {"value": "x"}, max_retries=5, backoff=5.0)
    with pytest.raises(jido.ValidationError):
        jido.await_(jido.run_async(AsyncCounted, {}, max_retries=5, backoff=5.0))
    assert probe.attempts == []


def test_validation_hooks_errors() -> None:
    probe = Probe()

    class Picky(jido.Action):
        name = "picky"
        schema = AddInput

        def on_after_validate_params(self, params: dict[str, Any]) -> dict[str, Any]:
            if params["value"] < 0:
                raise jido.ValidationError("value must be >= 0", details={"field": "value"})
            return params

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            probe.enter()
            return {}

    with pytest.raises(jido.ValidationError) as info:
        jido.run(Picky, {"value": -1}, max_retries=3, backoff=5.0)
    assert info.value.message == "value must be >= 0"  # a hook's JidoError is kept as is
    assert probe.attempts == []
