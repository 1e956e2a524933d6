"""Only JidoError escapes: chains, plans, closures, instructions and tools under hostile input.

Contract (decisions.md, "Only JidoError escapes"; issue 8, defect 8): ``chain``,
``achain``, ``chain_async``, every ``Plan`` method, ``closure``, ``Instruction`` and
``jido.tools.*`` raise only ``JidoError`` subclasses of the documented type for any input;
``execute_tool`` returns an error object for anything the model sent.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import jido
import jido.tools
from hostile import RaisingRepr, hostile, options
from jido.workflow import achain, async_closure, chain_async, check_allowed, closure, normalize
from test_hardening_input import atarget, expect, fuzz, target

SHAPE = {jido.ValidationError, jido.ConfigError, jido.InvalidActionError}
"""What a malformed composite may raise (its steps, options, params or context)."""

steps_strategy = st.one_of(
    hostile,
    st.lists(
        st.one_of(
            st.just(target),
            st.just(atarget),
            st.tuples(st.just(target), st.one_of(st.just({"x": 1}), hostile)),
            st.tuples(st.just(target), st.just({}), hostile),
            st.tuples(st.just(target), st.just({}), st.just({}), hostile),
            hostile,
        ),
        max_size=3,
    ),
)


# -- chains ----------------------------------------------------------------------------------------
_ONE_IN_SIX = st.integers(0, 5)
_PARAMS = st.one_of(st.just({"x": 1}), hostile)
_CONTEXT = st.one_of(st.none(), hostile)


@st.composite
def chain_inputs(draw: st.DrawFn) -> tuple[Any, Any, Any, dict[str, Any], dict[str, Any]]:
    opts, _ = draw(options())
    opts.setdefault("backoff", 0)
    extra: dict[str, Any] = {}
    for name in ("interrupt_check", "compensate", "runtime"):
        if draw(_ONE_IN_SIX) == 0:
            extra[name] = draw(hostile)
    return draw(steps_strategy), draw(_PARAMS), draw(_CONTEXT), opts, extra


ANY_RUN = {*SHAPE, jido.TimeoutError, jido.ExecutionError}
"""A chain whose arguments are fine may still fail a step (a hostile interrupt_check raises)."""


@fuzz(800)
@given(chain_inputs())
def test_chain_raises_only_jido_errors(case: Any) -> None:
    steps, params, context, opts, extra = case
    expect(lambda: jido.chain(steps, params, context, **extra, **opts), ANY_RUN, "chain")


@fuzz(600)
@given(chain_inputs())
def test_chain_async_delivers_errors_through_its_ref(case: Any) -> None:
    steps, params, context, opts, extra = case
    ref = expect(lambda: chain_async(steps, params, context, **extra, **opts), set(), "chain_async")
    expect(lambda: jido.await_(ref, timeout=10), ANY_RUN, "chain_async await")


@fuzz(300)
@given(chain_inputs())
def test_achain_raises_only_jido_errors(case: Any) -> None:
    steps, params, context, opts, extra = case
    expect(lambda: asyncio.run(achain(steps, params, context, **extra, **opts)), ANY_RUN, "achain")


# -- plans -----------------------------------------------------------------------------------------
plan_calls = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            st.one_of(st.sampled_from(["a", "b", "c"]), hostile),
            st.one_of(st.just(target), hostile),
            st.one_of(st.none(), hostile),
            st.one_of(st.just(()), st.sampled_from(["a", ["a", "b"]]), hostile),
            st.one_of(st.none(), hostile),
        ),
        st.tuples(st.just("depends_on"), st.one_of(st.just("b"), hostile), hostile),
        st.tuples(st.just("contains"), hostile),
    ),
    max_size=4,
)


def _build(plan: jido.Plan, call: tuple[Any, ...]) -> jido.Plan:
    if call[0] == "add":
        _, name, step, params, depends_on, context = call
        return plan.add(name, step, params, depends_on=depends_on, context=context)
    if call[0] == "depends_on":
        return plan.depends_on(call[1], call[2])
    assert (call[1] in plan) in (True, False)
    return plan


@fuzz(1000)
@given(st.one_of(st.none(), hostile), st.one_of(st.none(), hostile), plan_calls)
def test_building_a_plan_raises_only_validation_and_config_errors(
    context: Any, plan_id: Any, calls: list[tuple[Any, ...]]
) -> None:
    def build() -> jido.Plan:
        plan = jido.Plan(context=context, id=plan_id)
        for call in calls:
            plan = _build(plan, call)
        plan.phases()
        return plan

    plan = expect(build, SHAPE, "Plan build")
    if isinstance(plan, jido.Plan):
        repr(plan)
        plan.to_mapping()


@fuzz(600)
@given(
    st.one_of(st.just({"a": target, "b": {"action": target, "depends_on": ["a"]}}), hostile),
    st.one_of(st.just({"x": 1}), hostile),
    st.dictionaries(st.sampled_from(["max_concurrency", "fail_fast", "compensate"]), hostile),
    options(),
    st.sampled_from(["run", "run_async", "arun"]),
)
def test_running_a_plan_raises_only_jido_errors(
    mapping: Any, params: Any, knobs: dict[str, Any], opts: Any, how: str
) -> None:
    run_opts, _ = opts
    run_opts.setdefault("backoff", 0)
    plan = expect(lambda: jido.Plan.from_mapping(mapping), SHAPE, "Plan.from_mapping")
    if not isinstance(plan, jido.Plan):
        return
    allowed = {*SHAPE, jido.TimeoutError}
    if how == "run":
        expect(lambda: plan.run(params, **knobs, **run_opts), allowed, "Plan.run")
    elif how == "arun":
        expect(lambda: asyncio.run(plan.arun(params, **knobs, **run_opts)), allowed, "Plan.arun")
    else:
        ref = expect(lambda: plan.run_async(params, **knobs, **run_opts), set(), "Plan.run_async")
        expect(lambda: jido.await_(ref, timeout=10), allowed, "Plan.run_async await")


# -- closures and instructions ---------------------------------------------------------------------
@fuzz(500)
@given(
    st.one_of(st.just(target), hostile),
    st.one_of(st.none(), hostile),
    options(),
    st.one_of(st.just({"x": 2}), hostile),
    st.booleans(),
)
def test_closures_raise_only_jido_errors(
    action: Any, context: Any, opts: Any, params: Any, starts: bool
) -> None:
    run_opts, _ = opts
    run_opts.setdefault("backoff", 0)
    make = async_closure if starts else closure
    bound = expect(lambda: make(action, context, **run_opts), SHAPE, "closure")
    if isinstance(bound, jido.JidoError):
        return
    repr(bound)
    allowed = {*SHAPE, jido.TimeoutError}
    if starts:
        expect(lambda: jido.await_(bound(params), timeout=10), allowed, "async_closure call")
    else:
        expect(lambda: bound(params), allowed, "closure call")


@fuzz(400)
@given(
    st.one_of(st.just(target), hostile),
    st.one_of(st.none(), hostile),
    st.one_of(st.none(), hostile),
    st.one_of(st.none(), hostile),
    st.one_of(st.none(), hostile),
    st.one_of(st.just([target]), hostile),
)
def test_instructions_raise_only_validation_and_config_errors(
    action: Any, params: Any, context: Any, opts: Any, id_: Any, allowed: Any
) -> None:
    made = expect(lambda: jido.Instruction(action, params, context, opts, id=id_), SHAPE, "Instr")
    if isinstance(made, jido.Instruction):
        repr(made)
        expect(lambda: made.replace(params=params), SHAPE, "Instruction.replace")
    expect(lambda: normalize([action, (action, params)], context, opts), SHAPE, "normalize")
    expect(lambda: check_allowed([target], allowed), SHAPE, "check_allowed")


# -- tools -----------------------------------------------------------------------------------------
json_garbage = st.one_of(
    st.sampled_from(
        [
            "[" * 100_000 + "]" * 100_000,
            '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}",
            '{"x": ' + '{"a": ' * 5_000 + "1" + "}" * 5_001,
            "{" * 100_000,
            '{"x": 1e999999}',
            '{"x": NaN}',
            '{"x": 123456789012345678901234567890}',
            '{"x": "' + "9" * 5000 + '"}',
            "\x00",
            "null",
            "[]",
            '"a string"',
        ]
    ),
    st.text(max_size=30),
    st.binary(max_size=30),
    hostile,
)


@fuzz(800)
@given(json_garbage, st.one_of(st.none(), hostile), options(hostile_values=False), st.booleans())
def test_execute_tool_returns_json_for_anything_the_model_sends(
    arguments: Any, context: Any, opts: Any, use_async: bool
) -> None:
    run_opts, _ = opts
    run_opts.setdefault("backoff", 0)
    action = atarget if use_async else target
    if use_async:
        out = expect(
            lambda: asyncio.run(jido.tools.aexecute_tool(action, arguments, context, **run_opts)),
            set(),
            "aexecute_tool",
        )
    else:
        out = expect(
            lambda: jido.tools.execute_tool(action, arguments, context, **run_opts),
            set(),
            "execute_tool",
        )
    assert isinstance(out, str)
    body = json.loads(out)
    assert isinstance(body, dict)


@fuzz(500)
@given(
    st.one_of(st.just(target), hostile),
    st.one_of(st.sampled_from(["openai", "anthropic", "gemini"]), hostile),
    st.one_of(st.booleans(), hostile),
    st.one_of(st.none(), st.just("tool_name"), hostile),
    st.one_of(st.none(), st.just("A tool"), hostile),
    st.one_of(st.none(), hostile),
    options(),
)
def test_tool_definitions_and_misuse_raise_only_documented_errors(
    action: Any, dialect: Any, strict: Any, name: Any, description: Any, runtime: Any, opts: Any
) -> None:
    expected = {jido.InvalidActionError, jido.ConfigError}
    expect(
        lambda: jido.tools.to_tool(
            action, dialect, strict=strict, name=name, description=description
        ),
        expected,
        "to_tool",
    )
    expect(lambda: jido.tools.parameters_schema(action, dialect, strict=strict), expected, "schema")
    run_opts, _ = opts
    run_opts.setdefault("backoff", 0)
    expect(
        lambda: jido.tools.execute_tool(action, "{}", runtime=runtime, **run_opts),
        expected,
        "execute_tool misuse",
    )


# -- regressions from the reproducers ------------------------------------------------------
def test_execute_tool_with_json_nested_100000_deep_is_a_validation_error_object() -> None:
    out = json.loads(jido.tools.execute_tool(target, "[" * 100_000 + "]" * 100_000))
    assert out["error"]["type"] == "validation_error"
    out = json.loads(
        jido.tools.execute_tool(target, '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    )
    assert out["error"]["type"] == "validation_error"
    assert "nested too deeply" in out["error"]["message"]


def test_a_result_that_cannot_be_json_is_an_error_object() -> None:
    @jido.action
    def deep() -> dict[str, Any]:
        value: Any = []
        for _ in range(100_000):
            value = [value]
        return {"deep": value}

    out = json.loads(jido.tools.execute_tool(deep, "{}"))
    assert out["error"]["type"] == "execution_error"


def test_plan_and_chain_values_with_raising_reprs_are_described_safely() -> None:
    with pytest.raises(jido.ValidationError, match="repr raised"):
        jido.Plan().add(RaisingRepr(), target)  # type: ignore[arg-type]
    with pytest.raises(jido.ValidationError, match="expected an action"):
        jido.chain([RaisingRepr()])
    with pytest.raises(jido.ConfigError, match=r"runtime must be a jido\.Runtime"):
        jido.chain([target], runtime=RaisingRepr())  # type: ignore[arg-type]
    assert RaisingRepr() not in jido.Plan().add("a", target)


@pytest.mark.parametrize("name", ["self", "action", "steps", "params", "context"])
def test_an_option_named_like_a_parameter_is_a_config_error(name: str) -> None:
    """The leading parameters are positional-only: an option with their name is an option."""
    garbage = {name: 1}
    rt = jido.default_runtime()
    entry_points: list[tuple[str, Any]] = [
        ("jido.run", lambda: jido.run(target, {"x": 1}, **garbage)),
        ("Runtime.run", lambda: rt.run(target, {"x": 1}, **garbage)),
        ("jido.run_async", lambda: jido.run_async(target, {"x": 1}, **garbage).result(5)),
        ("jido.arun", lambda: asyncio.run(jido.arun(atarget, {"x": 1}, **garbage))),
        ("chain", lambda: jido.workflow.chain([target], {"x": 1}, **garbage)),
        ("achain", lambda: asyncio.run(achain([target], {"x": 1}, **garbage))),
        ("chain_async", lambda: chain_async([target], {"x": 1}, **garbage).result(5)),
        ("closure", lambda: closure(target, **garbage)({"x": 1})),
        ("async_closure", lambda: asyncio.run(async_closure(atarget, **garbage)({"x": 1}))),
        ("Plan.run", lambda: jido.workflow.Plan().add("a", target).run({"x": 1}, **garbage)),
    ]
    for what, call in entry_points:
        keywords = {
            "closure": {"context"},
            "async_closure": {"context"},
            "Plan.run": {"params"},
        }.get(what, {"params", "context"})
        if name in keywords:
            continue  # a real keyword of this entry point (given twice: Python's TypeError)
        expect(call, {jido.ConfigError, jido.ValidationError}, f"{what}(**{garbage})")
