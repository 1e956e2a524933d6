"""Tools: definitions per dialect, strict mode, Gemini's limits, executing tool calls."""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest

import jido
import jido.tools
from jido.tools import aexecute_tool, execute_tool, parameters_schema, to_tool
from tool_models import CreateCategories, PlaceOrder
from workflow_actions import Add, slow

ORDER: dict[str, Any] = {
    "customer": "Ada",
    "lines": [{"sku": "ABC-1", "quantity": 2}],
    "shipping": {"street": "1 Main St", "city": "Springfield"},
}


def subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    """Every schema object nested in ``schema`` (properties, items, anyOf, $defs, ...)."""
    if not isinstance(schema, dict):
        return
    yield schema
    for key in ("properties", "$defs"):
        for sub in schema.get(key, {}).values():
            yield from subschemas(sub)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from subschemas(sub)
    for key in ("items", "additionalProperties"):
        yield from subschemas(schema.get(key))


def objects(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in subschemas(schema) if s.get("type") == "object"]


@jido.action(description="Add two numbers")
def add_numbers(a: int, b: int = 1) -> dict[str, Any]:
    return {"sum": a + b}


@jido.action
def no_params() -> dict[str, Any]:
    return {"ok": True}


@jido.action
def with_mapping(labels: dict[str, str]) -> dict[str, Any]:
    return {"labels": labels}


@jido.action
def nullable_note(note: str | None = "default") -> dict[str, Any]:
    return {"note": note}


@jido.action
def odd_result() -> dict[str, Any]:
    return {
        "when": datetime.date(2024, 1, 2),
        "tags": {"b"},
        "model": ORDER_MODEL,
        "nan": float("nan"),
        "thing": object.__new__(Opaque),
    }


class Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


class _Order(pydantic.BaseModel):
    customer: str


ORDER_MODEL = _Order(customer="Ada")


# -- definitions -----------------------------------------------------------------------------------
def test_openai_definition_shape() -> None:
    tool = to_tool(add_numbers)
    assert tool == {
        "type": "function",
        "function": {
            "name": "add_numbers",
            "description": "Add two numbers",
            "parameters": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer", "default": 1}},
                "required": ["a"],
            },
        },
    }


def test_anthropic_and_gemini_definition_shapes() -> None:
    anthropic = to_tool(add_numbers, "anthropic")
    assert set(anthropic) == {"name", "description", "input_schema"}
    gemini = to_tool(add_numbers, "gemini")
    assert set(gemini) == {"name", "description", "parameters"}
    assert gemini["parameters"]["properties"]["b"] == {"type": "integer"}


def test_titles_are_left_out_but_a_field_named_title_is_kept() -> None:
    @jido.action
    def titled(title: str) -> dict[str, Any]:
        return {}

    schema = parameters_schema(titled)
    assert schema["properties"] == {"title": {"type": "string"}}
    assert not any("title" in s and s is not schema["properties"] for s in subschemas(schema))


def test_an_action_without_params_has_an_empty_object_schema() -> None:
    assert parameters_schema(no_params) == {"type": "object", "properties": {}}
    assert "parameters" not in to_tool(no_params, "gemini")  # Gemini rejects empty objects
    strict = parameters_schema(no_params, strict=True)
    assert strict == {
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": False,
    }


def test_name_and_description_can_be_overridden() -> None:
    tool = to_tool(add_numbers, "anthropic", name="sum_up", description="Sums")
    assert (tool["name"], tool["description"]) == ("sum_up", "Sums")
    with pytest.raises(jido.ConfigError, match="1 to 64 characters"):
        to_tool(add_numbers, name="x" * 65)


def test_unknown_dialect_and_non_actions_are_rejected() -> None:
    with pytest.raises(jido.ConfigError, match="unknown tool dialect 'mistral'"):
        to_tool(add_numbers, "mistral")  # type: ignore[arg-type]
    with pytest.raises(jido.InvalidActionError):
        to_tool(lambda a: a)


def test_a_schema_that_cannot_be_json_is_a_config_error() -> None:
    class Handle:
        pass

    @jido.action
    def takes_handle(h: Handle) -> dict[str, Any]:
        return {}

    with pytest.raises(jido.ConfigError, match="cannot be described as JSON schema"):
        to_tool(takes_handle)


# -- strict mode -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
def test_strict_closes_every_object_and_requires_every_property(dialect: Any) -> None:
    tool = to_tool(PlaceOrder, dialect, strict=True)
    assert tool.get("strict", tool.get("function", {}).get("strict")) is True
    schema = parameters_schema(PlaceOrder, dialect, strict=True)
    found = objects(schema)
    assert len(found) == 3  # root, Address, Line
    for obj in found:
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])


def test_strict_makes_optional_fields_nullable_and_keeps_nullable_ones() -> None:
    props = parameters_schema(PlaceOrder, strict=True)["properties"]
    assert props["express"] == {
        "anyOf": [{"type": "boolean"}, {"type": "null"}],
        "default": False,
    }
    assert props["customer"] == {"type": "string", "description": "Customer name"}
    billing = props["billing"]  # was already nullable: unchanged, no "default": null
    assert billing == {
        "anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}],
        "description": "Defaults to shipping",
    }


def test_strict_cannot_describe_free_form_mappings() -> None:
    with pytest.raises(jido.ConfigError, match="free-form mapping at /properties/labels") as info:
        to_tool(with_mapping, strict=True)
    assert info.value.details["path"] == "/properties/labels"
    assert to_tool(with_mapping)["function"]["parameters"]["properties"]["labels"]


def test_recursive_models_keep_their_references_for_openai_and_anthropic() -> None:
    dialects: tuple[jido.tools.Dialect, ...] = ("openai", "anthropic")
    for dialect in dialects:
        schema = parameters_schema(CreateCategories, dialect)
        assert schema["$defs"]["Category"]["properties"]["children"]["items"] == {
            "$ref": "#/$defs/Category"
        }
    strict = parameters_schema(CreateCategories, strict=True)
    assert strict["properties"]["root"]["description"] == "The tree to create"


# -- gemini ----------------------------------------------------------------------------------------
def test_gemini_has_no_references_and_only_supported_keywords() -> None:
    schema = parameters_schema(PlaceOrder, "gemini")
    allowed = {
        "type", "format", "description", "nullable", "enum", "properties", "required",
        "items", "minItems", "maxItems", "minimum", "maximum", "minLength", "maxLength",
        "pattern", "anyOf",
    }  # fmt: skip
    for sub in subschemas(schema):
        assert "$ref" not in sub
        assert "$defs" not in sub
        assert set(sub) <= allowed, set(sub) - allowed
        assert not any(s.get("type") == "null" for s in sub.get("anyOf", []))
    props = schema["properties"]
    assert props["billing"]["nullable"] is True
    assert props["billing"]["properties"]["street"]["type"] == "string"
    assert props["coupon"]["description"] == "(one of: 5, 10, 20)"
    assert props["deliver_on"]["description"] == "(format: date)"


def test_gemini_unrolls_recursive_models_to_a_fixed_depth() -> None:
    root = parameters_schema(CreateCategories, "gemini")["properties"]["root"]
    depth = 0
    node: dict[str, Any] | None = root
    while node is not None:
        depth += 1
        children = node["properties"].get("children")
        node = children["items"] if children else None
    assert depth == jido.tools.GEMINI_RECURSION_DEPTH
    # a deeper tree still validates: pydantic checks what arrives, not the schema
    deep = {"name": "a", "children": [{"name": "b", "children": [{"name": "c", "children": [
        {"name": "d", "children": [{"name": "e"}]}]}]}]}  # fmt: skip
    out = json.loads(execute_tool(CreateCategories, json.dumps({"root": deep})))
    assert out == {"created": "a", "dry_run": False}


def test_gemini_rejects_strict_and_free_form_mappings() -> None:
    with pytest.raises(jido.ConfigError, match="no strict mode"):
        to_tool(add_numbers, "gemini", strict=True)
    with pytest.raises(jido.ConfigError, match="Gemini cannot describe the free-form mapping"):
        to_tool(with_mapping, "gemini")


# -- executing tool calls --------------------------------------------------------------------------
def test_execute_returns_the_result_as_json() -> None:
    assert execute_tool(add_numbers, '{"a": 2, "b": 3}') == '{"sum": 5}'
    assert json.loads(execute_tool(PlaceOrder, json.dumps(ORDER)))["order"]["customer"] == "Ada"


@pytest.mark.parametrize("arguments", [{"a": 2}, b'{"a": 2}', '{"a": "2"}'])
def test_arguments_may_be_parsed_objects_bytes_or_strings(arguments: Any) -> None:
    assert json.loads(execute_tool(add_numbers, arguments)) == {"sum": 3}


@pytest.mark.parametrize("arguments", [None, "", b""])
def test_empty_arguments_mean_no_params(arguments: Any) -> None:
    assert json.loads(execute_tool(no_params, arguments)) == {"ok": True}


def test_nulls_for_optional_fields_mean_the_default() -> None:
    args = {**ORDER, "express": None, "notes": None, "billing": None}
    args["lines"] = [{"sku": "ABC-1", "quantity": None}]
    args["shipping"] = {**ORDER["shipping"], "postcode": None}
    order = json.loads(execute_tool(PlaceOrder, json.dumps(args)))["order"]
    assert order["express"] is False
    assert order["notes"] == ""
    assert order["lines"] == [{"sku": "ABC-1", "quantity": 1}]
    assert order["billing"] is None
    assert order["shipping"]["postcode"] is None


def test_a_null_for_a_nullable_field_is_kept() -> None:
    assert json.loads(execute_tool(nullable_note, '{"note": null}')) == {"note": None}
    assert json.loads(execute_tool(nullable_note, "{}")) == {"note": "default"}


def test_strict_arguments_round_trip() -> None:
    schema = parameters_schema(PlaceOrder, strict=True)
    args = dict.fromkeys(schema["required"]) | ORDER
    assert "order" in json.loads(execute_tool(PlaceOrder, json.dumps(args)))


def test_unknown_keys_are_kept_as_the_open_schema_says() -> None:
    out = json.loads(execute_tool(PlaceOrder, json.dumps({**ORDER, "gift": True})))
    assert out["order"]["gift"] is True


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ('{"a": 1', "not valid JSON (Expecting ',' delimiter at line 1 column 8)"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('"a"', "expected a JSON object, got str"),
    ],
)
def test_bad_arguments_come_back_as_a_json_error(arguments: str, fragment: str) -> None:
    error = json.loads(execute_tool(add_numbers, arguments))["error"]
    assert error["type"] == "validation_error"
    assert fragment in error["message"]
    assert error["retryable"] is False


def test_validation_errors_come_back_with_the_failing_fields() -> None:
    error = json.loads(execute_tool(add_numbers, '{"a": "two", "api_key": "sk-1"}'))["error"]
    assert error["type"] == "validation_error"
    assert error["message"].startswith("Invalid params for action 'add_numbers': a:")
    assert error["details"]["errors"][0]["field"] == "a"
    assert "sk-1" not in json.dumps(error)


def test_action_errors_come_back_as_a_json_error() -> None:
    @jido.action
    def broken() -> dict[str, Any]:
        raise RuntimeError("database is down, password=hunter2")

    error = json.loads(execute_tool(broken, "{}", max_retries=0))["error"]
    assert error["type"] == "execution_error"
    assert "database is down" in error["message"]
    assert "hunter2" not in error["message"]
    assert error["retryable"] is True


def test_timeouts_come_back_as_a_json_error() -> None:
    error = json.loads(execute_tool(slow, '{"seconds": 1}', timeout=0.05, max_retries=0))
    assert error["error"]["type"] == "timeout"


def test_misuse_still_raises() -> None:
    with pytest.raises(jido.InvalidActionError):
        execute_tool("add", "{}")
    with pytest.raises(jido.ConfigError, match="unknown run option"):
        execute_tool(Add, "{}", retries=1)  # type: ignore[call-arg]


def test_results_that_are_not_plain_json_are_converted() -> None:
    out = json.loads(execute_tool(odd_result, None))
    assert out == {
        "when": "2024-01-02",
        "tags": ["b"],
        "model": {"customer": "Ada"},
        "nan": None,
        "thing": "<opaque>",
    }


def test_context_and_options_reach_the_run() -> None:
    @jido.action
    def whoami(context: dict[str, Any]) -> dict[str, Any]:
        return {"user": context["user"], "attempts": jido.current().max_attempts}

    out = json.loads(execute_tool(whoami, "{}", {"user": "ada"}, max_retries=2))
    assert out == {"user": "ada", "attempts": 3}


def test_aexecute_tool() -> None:
    async def main() -> list[str]:
        return [
            await aexecute_tool(add_numbers, '{"a": 1}'),
            await aexecute_tool(add_numbers, '{"a": "x"}'),
        ]

    ok, failed = asyncio.run(main())
    assert json.loads(ok) == {"sum": 2}
    assert json.loads(failed)["error"]["type"] == "validation_error"
