"""Plans: building, validation (missing names, cycles), phases, concurrent execution."""

from __future__ import annotations

import asyncio
import pickle
import time
from typing import Any

import pytest

import jido
from jido.workflow import Instruction, Plan, PlanResult, PlanStep
from workflow_actions import Add, Log, Multiply, fail, merge, nap, record, slow, wait_for


def _sorted(phases: list[list[str]]) -> list[list[str]]:
    return [sorted(phase) for phase in phases]


# -- building --------------------------------------------------------------------------------------
def test_add_returns_a_new_plan_and_leaves_the_old_one_alone() -> None:
    empty = Plan()
    one = empty.add("a", Add)
    two = one.add("b", Multiply, depends_on="a")
    assert len(empty) == 0
    assert list(one) == ["a"]
    assert list(two) == ["a", "b"]
    assert two.id == empty.id
    assert two.steps["b"] == PlanStep("b", two.steps["b"].instruction, ("a",))


def test_add_accepts_every_instruction_form_params_context_and_options() -> None:
    plan = (
        Plan(context={"tenant": "t1"})
        .add("bare", Add)
        .add("tuple", (Add, {"value": 1}), {"amount": 2}, context={"user": 7})
        .add("instr", Instruction(Add, {"value": 3}, {"tenant": "own"}), timeout=1.0)
    )
    bare, tup, instr = (plan.steps[n].instruction for n in ("bare", "tuple", "instr"))
    assert dict(bare.context) == {"tenant": "t1"}
    assert dict(tup.params) == {"value": 1, "amount": 2}
    assert dict(tup.context) == {"user": 7, "tenant": "t1"}
    assert dict(instr.context) == {"tenant": "t1"}  # the plan's context wins
    assert dict(instr.opts) == {"timeout": 1.0}


def test_dependencies_are_unioned_without_duplicates() -> None:
    plan = Plan().add("a", Add).add("b", Add).add("c", Add, depends_on=["a", "a"])
    plan = plan.depends_on("c", ["b", "a"]).depends_on("c", "b")
    assert plan.steps["c"].depends_on == ("a", "b")


def test_depends_on_an_unknown_step_is_an_error() -> None:
    with pytest.raises(jido.ValidationError, match="Step not found: 'x'") as info:
        Plan().add("a", Add).depends_on("x", "a")
    assert info.value.details == {"step": "x", "available_steps": ["a"]}


def test_a_step_with_the_same_name_replaces_the_earlier_one() -> None:
    plan = Plan().add("a", Add).add("a", Multiply)
    assert len(plan) == 1
    assert plan.steps["a"].instruction.name == "multiply"


@pytest.mark.parametrize(
    ("name", "step", "deps", "fragment"),
    [
        ("", Add, (), "step name must be a non-empty string"),
        (3, Add, (), "step name must be a non-empty string"),
        ("a", "add", (), "Plan step 'a': Invalid instruction"),
        ("a", [Add], (), "not a list"),
        ("a", (Add, 5), (), "params"),
        ("a", Add, [1], "dependencies must be step names"),
    ],
)
def test_malformed_steps_are_validation_errors(
    name: Any, step: object, deps: Any, fragment: str
) -> None:
    with pytest.raises(jido.ValidationError, match=fragment):
        Plan().add(name, step, depends_on=deps)


def test_bad_step_options_are_config_errors() -> None:
    with pytest.raises(jido.ConfigError, match="unknown run option") as info:
        Plan().add("a", Add, retries=2)  # type: ignore[call-arg]
    assert info.value.details["step"] == "a"


def test_from_mapping_accepts_forms_and_dict_specs_and_round_trips() -> None:
    plan = Plan.from_mapping(
        {
            "fetch": Add,
            "double": {"action": Multiply, "params": {"amount": 2}, "depends_on": ["fetch"]},
            "save": {"action": record, "depends_on": "double", "opts": {"timeout": 2.0}},
        },
        context={"k": 1},
    )
    assert plan.phases() == [["fetch"], ["double"], ["save"]]
    mapping = plan.to_mapping()
    assert mapping["double"] == {
        "action": Multiply,
        "params": {"amount": 2},
        "context": {"k": 1},
        "depends_on": ["fetch"],
    }
    again = Plan.from_mapping(mapping, context={"k": 1})
    assert again.to_mapping() == mapping


@pytest.mark.parametrize(
    ("steps", "fragment"),
    [
        ([("a", Add)], "must be a mapping"),
        ({"a": {"params": {}}}, "no 'action'"),
        ({"a": {"action": Add, "deps": ["b"]}}, "unknown keys \\['deps'\\]"),
    ],
)
def test_from_mapping_errors(steps: Any, fragment: str) -> None:
    with pytest.raises(jido.ValidationError, match=fragment):
        Plan.from_mapping(steps)


# -- validation and phases -------------------------------------------------------------------------
def test_missing_dependencies_are_reported_per_step() -> None:
    plan = Plan().add("a", Add, depends_on=["y", "x"]).add("b", Add, depends_on=["a", "z"])
    with pytest.raises(jido.ValidationError) as info:
        plan.validate()
    assert info.value.message == (
        "Plan contains dependencies on undefined steps: a -> x, y; b -> z"
    )
    assert info.value.details == {
        "missing_dependencies_by_step": {"a": ["x", "y"], "b": ["z"]},
        "available_steps": ["a", "b"],
    }


def test_missing_dependencies_are_checked_before_cycles() -> None:
    plan = Plan().add("a", Add, depends_on="b").add("b", Add, depends_on=["a", "ghost"])
    with pytest.raises(jido.ValidationError, match="undefined steps"):
        plan.phases()


def test_a_cycle_names_its_members_in_order() -> None:
    plan = (
        Plan()
        .add("start", Add)
        .add("a", Add, depends_on=["start", "c"])
        .add("b", Add, depends_on="a")
        .add("c", Add, depends_on="b")
    )
    with pytest.raises(jido.ValidationError) as info:
        plan.run()
    assert info.value.message == "Plan contains circular dependencies: a -> c -> b -> a"
    assert info.value.details == {"cycle": ["a", "c", "b", "a"]}


def test_a_step_depending_on_itself_is_a_cycle() -> None:
    with pytest.raises(jido.ValidationError) as info:
        Plan().add("a", Add, depends_on="a").validate()
    assert info.value.details["cycle"] == ["a", "a"]


def test_phases_of_a_diamond() -> None:
    plan = (
        Plan()
        .add("fetch", Add)
        .add("validate", Add, depends_on="fetch")
        .add("enrich", Add, depends_on="fetch")
        .add("save", Add, depends_on=["validate", "enrich"])
    )
    assert plan.phases() == [["fetch"], ["validate", "enrich"], ["save"]]


def test_phases_follow_the_longest_dependency_path() -> None:
    plan = (
        Plan()
        .add("d", Add, depends_on=["a", "c"])
        .add("a", Add)
        .add("b", Add)
        .add("c", Add, depends_on="b")
        .add("e", Add)
    )
    assert _sorted(plan.phases()) == [["a", "b", "e"], ["c"], ["d"]]
    assert plan.phases()[0] == ["a", "b", "e"]  # order of addition within a phase


def test_empty_plan() -> None:
    assert Plan().phases() == []
    assert Plan().run() == {}


# -- running ---------------------------------------------------------------------------------------
def test_each_step_gets_initial_params_its_dependencies_results_and_its_own_params() -> None:
    plan = (
        Plan()
        .add("one", Add, {"value": 1})
        .add("two", Multiply, {"value": 10})
        .add("seen", merge, {"mine": True}, depends_on=["two", "one"])
    )
    result = plan.run({"base": "b", "value": 0})
    assert isinstance(result, PlanResult)
    assert result.ok
    assert list(result) == ["one", "two", "seen"]
    assert result["one"] == {"value": 2}
    assert result["two"] == {"value": 20}
    # dependencies merged in depends_on order: "one" (value 2) after "two" (value 20)
    assert result["seen"] == {"seen": {"base": "b", "value": 2, "mine": True}}


def test_fifty_independent_steps_run_concurrently() -> None:
    plan = Plan()
    for i in range(50):
        plan = plan.add(f"s{i}", nap, {"i": i, "seconds": 0.1})
    started = time.monotonic()
    result = plan.run()
    elapsed = time.monotonic() - started
    assert len(result) == 50
    assert result["s7"] == {"r7": 7}
    assert elapsed < 2.5, elapsed  # 5 s sequentially; about 0.4 s with 16 at a time


def test_max_concurrency_bounds_running_steps() -> None:
    log = Log()
    plan = Plan(context={"log": log})
    for i in range(9):
        plan = plan.add(f"s{i}", nap, {"i": i, "seconds": 0.05})
    started = time.monotonic()
    plan.run(max_concurrency=3)
    assert log.max_running == 3
    assert time.monotonic() - started >= 0.14  # three waves of 0.05 s


def test_unbounded_concurrency() -> None:
    log = Log()
    plan = Plan(context={"log": log})
    for i in range(20):
        plan = plan.add(f"s{i}", nap, {"i": i, "seconds": 0.2})
    plan.run(max_concurrency=None)
    assert log.max_running == 20


def test_first_failure_cancels_running_steps_and_skips_the_rest() -> None:
    log = Log()
    plan = (
        Plan(context={"log": log})
        .add("quick", Add, {"value": 1})
        .add("long", slow, {"label": "long"})
        .add("bad", fail, {"message": "no stock"}, depends_on="quick")
        .add("after", record, depends_on="bad")
        .add("later", record, depends_on="long")
    )
    started = time.monotonic()
    with pytest.raises(jido.ExecutionError) as info:
        plan.run()
    assert time.monotonic() - started < 2.0
    error = info.value
    assert error.message == "Plan step 'bad' (fail) failed: no stock"
    assert error.details["step"] == "bad"
    assert error.details["step_action"] == "fail"
    assert error.details["completed"] == ["quick"]
    assert error.details["cancelled"] == ["long"]
    assert error.details["skipped"] == ["after", "later"]
    assert error.details["results"] == {"quick": {"value": 2}}
    assert log.event("long-stopped").is_set()
    assert "record" not in log.names()


def test_continue_on_failure_runs_what_can_run() -> None:
    plan = (
        Plan()
        .add("a", Add, {"value": 1})
        .add("bad", fail)
        .add("b", Add, depends_on="a")
        .add("after_bad", Add, depends_on="bad")
        .add("after_after", Add, depends_on="after_bad")
    )
    result = plan.run(fail_fast=False)
    assert not result.ok
    assert dict(result) == {"a": {"value": 2}, "b": {"value": 3}}
    assert list(result.errors) == ["bad"]
    assert result.errors["bad"].details["step"] == "bad"
    assert result.skipped == ("after_bad", "after_after")


def test_per_step_options_apply() -> None:
    log = Log()
    plan = (
        Plan(context={"log": log})
        .add("patient", slow, {"seconds": 0.3, "label": "p"}, timeout=2.0)
        .add("impatient", slow, {"seconds": 0.3, "label": "i"}, timeout=0.05, max_retries=0)
    )
    result = plan.run(fail_fast=False, timeout=1.0)
    assert result["patient"] == {"p": "done"}
    assert isinstance(result.errors["impatient"], jido.TimeoutError)


def test_plan_options_are_checked() -> None:
    plan = Plan().add("a", Add, {"value": 1})
    for bad in (0, -1, 1.5, True):
        with pytest.raises(jido.ConfigError, match="max_concurrency"):
            plan.run(max_concurrency=bad)  # type: ignore[arg-type]
    with pytest.raises(jido.ConfigError, match="fail_fast=True"):
        plan.run(fail_fast=False, compensate=True)
    with pytest.raises(jido.ConfigError, match="unknown run option"):
        plan.run(tiemout=1)  # type: ignore[call-arg]


def test_arun_and_run_async() -> None:
    plan = Plan().add("a", Add, {"value": 1}).add("b", Multiply, depends_on="a")
    assert asyncio.run(plan.arun()) == {"a": {"value": 2}, "b": {"value": 4}}
    ref = plan.run_async()
    assert isinstance(ref, jido.AsyncRef)
    result = jido.await_(ref)
    assert isinstance(result, PlanResult)
    assert result["b"] == {"value": 4}


def test_cancelling_a_plan_stops_every_running_step() -> None:
    log = Log()
    plan = Plan(context={"log": log})
    for label in ("x", "y", "z"):
        plan = plan.add(label, slow, {"label": label})
    plan = plan.add("never", record, depends_on=["x", "y", "z"])
    ref = plan.run_async()
    assert wait_for(lambda: all(log.event(f"{n}-started").is_set() for n in "xyz"))
    jido.cancel(ref)
    assert all(log.event(f"{n}-stopped").is_set() for n in "xyz")
    with pytest.raises(jido.CancelledError):
        ref.result()
    assert "record" not in log.names()


def test_run_async_delivers_validation_errors_through_the_ref() -> None:
    ref = Plan().add("a", Add, depends_on="ghost").run_async()
    assert ref.done()
    assert isinstance(ref.exception(), jido.ValidationError)


def test_plan_result_repr_and_pickle() -> None:
    result = PlanResult({"a": {"v": 1}}, errors={"b": jido.ExecutionError("x")}, skipped=["c"])
    assert repr(result) == "PlanResult({'a': {'v': 1}}, errors=['b'], skipped=['c'])"
    back = pickle.loads(pickle.dumps(result))
    assert back == result
    assert back.skipped == ("c",)
    assert back.errors["b"].message == "x"
    assert PlanResult({}).ok
