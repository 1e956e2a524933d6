"""What the README says, as it happens (issue 8, defect 12), one test per reported mismatch.

``details["attempts"]`` on validation and ``await_``-timeout errors; a chain's error has
the step's error as ``__cause__``; a saga's failure record names the step; ``retry_on``
accepts any iterable of exception types; ``telemetry="silent"`` on chains and plans
silences the composite too; ``not_started`` is in the guarantees table; a base class
without ``run`` needs no ``abstract=True``; an inherited ``description`` is used; the
telemetry snippet leaves no handler attached.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import pydantic
import pytest

import jido
import jido.telemetry
import jido.tools
from jido._observe.handlers import REGISTRY
from jido.workflow import achain, chain_async
from support import wait_until

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
OBSERVABILITY = (Path(__file__).resolve().parent.parent / "docs" / "observability.md").read_text()


@jido.action
def needs_int(x: int) -> dict[str, Any]:
    return {"x": x}


@jido.action
def step_ok(value: int = 0) -> dict[str, Any]:
    return {"value": value + 1}


@jido.action
def step_fails(value: int = 0) -> dict[str, Any]:
    raise ValueError("step exploded")


# -- details["attempts"] ---------------------------------------------------------------------------
def test_validation_errors_have_zero_attempts_in_every_entry_point() -> None:
    with pytest.raises(jido.ValidationError) as info:
        jido.run(needs_int, {"x": "nope"})
    assert info.value.details["attempts"] == 0
    with pytest.raises(jido.ValidationError) as info:
        jido.await_(jido.run_async(needs_int, {"x": "nope"}))
    assert info.value.details["attempts"] == 0
    with pytest.raises(jido.ValidationError) as info:
        asyncio.run(jido.arun(needs_int, {"x": "nope"}))
    assert info.value.details["attempts"] == 0


def test_an_await_timeout_error_has_the_runs_attempts() -> None:
    @jido.action
    def waits() -> dict[str, Any]:
        jido.current().sleep(5)
        return {}

    with pytest.raises(jido.TimeoutError) as info:
        jido.await_(jido.run_async(waits, timeout=10), timeout=0.1)
    assert info.value.details["attempts"] == 1
    assert info.value.details["stopped"] is True


# -- chains and sagas ------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["sync", "async", "ref"])
def test_a_chain_error_has_the_step_error_as_its_cause(how: str) -> None:
    steps = [step_ok, step_fails]
    runs = {
        "sync": lambda: jido.chain(steps, max_retries=0),
        "async": lambda: asyncio.run(achain(steps, max_retries=0)),
        "ref": lambda: jido.await_(chain_async(steps, max_retries=0)),
    }
    with pytest.raises(jido.ExecutionError) as info:
        runs[how]()
    error = info.value
    assert error.message.startswith("Chain step 1 (step_fails) failed: ")
    assert error.details["step"] == 1
    step_error = error.__cause__
    assert isinstance(step_error, jido.ExecutionError)
    assert step_error is not error
    assert step_error.message == "Action 'step_fails' failed: ValueError: step exploded"
    assert "step" not in step_error.details
    assert isinstance(step_error.__cause__, ValueError)


def test_a_plan_error_has_the_step_error_as_its_cause() -> None:
    with pytest.raises(jido.ExecutionError) as info:
        jido.Plan().add("a", step_fails).run(max_retries=0)
    assert info.value.details["step"] == "a"
    assert isinstance(info.value.__cause__, jido.ExecutionError)
    assert "step" not in info.value.__cause__.details


class Undo(jido.Action):
    name = "reserve_room"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"room": 7}

    def on_error(
        self, params: dict[str, Any], error: jido.JidoError, context: dict[str, Any]
    ) -> dict[str, Any]:
        raise RuntimeError("cannot release the room")


def test_a_saga_failure_record_names_the_step_not_the_internal_runner() -> None:
    with pytest.raises(jido.ExecutionError) as info:
        jido.chain([Undo, step_fails], compensate=True, max_retries=0)
    (record,) = info.value.details["saga"]
    assert record["action"] == "reserve_room"
    assert record["status"] == "failed"
    assert "compensate" not in record["error"]
    assert record["error"] == (
        "on_error of 'reserve_room' failed: RuntimeError: cannot release the room"
    )


# -- retry_on --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "retry_on",
    [[KeyError], {KeyError, IndexError}, (KeyError,), KeyError, iter([KeyError])],
    ids=["list", "set", "tuple", "type", "iterator"],
)
def test_retry_on_accepts_any_iterable_of_exception_types(retry_on: Any) -> None:
    calls: list[str] = []

    @jido.action
    def flaky(kind: str) -> dict[str, Any]:
        calls.append(kind)
        raise KeyError(kind) if kind == "key" else ValueError(kind)

    with pytest.raises(jido.ExecutionError):
        jido.run(flaky, {"kind": "key"}, retry_on=retry_on, max_retries=2, backoff=0, timeout=0)
    assert calls == ["key"] * 3
    calls.clear()
    if isinstance(retry_on, type(iter([]))):
        return  # an iterator is read once
    with pytest.raises(jido.ExecutionError):
        jido.run(flaky, {"kind": "value"}, retry_on=retry_on, max_retries=2, backoff=0, timeout=0)
    assert calls == ["value"]


@pytest.mark.parametrize("bad", [[KeyError, "x"], ["KeyError"], "KeyError", {"a": KeyError}])
def test_retry_on_with_something_else_is_a_config_error(bad: Any) -> None:
    with pytest.raises(jido.ConfigError, match="retry_on"):
        jido.run(step_ok, retry_on=bad)


# -- telemetry="silent" on composites --------------------------------------------------------------
@pytest.mark.parametrize("how", ["chain", "achain", "chain_async", "plan", "plan_arun"])
def test_silent_composites_emit_nothing_at_all(how: str) -> None:
    events: list[jido.telemetry.Event] = []
    with jido.telemetry.attached(events.append):
        if how == "chain":
            jido.chain([step_ok, step_ok], telemetry="silent")
        elif how == "achain":
            asyncio.run(achain([step_ok], telemetry="silent"))
        elif how == "chain_async":
            jido.await_(chain_async([step_ok], telemetry="silent"))
        elif how == "plan":
            jido.Plan().add("a", step_ok).run(telemetry="silent")
        else:
            asyncio.run(jido.Plan().add("a", step_ok).arun(telemetry="silent"))
    assert events == []


def test_a_composite_with_full_telemetry_still_reports_itself() -> None:
    events: list[jido.telemetry.Event] = []
    with jido.telemetry.attached(events.append, events=["run."]):
        jido.chain([step_ok])
    assert {e.action for e in events} == {"chain", "step_ok"}


# -- the guarantees table --------------------------------------------------------------------------
def test_not_started_occurs_and_is_in_the_guarantees_table() -> None:
    seen: list[tuple[str, int]] = []

    class Parent(jido.Action):
        name = "late_parent"
        interruptible = False  # keeps running past its deadline

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            deadline = jido.current().deadline
            assert deadline is not None
            while time.monotonic() < deadline + 0.05:
                pass
            try:
                jido.run(step_ok, timeout=1)
            except jido.TimeoutError as exc:
                seen.append((exc.details["stop"], exc.details["attempts"]))
            return {}

    with pytest.raises(jido.TimeoutError):
        jido.run(Parent, total_timeout=0.2, max_retries=0)
    assert wait_until(lambda: seen, timeout=5)
    assert seen == [("not_started", 0)]
    start = README.index("## Guarantees")
    table = README[start : README.index("\n## ", start + 1)]
    assert "`not_started`" in table


# -- action definitions ----------------------------------------------------------------------------
class ApiParams(pydantic.BaseModel):
    url: str


class ApiBase(jido.Action):  # no run, no name, no abstract=True
    description = "Calls the partner API"
    category = "http"
    schema = ApiParams


class FetchUser(ApiBase):
    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"url": params["url"]}


class FetchOrder(ApiBase):
    """Fetches one order."""

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {}


def test_a_base_class_without_run_is_a_usable_base() -> None:
    assert jido.run(FetchUser, {"url": "u"}, timeout=0) == {"url": "u"}
    with pytest.raises(jido.InvalidActionError, match="abstract action class"):
        jido.run(ApiBase, {"url": "u"})
    with pytest.raises(jido.InvalidActionError, match="does not implement run"):

        class Named(ApiBase):  # sets a name: means to be an action
            name = "named"


def test_an_inherited_description_is_used_by_metadata_and_tools() -> None:
    meta = FetchUser.metadata()
    assert meta["name"] == "fetch_user"
    assert meta["description"] == "Calls the partner API"
    assert FetchUser.description == "Calls the partner API"
    tool = jido.tools.to_tool(FetchUser, "anthropic")
    assert tool["description"] == "Calls the partner API"
    assert FetchOrder.metadata()["description"] == "Fetches one order."  # its own docstring wins


# -- README text and snippets ----------------------------------------------------------------------
def test_the_intro_states_the_abandoned_thread_exception() -> None:
    intro = README[: README.index("## Two commands")]
    assert "sync code included" not in intro
    assert "abandoned" in intro


def test_the_telemetry_snippet_leaves_no_handler_attached(
    capsys: pytest.CaptureFixture[str],
) -> None:
    section = OBSERVABILITY[OBSERVABILITY.index("## Events") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    before = REGISTRY.handlers

    class Add(jido.Action):
        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            return {"value": params["value"] + 1}

    exec(code.group(1), {"Add": Add})
    assert REGISTRY.handlers == before
    assert "run.start" in capsys.readouterr().out
