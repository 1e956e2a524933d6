"""``jido.mcp.server`` in-process (the official client's in-memory transport): the contract.

Transport-independent behaviour: tool definitions and their schemas, every kind of
failure as a structured tool error, run options, context, telemetry, cancellation.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import hypothesis
import jsonschema
import pydantic
import pytest
from hypothesis import strategies as st
from mcp import Client

import jido
import jido.mcp
import jido.telemetry
from jido._mcp.cli import load_actions
from jido._observe.handlers import REGISTRY
from serving import agent_actions, scenarios

TEST_ACTION_MODULES = [
    "serving.agent_actions",
    "actions",
    "workflow_actions",
    "tool_models",
    "conformance.actions",
]
SERVED = load_actions("serving.agent_actions")


def drive(server: Any, check: Callable[[Client], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with Client(server) as client:
            return await check(client)

    return asyncio.run(main())


def every_test_action() -> list[object]:
    found: list[object] = []
    for module in TEST_ACTION_MODULES:
        found += load_actions(module)
    return found


# -- tool definitions ----------------------------------------------------------------------------
def test_every_test_action_has_valid_2020_12_schemas() -> None:
    actions = every_test_action()
    assert len(actions) > 60
    for action in actions:
        server = jido.mcp.server([action])
        tools = drive(server, lambda c: c.list_tools()).tools
        assert len(tools) == 1
        for schema in (tools[0].input_schema, tools[0].output_schema):
            if schema is None:
                continue
            jsonschema.Draft202012Validator.check_schema(schema)
            assert schema["type"] == "object"


def test_results_match_their_output_schema() -> None:
    order = {"customer": "ada", "items": [{"sku": "x", "quantity": 2}]}
    tools = {t.name: t for t in drive(jido.mcp.server(SERVED), lambda c: c.list_tools()).tools}
    for name, args in (("add", {"a": 1}), ("place_order", order)):
        result = drive(jido.mcp.server(SERVED), lambda c, n=name, a=args: c.call_tool(n, a))
        jsonschema.validate(result.structured_content, tools[name].output_schema)


def test_listing_is_pinned_by_the_golden_file() -> None:
    drive(jido.mcp.server(SERVED), scenarios.check_listing)


def test_an_action_that_declares_nothing_claims_nothing() -> None:
    @jido.action
    def plain() -> dict[str, Any]:
        return {}

    @jido.action(title="Only a title")
    def titled() -> dict[str, Any]:
        return {}

    listing = scenarios.tool_listing(
        drive(jido.mcp.server([plain, titled]), lambda c: c.list_tools())
    )
    assert listing[0] == {"name": "plain", "inputSchema": {"type": "object", "properties": {}}}
    assert listing[1]["title"] == "Only a title"
    assert "annotations" not in listing[1]


def test_bad_server_definitions_fail_at_once() -> None:
    with pytest.raises(jido.InvalidActionError):
        jido.mcp.server([agent_actions.add, print])
    with pytest.raises(jido.ConfigError, match="empty"):
        jido.mcp.server([])
    with pytest.raises(jido.ConfigError, match="unknown run option"):
        jido.mcp.server([agent_actions.add], timeuot=1)
    with pytest.raises(jido.ConfigError, match="heartbeat"):
        jido.mcp.server([agent_actions.add], heartbeat=0)

    @jido.action(name="add")
    def other_add() -> dict[str, Any]:
        return {}

    with pytest.raises(jido.ConfigError, match="unique"):
        jido.mcp.server([agent_actions.add, other_add])
    twice = jido.mcp.server([agent_actions.add, agent_actions.add])
    assert [t.name for t in drive(twice, lambda c: c.list_tools()).tools] == ["add"]


def test_annotations_are_checked_when_the_action_is_defined() -> None:
    with pytest.raises(jido.InvalidActionError, match="read_only"):

        @jido.action(read_only="yes")  # type: ignore[arg-type]
        def bad() -> dict[str, Any]:
            return {}

    with pytest.raises(jido.InvalidActionError, match="title"):

        class Bad(jido.Action):
            title = ""

            def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
                return {}


# -- calls -----------------------------------------------------------------------------------------
def test_calls_and_errors_in_process() -> None:
    async def check(client: Client) -> None:
        await scenarios.check_call(client)
        await scenarios.check_errors(client)
        await scenarios.check_progress_of_a_retry(client)

    drive(jido.mcp.server(SERVED, max_retries=2, backoff=0.1), check)


def test_a_timeout_is_a_structured_error_that_says_the_work_stopped() -> None:
    async def check(client: Client) -> None:
        started = time.monotonic()
        body = scenarios.error_of(await client.call_tool("slow", {"seconds": 10}))
        assert time.monotonic() - started < 3
        assert body["type"] == "timeout"
        assert body["retryable"] is True
        assert body["details"]["stopped"] is True
        assert body["details"]["attempts"] == 1

    drive(jido.mcp.server(SERVED, timeout=0.2, max_retries=0), check)


def test_retry_after_and_compensation_reach_the_model() -> None:
    class Charge(jido.Action):
        name = "charge"

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            raise jido.ExecutionError("card declined", retry_after=7.5, retryable=True)

        def on_error(
            self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
        ) -> dict[str, Any]:
            return {"refunded": True}

    async def check(client: Client) -> None:
        body = scenarios.error_of(await client.call_tool("charge", {}))
        assert body["retry_after"] == 7.5
        assert body["details"]["compensation"] == {
            "compensated": True,
            "result": {"refunded": True},
        }

    drive(jido.mcp.server([Charge], max_retries=0), check)


def test_context_reaches_the_action_and_never_the_model() -> None:
    seen: list[Any] = []

    @jido.action
    def whoami(context: dict[str, Any]) -> dict[str, Any]:
        seen.append(context["db"])
        return {"ok": True}

    async def check(client: Client) -> None:
        result = await client.call_tool("whoami", {})
        assert result.structured_content == {"ok": True}
        assert "s3cret" not in json.dumps(result.model_dump(mode="json"))

    drive(jido.mcp.server([whoami], context={"db": "postgres://u:s3cret@h"}), check)
    assert seen == ["postgres://u:s3cret@h"]


def test_results_that_are_not_json_are_converted() -> None:
    class Out(pydantic.BaseModel):
        when: float
        tags: set[str]

    @jido.action
    def odd() -> dict[str, Any]:
        return {"model": Out(when=1.5, tags={"a"}), "nan": float("nan"), "obj": object()}

    async def check(client: Client) -> None:
        content = (await client.call_tool("odd", {})).structured_content
        assert content["model"] == {"when": 1.5, "tags": ["a"]}
        assert content["nan"] is None
        assert content["obj"].startswith("<object object")

    drive(jido.mcp.server([odd]), check)


def test_calls_are_jido_runs_with_named_run_ids() -> None:
    events: list[jido.telemetry.Event] = []

    async def check(client: Client) -> None:
        await client.call_tool("add", {"a": 1})
        await client.call_tool("add", {"a": "x"})

    with jido.telemetry.attached(events.append, events=["run.stop"]):
        drive(jido.mcp.server(SERVED), check)
    stops = [e for e in events if e.action == "add"]
    assert [e.metadata["outcome"] for e in stops] == ["ok", "error"]
    assert all(e.run_id.startswith("mcp-") for e in stops)
    assert stops[0].run_id != stops[1].run_id


def test_progress_handlers_are_attached_only_while_needed() -> None:
    before = len(REGISTRY.handlers)

    async def check(client: Client) -> None:
        async def ignore(progress: float, total: float | None, message: str | None) -> None:
            assert len(REGISTRY.handlers) == before + 1

        await client.call_tool("flaky", {}, progress_callback=ignore)
        assert len(REGISTRY.handlers) == before
        await client.call_tool("add", {"a": 1})

    drive(jido.mcp.server(SERVED, backoff=0.01), check)
    assert len(REGISTRY.handlers) == before


def test_cancelling_an_async_action_cancels_its_task() -> None:
    state: dict[str, Any] = {}

    @jido.action
    async def wait_forever() -> dict[str, Any]:
        state["started"] = time.monotonic()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            state["cancelled"] = time.monotonic()
            raise
        return {}

    async def check(client: Client) -> None:
        with anyio.move_on_after(0.3):
            await client.call_tool("wait_forever", {})
        cancelled = time.monotonic()
        while "cancelled" not in state and time.monotonic() - cancelled < 2:
            await anyio.sleep(0.01)
        assert state["cancelled"] - cancelled < 0.5

    drive(jido.mcp.server([wait_forever], timeout=30), check)


# -- property: any arguments give a result, never a protocol error ---------------------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(
    name=st.sampled_from(["add", "place_order", "echo"]),
    arguments=st.dictionaries(
        st.sampled_from(["a", "b", "customer", "items", "text", "note", "x"]), JSON
    ),
)
def test_any_arguments_give_a_result_or_a_validation_error(
    name: str, arguments: dict[str, Any]
) -> None:
    result = drive(jido.mcp.server(SERVED), lambda c: c.call_tool(name, arguments))
    if result.is_error:
        assert result.structured_content["type"] == "validation_error"
        assert result.structured_content["details"].get("field")
    else:
        assert isinstance(result.structured_content, dict)
