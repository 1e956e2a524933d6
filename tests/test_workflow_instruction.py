"""Instructions: every accepted form, the merge rules, clear errors, allow-lists."""

from __future__ import annotations

import asyncio
import pickle
import uuid
from types import MappingProxyType

import pydantic
import pytest

import jido
from jido.workflow import Instruction, check_allowed, normalize
from workflow_actions import Add, Multiply, record


class Point(pydantic.BaseModel):
    x: int
    y: int


# -- forms -----------------------------------------------------------------------------------------
def test_bare_action_becomes_an_instruction_with_empty_parts() -> None:
    (instr,) = normalize(Add)
    assert instr.action is Add
    assert instr.name == "add"
    assert dict(instr.params) == {}
    assert dict(instr.context) == {}
    assert dict(instr.opts) == {}
    assert uuid.UUID(instr.id).version == 7


def test_function_action_is_accepted() -> None:
    (instr,) = normalize(record)
    assert instr.action is record
    assert instr.name == "record"


@pytest.mark.parametrize(
    "params",
    [{"value": 1}, [("value", 1)], (("value", 1),), MappingProxyType({"value": 1})],
)
def test_action_with_params_accepts_mappings_and_pairs(params: object) -> None:
    (instr,) = normalize((Add, params))
    assert dict(instr.params) == {"value": 1}


def test_params_may_be_none_or_a_pydantic_model() -> None:
    assert dict(normalize((Add, None))[0].params) == {}
    assert dict(normalize((Add, Point(x=1, y=2)))[0].params) == {"x": 1, "y": 2}


def test_three_tuple_carries_its_own_context_and_the_shared_context_wins() -> None:
    (instr,) = normalize((Add, {"value": 1}, {"user": 1, "tenant": "own"}), {"tenant": "shared"})
    assert dict(instr.context) == {"user": 1, "tenant": "shared"}


def test_four_tuple_carries_options_and_the_shared_options_win() -> None:
    (instr,) = normalize(
        (Add, {}, {}, {"timeout": 20.0, "max_retries": 3}), opts={"max_retries": 0}
    )
    assert dict(instr.opts) == {"timeout": 20.0, "max_retries": 0}


def test_an_instruction_keeps_its_id_and_gets_the_shared_context_and_options() -> None:
    original = Instruction(Add, {"value": 1}, {"a": 1, "b": 1}, {"timeout": 20.0})
    (instr,) = normalize(original, {"b": 2}, {"max_retries": 0})
    assert instr.id == original.id
    assert dict(instr.context) == {"a": 1, "b": 2}
    assert dict(instr.opts) == {"timeout": 20.0, "max_retries": 0}
    assert dict(original.context) == {"a": 1, "b": 1}  # the original is unchanged


def test_a_list_of_mixed_forms_is_normalized_in_order() -> None:
    instrs = normalize(
        [Add, (Multiply, {"amount": 3}), (Add, {}, {"x": 1}), Instruction(Multiply)], {"s": 1}
    )
    assert [i.name for i in instrs] == ["add", "multiply", "add", "multiply"]
    assert dict(instrs[1].params) == {"amount": 3}
    assert [dict(i.context) for i in instrs] == [{"s": 1}, {"s": 1}, {"x": 1, "s": 1}, {"s": 1}]
    assert len({i.id for i in instrs}) == 4


def test_empty_list_and_none_context() -> None:
    assert normalize([]) == []
    assert dict(normalize(Add, None)[0].context) == {}


def test_context_values_are_passed_as_they_are() -> None:
    session = object()
    (instr,) = normalize((Add, {}, {"db": session}))
    assert instr.context["db"] is session


# -- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("item", "index", "form", "fragment"),
    [
        (123, 0, "int", "got int 123"),
        ("add", 0, "str", "got str 'add'"),
        (("add", {}), 0, "(action, params)", "expected an action"),
        ((Add,), 0, "tuple of 1", "got a tuple of 1 elements"),
        ((Add, {}, {}, {}, {}), 0, "tuple of 5", "got a tuple of 5 elements"),
        ((Add, 5), 0, "(action, params)", "params: Invalid params type"),
        ((Add, {1: "x"}), 0, "(action, params)", "keys must be strings"),
        ((Add, {}, 5), 0, "(action, params, context)", "context: Invalid context type"),
        ({"value": 1}, 0, "dict", "write an action with its params as a tuple"),
        (None, 0, "NoneType", "got NoneType None"),
    ],
)
def test_malformed_items_name_their_position_and_form(
    item: object, index: int, form: str, fragment: str
) -> None:
    with pytest.raises(jido.ValidationError) as info:
        normalize([Add, Multiply, item])
    error = info.value
    assert error.details == {"index": 2, "form": form}
    assert "at index 2" in error.message
    assert form in error.message
    assert fragment in error.message


def test_a_single_malformed_item_has_no_index() -> None:
    with pytest.raises(jido.ValidationError) as info:
        normalize(("add", {}))
    assert info.value.details["index"] is None
    assert info.value.message.startswith("Invalid instruction written as (action, params):")
    assert isinstance(info.value.__cause__, jido.InvalidActionError)


def test_nested_lists_are_rejected() -> None:
    with pytest.raises(jido.ValidationError, match="nested lists are not allowed") as info:
        normalize([Add, [Multiply]])
    assert info.value.details == {"index": 1, "form": "list"}


@pytest.mark.parametrize(
    ("opts", "option"),
    [({"bogus": 1}, "bogus"), ({"timeout": -1}, "timeout"), ({"max_retries": "x"}, "max_retries")],
)
def test_invalid_options_are_config_errors(opts: dict[str, object], option: str) -> None:
    with pytest.raises(jido.ConfigError) as info:
        normalize([(Add, {}, {}, opts)])
    assert info.value.details["option"] == option
    assert "at index 0" in info.value.message


def test_invalid_shared_options_and_context() -> None:
    with pytest.raises(jido.ConfigError, match="unknown run option 'nope'"):
        normalize(Add, opts={"nope": 1})
    with pytest.raises(jido.ValidationError, match="shared context"):
        normalize(Add, 42)


# -- the Instruction value -------------------------------------------------------------------------
def test_instruction_is_immutable() -> None:
    instr = Instruction(Add, {"value": 1})
    with pytest.raises(AttributeError, match="immutable"):
        instr.params = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        instr.params["value"] = 2  # type: ignore[index]
    with pytest.raises(AttributeError):
        del instr.action


def test_instruction_validates_on_creation() -> None:
    with pytest.raises(jido.ValidationError, match="expected an action"):
        Instruction("add")
    with pytest.raises(jido.ValidationError, match="params"):
        Instruction(Add, 3)
    with pytest.raises(jido.ConfigError, match="unknown run option"):
        Instruction(Add, opts={"retries": 3})
    with pytest.raises(jido.ValidationError, match="instruction id"):
        Instruction(Add, id="")


def test_replace_equality_repr_and_pickle() -> None:
    instr = Instruction(Add, {"value": 1, "api_key": "sk-123"}, {"password": "hunter2"})
    changed = instr.replace(params={"value": 2})
    assert changed.id == instr.id
    assert dict(changed.params) == {"value": 2}
    assert changed != instr
    assert instr.replace() == instr
    text = repr(instr)
    assert "sk-123" not in text
    assert "hunter2" not in text
    assert "add" in text
    assert pickle.loads(pickle.dumps(instr)) == instr
    with pytest.raises(TypeError):
        hash(instr)
    with pytest.raises(jido.ConfigError, match="unknown fields"):
        instr.replace(nope=1)


def test_ids_are_unique_and_time_ordered() -> None:
    ids = [Instruction(Add).id for _ in range(50)]
    assert len(set(ids)) == 50
    assert [i[:13] for i in ids] == sorted(i[:13] for i in ids)  # millisecond prefix


def test_an_instruction_runs_itself() -> None:
    instr = Instruction(Add, {"value": 1}, opts={"timeout": 1.0})
    assert instr.run() == {"value": 2}
    assert jido.await_(instr.run_async()) == {"value": 2}
    assert asyncio.run(instr.arun()) == {"value": 2}


# -- allow-lists -----------------------------------------------------------------------------------
def test_allowed_actions_pass() -> None:
    check_allowed([Add, (Multiply, {})], [Add, Multiply])
    check_allowed(Instruction(Add), ["add"])


def test_disallowed_actions_are_listed_once() -> None:
    with pytest.raises(jido.ConfigError) as info:
        check_allowed([Add, Multiply, record, Multiply], [Add])
    assert info.value.message == "Actions not allowed: multiply, record"
    assert info.value.details == {"actions": ["multiply", "record"], "allowed_actions": ["add"]}


def test_actions_in_the_allow_list_match_by_identity() -> None:
    class Add(jido.Action):  # same name as workflow_actions.Add, a different action
        name = "add"

        def run(self, params: dict[str, object], context: dict[str, object]) -> dict[str, object]:
            return {}

    with pytest.raises(jido.ConfigError, match="Actions not allowed: add"):
        check_allowed([Add], [__import__("workflow_actions").Add])


def test_a_bad_allow_list_is_a_config_error() -> None:
    with pytest.raises(jido.ConfigError):
        check_allowed([Add], "add")
    with pytest.raises(jido.ConfigError, match="neither an action nor a name"):
        check_allowed([Add], [42])
