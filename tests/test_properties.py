"""Property tests (hypothesis): input normalization and the backoff schedule.

(A Mapping whose iteration raises is covered by an explicit test in test_normalize.py.)
"""

from __future__ import annotations

import itertools
import math
import types
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pydantic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jido
from actions import Echo

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- any input either normalizes or raises ValidationError ---------------------------------------
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.complex_numbers(),
    st.just(object()),
    st.just(Ellipsis),
    st.just(int),
)
hashables = st.one_of(
    st.text(max_size=6), st.integers(), st.none(), st.booleans(), st.tuples(st.integers())
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.tuples(inner),
        st.tuples(inner, inner, inner),
        st.dictionaries(hashables, inner, max_size=4),
        st.sets(st.integers(), max_size=4),
        st.frozensets(st.text(max_size=3), max_size=3),
    ),
    max_leaves=8,
)


class _Model(pydantic.BaseModel):
    x: int = 0
    tag: str = "m"


def _raising_iter() -> Iterator[tuple[str, int]]:
    yield ("a", 1)
    raise ValueError("broken iterator")


str_key_dicts = st.dictionaries(st.text(max_size=6), values, max_size=5)
inputs = st.one_of(
    values,
    str_key_dicts,
    str_key_dicts.map(OrderedDict),
    str_key_dicts.map(types.MappingProxyType),
    st.lists(st.tuples(hashables, values), max_size=5),
    st.lists(st.lists(values, min_size=2, max_size=2), max_size=4),
    st.lists(st.tuples(st.text(max_size=4), values), max_size=4).map(iter),
    st.builds(_Model, x=st.integers(), tag=st.text(max_size=4)),
    st.builds(_raising_iter),
    st.dictionaries(
        st.sampled_from(["x", "tag"]), st.one_of(st.integers(), st.text(max_size=5), st.floats())
    ),
)


def outcome(fn: Callable[[], dict[str, Any]]) -> Any:
    """The result, or the ValidationError; any other exception propagates (and fails the test)."""
    try:
        return fn()
    except jido.ValidationError as exc:
        return exc


def _is_str_key_mapping(value: object) -> bool:
    return isinstance(value, Mapping) and all(isinstance(k, str) for k in value)


@SETTINGS
@given(params=inputs)
def test_any_params_normalize_or_raise_validation_error(params: Any) -> None:
    snapshot = dict(params) if isinstance(params, dict) else None
    out = outcome(lambda: jido.run(Echo, params, timeout=0))
    if isinstance(out, jido.ValidationError):
        assert out.type == "validation_error"
        assert out.retryable is False
        return
    got = out["params"]
    assert isinstance(got, dict)
    assert all(isinstance(k, str) for k in got)
    assert isinstance(got["x"], int)  # declared fields validated and defaulted
    assert isinstance(got["tag"], str)
    if _is_str_key_mapping(params) and snapshot is not None:
        assert set(snapshot) <= set(got)  # unknown keys kept
        for key, value in snapshot.items():
            if key not in ("x", "tag"):
                assert got[key] is value  # and untouched
        assert params == snapshot  # the caller's dict is not mutated


@SETTINGS
@given(context=inputs)
def test_any_context_normalizes_or_raises_validation_error(context: Any) -> None:
    out = outcome(lambda: jido.run(Echo, None, context, timeout=0))
    if isinstance(out, jido.ValidationError):
        assert out.type == "validation_error"
        return
    got = out["context"]
    assert isinstance(got, dict)
    if isinstance(context, dict):
        assert got == context
        for key, value in context.items():
            assert got[key] is value  # values reach the action as they are


@settings(max_examples=100, deadline=None)
@given(params=inputs)
def test_normalization_is_the_same_on_the_worker_thread_path(params: Any) -> None:
    if isinstance(params, Iterator):
        return  # single-use: cannot be replayed on a second path
    outcomes = []
    for timeout in (0, 5.0):
        try:
            outcomes.append(("ok", jido.run(Echo, params, timeout=timeout)["params"]))
        except jido.ValidationError:
            outcomes.append(("error", None))
    kinds = [o[0] for o in outcomes]
    assert kinds[0] == kinds[1]
    if kinds[0] == "ok":
        assert outcomes[0][1].keys() == outcomes[1][1].keys()


# -- backoff schedule ----------------------------------------------------------------------------
backoffs = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)
caps = st.floats(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False)
retries = st.integers(min_value=0, max_value=80)


@SETTINGS
@given(backoff=backoffs, cap=caps, n=retries)
def test_delay_is_backoff_times_two_to_the_k_capped(backoff: float, cap: float, n: int) -> None:
    policy = jido.RetryPolicy(max_retries=n, backoff=backoff, max_backoff=cap)
    delays = policy.delays()
    assert len(delays) == n
    for k, d in enumerate(delays):
        want = min(backoff * 2.0**k, cap)
        assert math.isclose(d, want, rel_tol=1e-12, abs_tol=1e-12)
        assert math.isclose(policy.delay(k), want, rel_tol=1e-12, abs_tol=1e-12)


@SETTINGS
@given(backoff=backoffs, cap=caps, n=retries)
def test_delays_without_jitter_are_monotone_and_capped(backoff: float, cap: float, n: int) -> None:
    delays = jido.RetryPolicy(max_retries=n, backoff=backoff, max_backoff=cap).delays()
    assert all(0 <= d <= cap for d in delays)
    assert all(a <= b for a, b in itertools.pairwise(delays))


@SETTINGS
@given(backoff=backoffs, cap=caps, n=retries, seed=st.integers(0, 2**32))
def test_jittered_delays_are_within_zero_and_the_capped_backoff(
    backoff: float, cap: float, n: int, seed: int
) -> None:
    policy = jido.RetryPolicy(
        max_retries=n, backoff=backoff, max_backoff=cap, jitter=True, seed=seed
    )
    delays = policy.delays()
    for k, d in enumerate(delays):
        assert 0.0 <= d <= min(backoff * 2.0**k, cap) + 1e-12
    again = jido.RetryPolicy(
        max_retries=n, backoff=backoff, max_backoff=cap, jitter=True, seed=seed
    )
    assert again.delays() == delays  # a seed makes the schedule reproducible


@SETTINGS
@given(k=st.integers(min_value=0, max_value=10_000))
def test_huge_retry_indexes_stay_capped(k: int) -> None:
    policy = jido.RetryPolicy(max_retries=10_000, backoff=1.0, max_backoff=30.0)
    assert policy.delay(k) == min(2.0**k if k < 64 else math.inf, 30.0)
    jittered = jido.RetryPolicy(
        max_retries=10_000, backoff=1.0, max_backoff=30.0, jitter=True, seed=k
    )
    assert 0.0 <= jittered.delay(k) <= 30.0


garbage_numbers = st.one_of(
    st.integers(),
    st.floats(),
    st.text(max_size=4),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)


@SETTINGS
@given(max_retries=garbage_numbers, backoff=garbage_numbers)
def test_retry_options_are_valid_or_config_error(max_retries: Any, backoff: Any) -> None:
    try:
        policy = jido.RetryPolicy(max_retries=max_retries, backoff=backoff)
    except jido.ConfigError:
        return
    assert isinstance(policy.max_retries, int)
    assert 0 <= policy.max_retries <= 10_000
    assert math.isfinite(policy.backoff)
    assert policy.backoff >= 0
