"""Only JidoError escapes: the run entry points under hostile input (issue 8, defect 8).

Contract (decisions.md, "Only JidoError escapes"): ``run``, ``arun``, ``run_async``,
``await_``, ``cancel``, ``configure`` and ``Runtime(...)`` raise only ``JidoError``
subclasses of the documented type, whatever they are given: raising ``__repr__``,
``__hash__``, ``__eq__`` or ``__getattr__``, huge ints, NaN, deep nesting. The examples
run here and in ``test_hardening_workflow.py`` add up to more than 10,000 per CI run.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jido
from hostile import HUGE, RaisingGetattr, RaisingRepr, hostile, options
from jido._runtime.config import SETTINGS


def fuzz(examples: int) -> settings:
    """Hypothesis settings for ``examples`` examples, no deadline (runs start threads)."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )


@jido.action
def target(x: int = 0, tag: str = "") -> dict[str, Any]:
    return {"x": x}


@jido.action
async def atarget(x: int = 0) -> dict[str, Any]:
    return {"x": x}


def expect(fn: Callable[[], Any], allowed: set[type[jido.JidoError]], what: str) -> Any:
    """Call ``fn``: it returns, or raises one of ``allowed``; anything else fails the test."""
    try:
        return fn()
    except jido.JidoError as exc:
        error = exc
    assert isinstance(error, tuple(allowed)), f"{what}: {type(error).__name__} {error.message}"
    assert isinstance(error.message, str)
    repr(error)  # an error's repr never fails either
    return error


_GOOD_PARAMS = st.sampled_from([None, {"x": 1}, {"x": "2", "tag": "t", "extra": 3}])
_BAD_PARAMS = st.one_of(hostile, st.dictionaries(st.sampled_from(["x", "tag"]), hostile))
_ONE_IN_TEN = st.integers(0, 9)


@st.composite
def run_inputs(draw: st.DrawFn) -> tuple[Any, Any, Any, dict[str, Any], set[type[jido.JidoError]]]:
    """(action, params, context, options, the error types they may raise)."""
    allowed: set[type[jido.JidoError]] = {jido.TimeoutError}
    action: Any = target
    if draw(_ONE_IN_TEN) == 0:
        action = draw(hostile)
        allowed.add(jido.InvalidActionError)
    params: Any = draw(_GOOD_PARAMS)
    if draw(st.booleans()):
        params = draw(_BAD_PARAMS)
        allowed.add(jido.ValidationError)
    context: Any = None
    if draw(_ONE_IN_TEN) < 3:
        context = draw(hostile)
        allowed.add(jido.ValidationError)
    opts, bad = draw(options())
    if bad:
        allowed.add(jido.ConfigError)
    opts.setdefault("backoff", 0)
    return action, params, context, opts, allowed


@pytest.fixture(autouse=True)
def _restore_settings() -> Iterator[None]:
    _, before = SETTINGS.snapshot()
    yield
    SETTINGS.update(before)


# -- run, run_async + await_, arun -----------------------------------------------------------------
@fuzz(1800)
@given(run_inputs())
def test_run_raises_only_documented_jido_errors(case: Any) -> None:
    action, params, context, opts, allowed = case
    out = expect(lambda: jido.run(action, params, context, **opts), allowed, "run")
    if isinstance(out, dict):
        assert set(out) == {"x"}


@fuzz(1200)
@given(run_inputs(), st.one_of(st.just(5.0), hostile))
def test_run_async_and_await_raise_only_documented_jido_errors(case: Any, wait: Any) -> None:
    action, params, context, opts, allowed = case
    ref = expect(lambda: jido.run_async(action, params, context, **opts), set(), "run_async")
    assert isinstance(ref, jido.AsyncRef)  # errors go through the ref
    got = expect(lambda: jido.await_(ref, timeout=wait), {*allowed, jido.ConfigError}, "await_")
    if isinstance(got, jido.ConfigError) and not ref.done():
        # a bad wait leaves the run alone: waiting properly still gives its outcome
        expect(lambda: jido.await_(ref, timeout=10), allowed, "await_")
    expect(lambda: jido.cancel(ref), set(), "cancel")


@fuzz(500)
@given(run_inputs(), st.booleans())
def test_arun_raises_only_documented_jido_errors(case: Any, use_async: bool) -> None:
    action, params, context, opts, allowed = case
    if use_async and action is target:
        action = atarget
    expect(lambda: asyncio.run(jido.arun(action, params, context, **opts)), allowed, "arun")


@fuzz(600)
@given(st.one_of(hostile, st.builds(object)), st.one_of(st.just(1.0), hostile))
def test_await_and_cancel_of_garbage_are_invalid_async_ref(ref: Any, wait: Any) -> None:
    invalid = {jido.InvalidAsyncRefError}
    expect(lambda: jido.await_(ref, timeout=wait), invalid, "await_ garbage")
    expect(lambda: jido.cancel(ref), invalid, "cancel garbage")


# -- configure, Runtime(...) -----------------------------------------------------------------------
@fuzz(600)
@given(options())
def test_configure_raises_only_config_errors(case: tuple[dict[str, Any], bool]) -> None:
    opts, _ = case
    expect(lambda: jido.configure(**opts), {jido.ConfigError}, "configure")


RUNTIME_ARGS = ["name", "max_threads", "max_processes", "stop_timeout", "start_method"]


@fuzz(400)
@given(
    st.dictionaries(st.sampled_from(RUNTIME_ARGS), hostile, max_size=2),
    st.one_of(st.none(), hostile, options().map(lambda case: case[0])),
)
def test_runtime_constructor_raises_only_config_errors(
    kwargs: dict[str, Any], defaults: Any
) -> None:
    made = expect(
        lambda: jido.Runtime(**kwargs, defaults=defaults), {jido.ConfigError}, "Runtime(...)"
    )
    if isinstance(made, jido.Runtime):
        made.shutdown()


# -- regressions from the reproducers ------------------------------------------------------
@pytest.mark.parametrize(
    "wait",
    ["5", math.nan, -1, -math.inf, RaisingRepr(), [1], True],
    ids=["str", "nan", "negative", "minus-infinity", "raising-repr", "list", "bool"],
)
def test_await_with_a_bad_timeout_is_a_config_error_and_leaves_the_run_alone(wait: Any) -> None:
    @jido.action
    def slowish() -> dict[str, Any]:
        jido.current().sleep(0.3)
        return {"x": 3}

    ref = jido.run_async(slowish)
    with pytest.raises(jido.ConfigError, match="timeout"):
        jido.await_(ref, timeout=wait)
    assert jido.await_(ref, timeout=5) == {"x": 3}


@pytest.mark.parametrize(
    "wait", [1e10, 2**63, 1e300, math.inf, HUGE], ids=["1e10", "2**63", "1e300", "inf", "huge-int"]
)
def test_huge_await_timeouts_wait_for_the_result(wait: Any) -> None:
    assert jido.await_(jido.run_async(target, {"x": 4}), timeout=wait) == {"x": 4}


@pytest.mark.parametrize(
    ("opts", "fragment"),
    [
        ({"timeout": RaisingRepr()}, "timeout must be a number"),
        ({"max_retries": HUGE}, "<int of about 5001 digits>"),
        ({"timeout": 10**5000}, None),  # clamped: a valid, very long timeout
        ({"log_level": RaisingGetattr()}, "log_level"),
        ({"retry_on": RaisingRepr()}, "retry_on"),
    ],
    ids=["raising-repr", "huge-retries", "huge-timeout", "raising-getattr", "retry-on"],
)
def test_options_with_raising_reprs_and_huge_ints(
    opts: dict[str, Any], fragment: str | None
) -> None:
    if fragment is None:
        assert jido.run(target, {"x": 1}, **opts) == {"x": 1}
        return
    with pytest.raises(jido.ConfigError) as info:
        jido.run(target, **opts)
    assert fragment in info.value.message


def test_an_action_whose_getattr_raises_is_not_an_action() -> None:
    with pytest.raises(jido.InvalidActionError, match="Expected a jido action"):
        jido.run(RaisingGetattr())
    ref = jido.run_async(RaisingGetattr())
    with pytest.raises(jido.InvalidActionError):
        jido.await_(ref)


def test_huge_timeouts_are_clamped_and_timeouts_still_work_afterwards() -> None:
    for huge in (1e10, 2**63, 1e300, HUGE):
        assert jido.run(target, {"x": 1}, timeout=huge, total_timeout=huge) == {"x": 1}

    @jido.action
    def spin() -> dict[str, Any]:
        end = time.monotonic() + 3
        while time.monotonic() < end:
            pass
        return {}

    start = time.monotonic()
    with pytest.raises(jido.TimeoutError):
        jido.run(spin, timeout=0.2, max_retries=0)
    assert time.monotonic() - start < 2.0


def test_option_values_whose_hash_or_eq_raise_are_config_errors() -> None:
    from hostile import RaisingEq, RaisingHash

    with pytest.raises(jido.ConfigError):
        jido.run(target, timeout=RaisingHash())
    with pytest.raises(jido.ConfigError):
        jido.run(target, isolation=RaisingEq("thread"))
    with pytest.raises(jido.ConfigError):
        jido.run(target, telemetry=RaisingEq("full"))


def test_runtime_defaults_that_cannot_be_read_are_config_errors() -> None:
    from hostile import RaisingMapping

    for bad in (RaisingRepr(), RaisingMapping(), {"timeout": -1}, {RaisingRepr(): 1}):
        with pytest.raises(jido.ConfigError):
            jido.Runtime(defaults=bad)
    with pytest.raises(jido.ConfigError, match="start_method"):
        jido.Runtime(start_method="teleport")


def test_the_runtime_still_works_after_the_fuzz() -> None:
    assert jido.run(target, {"x": 9}) == {"x": 9}
    assert jido.await_(jido.run_async(atarget, {"x": 8})) == {"x": 8}
    stats = jido.default_runtime().stats()
    assert stats["in_flight"] <= 1


@pytest.mark.parametrize(
    ("handler", "events"),
    [(42, None), (RaisingRepr(), None), (print, ["no.such.event"]), (print, 3), (print, [1])],
    ids=["int", "raising-repr", "unknown-event", "int-events", "int-event"],
)
def test_telemetry_attach_misuse_is_a_config_error(handler: Any, events: Any) -> None:
    import jido.telemetry

    with pytest.raises(jido.ConfigError):
        jido.telemetry.attach(handler, events=events)


def test_ray_engine_arguments_are_config_errors() -> None:
    import jido.engines
    from hostile import RaisingBool, RaisingFloat, RaisingMapping

    for kwargs in (
        {"address": RaisingRepr()},
        {"connect_timeout": HUGE},
        {"connect_timeout": RaisingFloat(-1.0)},
        {"connect_timeout": math.nan},
        {"init": RaisingMapping()},
        {"init": RaisingBool()},
        {"task_options": {1: 2}},
    ):
        with pytest.raises(jido.ConfigError):
            jido.engines.Ray(**kwargs)


def test_a_bool_option_is_refused_after_the_equal_number_was_accepted() -> None:
    # True == 1 and hash(True) == hash(1): validated options are cached by value and type
    @jido.action
    def noop() -> dict[str, Any]:
        return {}

    from jido.workflow import Instruction

    for _ in range(2):
        assert jido.run(noop, timeout=1, max_retries=0) == {}
        with pytest.raises(jido.ConfigError):
            jido.run(noop, timeout=True, max_retries=0)
        Instruction(noop, opts={"timeout": 1})
        with pytest.raises(jido.ConfigError):
            Instruction(noop, opts={"timeout": True})


def test_a_float_count_is_refused_after_the_equal_int_was_accepted() -> None:
    @jido.action
    def noop() -> dict[str, Any]:
        return {}

    for _ in range(2):
        assert jido.run(noop, max_retries=1) == {}
        with pytest.raises(jido.ConfigError):
            jido.run(noop, max_retries=1.0)
