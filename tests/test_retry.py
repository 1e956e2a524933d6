"""Retries: the backoff schedule, jitter, option validation and layering, no_backoff.

Attempt counts, what is retried, backoff doubling, retry_after, retry_on and total_timeout
are held by every engine in tests/conformance/test_retry.py.

Contract: ``max_retries=1`` (at most 2 attempts), ``backoff * 2**k`` capped at 30 s, optional
full jitter capped *after* jitter; only retryable errors are retried; an error's own
``retry_after`` replaces the computed delay; garbage options are a config_error up front.
Timing bounds are generous: lower bounds are tight (a sleep is never shorter than asked),
upper bounds leave room for a noisy machine.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

import actions
import jido
import jido.testing
from actions import Probe
from support import Stopwatch

SLACK = 0.6  # upper-bound slack for timing on a shared machine
EARLY = 0.01  # timers may fire a hair early relative to our own monotonic reads


def failing_run(action: Any = actions.always_fail, **opts: Any) -> tuple[Probe, jido.JidoError]:
    probe = Probe()
    opts.setdefault("timeout", 0)
    with pytest.raises(jido.JidoError) as info:
        jido.run(action, None, {"probe": probe}, **opts)
    return probe, info.value


# -- backoff schedule ----------------------------------------------------------------------------


def test_backoff_is_not_compounded() -> None:
    # The old Workflow compounded (b, 2b, 8b, 64b); ours is b * 2**k: the 4th delay is 8b, not 64b.
    with Stopwatch() as sw:
        probe, _ = failing_run(max_retries=4, backoff=0.02)
    gaps = probe.gaps()
    assert gaps[3] >= 0.16 - EARLY
    assert gaps[3] < 0.16 + SLACK  # compounded would be 1.28 s
    assert sw.elapsed < 0.02 * (1 + 2 + 4 + 8) + 4 * SLACK


def test_max_backoff_caps_the_delay() -> None:
    probe, _ = failing_run(max_retries=3, backoff=0.25, max_backoff=0.25)
    gaps = probe.gaps()
    for gap in gaps:
        assert gap >= 0.25 - EARLY
    assert gaps[2] < 0.25 + SLACK - 0.1  # uncapped it would be 1.0 s
    assert jido.RetryPolicy(max_retries=3, backoff=0.25, max_backoff=0.25).delays() == [0.25] * 3


def test_default_cap_is_thirty_seconds() -> None:
    policy = jido.RetryPolicy(max_retries=12, backoff=1.0)
    assert policy.max_backoff == 30.0
    assert policy.delays() == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30, 30, 30]
    assert jido.RetryPolicy(max_retries=3, backoff=0.5).delays() == [0.5, 1.0, 2.0]


def test_documented_defaults() -> None:
    policy = jido.RetryPolicy()
    assert policy.max_retries == 1
    assert policy.backoff == 1.0
    assert policy.jitter is False
    assert jido.RunOptions().timeout == 5.0


def test_default_backoff_is_one_second_observed() -> None:
    probe, _ = failing_run()  # no options: 2 attempts, 1.0 s apart
    assert len(probe.attempts) == 2
    assert 1.0 - EARLY <= probe.gaps()[0] <= 1.0 + SLACK


# -- jitter --------------------------------------------------------------------------------------
def test_jitter_is_bounded_and_capped_after_jitter() -> None:
    policy = jido.RetryPolicy(max_retries=60, backoff=0.5, max_backoff=30.0, jitter=True, seed=1)
    delays = policy.delays()
    for k, d in enumerate(delays):
        assert 0.0 <= d <= min(0.5 * 2**k, 30.0)
    # Capped *after* jitter: once backoff * 2**k is far above the cap, nearly every draw from
    # [0, backoff * 2**k] lands above it and is capped to exactly max_backoff. (Capping before
    # jitter would spread them uniformly over [0, 30].)
    late = delays[20:]
    assert sum(d == 30.0 for d in late) >= 0.9 * len(late)
    assert len(set(delays[:8])) > 1  # actually random


def test_jitter_is_reproducible_with_a_seed() -> None:
    def make(seed: int) -> jido.RetryPolicy:
        return jido.RetryPolicy(max_retries=20, backoff=0.1, jitter=True, seed=seed)

    assert make(3).delays() == make(3).delays()
    assert make(3).delays() != make(4).delays()


def seeded(seed: int) -> jido.RetryPolicy:
    return jido.RetryPolicy(max_retries=3, backoff=0.2, jitter=True, seed=seed)


def test_seeded_jitter_schedule_is_observed(rt: jido.Runtime) -> None:
    expected = seeded(7).delays()
    probe = Probe()
    with pytest.raises(jido.ExecutionError):
        rt.run(actions.always_fail, None, {"probe": probe}, timeout=0, retry=seeded(7))
    for gap, want in zip(probe.gaps(), expected, strict=True):
        assert want - EARLY <= gap <= want + SLACK, (probe.gaps(), expected)


def test_seeded_jitter_is_the_same_on_every_run() -> None:
    # A fresh, equal seeded policy must give the same schedule every time it is used.
    expected = seeded(7).delays()
    for _ in range(3):
        probe, _ = failing_run(retry=seeded(7))
        for gap, want in zip(probe.gaps(), expected, strict=True):
            assert want - EARLY <= gap <= want + SLACK, (probe.gaps(), expected)


def test_jitter_option_in_a_run_stays_within_the_cap() -> None:
    with Stopwatch() as sw:
        probe, _ = failing_run(max_retries=4, backoff=0.05, max_backoff=0.1, jitter=True)
    assert len(probe.attempts) == 5
    for gap in probe.gaps():
        assert gap <= 0.1 + SLACK
    assert sw.elapsed < 0.4 + 4 * SLACK


# -- garbage options: config_error up front, never an endless loop -------------------------------
GARBAGE_OPTIONS = [
    {"max_retries": -1},
    {"max_retries": 1.5},
    {"max_retries": "3"},
    {"max_retries": "infinity"},
    {"max_retries": math.inf},
    {"max_retries": None},
    {"max_retries": 10_001},
    {"backoff": -0.1},
    {"backoff": "1s"},
    {"backoff": math.nan},
    {"backoff": math.inf},
    {"backoff": None},
    {"max_backoff": -1},
    {"max_backoff": math.nan},
    {"jitter": "yes"},
    {"timeout": -1},
    {"timeout": "5"},
    {"timeout": math.nan},
    {"total_timeout": -2},
    {"total_timeout": "soon"},
    {"retry_on": 42},
    {"retry_on": "ConnectionError"},
    {"retry_on": (ConnectionError, "x")},
    {"retry": "policy"},
    {"retry": {"max_retries": 3}},
    {"isolation": "fork"},
    {"telemetry": "loud"},
    {"log_level": "verbose"},
    {"compensation_timeout": -1},
    {"no_such_option": 1},
]


@pytest.mark.parametrize("opts", GARBAGE_OPTIONS, ids=repr)
def test_garbage_options_are_config_errors_up_front(opts: dict[str, Any]) -> None:
    probe = Probe()
    with Stopwatch() as sw, pytest.raises(jido.ConfigError) as info:
        jido.run(actions.always_fail, None, {"probe": probe}, **opts)
    assert info.value.type == "config_error"
    assert probe.attempts == []  # nothing ran
    assert sw.elapsed < 1.0
    with pytest.raises(jido.ConfigError):
        jido.await_(jido.run_async(actions.always_fail, None, {"probe": probe}, **opts), timeout=2)
    with pytest.raises(jido.ConfigError):
        asyncio.run(jido.arun(actions.always_fail, None, {"probe": probe}, **opts))
    assert probe.attempts == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -1},
        {"max_retries": 2.5},
        {"backoff": -1},
        {"jitter": "no"},
        {"seed": "abc"},
        {"total_timeout": -1},
        {"retry_on": 3},
    ],
    ids=repr,
)
def test_retry_policy_rejects_garbage(kwargs: dict[str, Any]) -> None:
    with pytest.raises(jido.ConfigError):
        jido.RetryPolicy(**kwargs)


def test_max_retries_upper_limit_is_accepted() -> None:
    assert jido.run(actions.square, {"x": 2}, timeout=0, max_retries=10_000) == {"x": 4}


def test_zero_backoff_and_timeout_zero_are_valid() -> None:
    probe, _ = failing_run(max_retries=2, backoff=0)
    assert len(probe.attempts) == 3


# -- layering: configure < Runtime(defaults) < per call ------------------------------------------
@pytest.mark.usefixtures("restore_config")
def test_configure_runtime_defaults_and_call_options_layer() -> None:
    with jido.testing.no_backoff():
        jido.configure(max_retries=3)
        probe, _ = failing_run()
        assert len(probe.attempts) == 4  # configure applies to the default runtime

        with jido.Runtime(defaults={"max_retries": 2}) as rt:
            p = Probe()
            with pytest.raises(jido.ExecutionError):
                rt.run(actions.always_fail, None, {"probe": p}, timeout=0)
            assert len(p.attempts) == 3  # runtime defaults beat configure

            p = Probe()
            with pytest.raises(jido.ExecutionError):
                rt.run(actions.always_fail, None, {"probe": p}, timeout=0, max_retries=0)
            assert len(p.attempts) == 1  # per-call beats both

        with jido.Runtime() as plain:
            p = Probe()
            with pytest.raises(jido.ExecutionError):
                plain.run(actions.always_fail, None, {"probe": p}, timeout=0)
            assert len(p.attempts) == 4  # a runtime without defaults sees configure


@pytest.mark.usefixtures("restore_config")
def test_configure_timeout_and_backoff() -> None:
    jido.configure(timeout=0.2, backoff=0.05, max_retries=1)
    probe = Probe()
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError) as info:
        jido.run(actions.coop_sleep, {"seconds": 10}, {"probe": probe})
    assert info.value.details["attempts"] == 2
    assert sw.elapsed < 0.45 + 2 * SLACK
    assert probe.gaps()[0] >= 0.2 + 0.05 - EARLY


@pytest.mark.usefixtures("restore_config")
@pytest.mark.parametrize("opts", GARBAGE_OPTIONS[:12], ids=repr)
def test_configure_rejects_garbage_and_keeps_the_old_config(opts: dict[str, Any]) -> None:
    jido.configure(max_retries=2)
    with pytest.raises(jido.ConfigError):
        jido.configure(**opts)
    with jido.testing.no_backoff():
        probe, _ = failing_run()
    assert len(probe.attempts) == 3


@pytest.mark.parametrize("opts", GARBAGE_OPTIONS[:12], ids=repr)
def test_runtime_defaults_reject_garbage(opts: dict[str, Any]) -> None:
    with pytest.raises(jido.ConfigError):
        jido.Runtime(defaults=opts)


def test_retry_policy_object_as_option() -> None:
    policy = jido.RetryPolicy(max_retries=2, backoff=0.01)
    probe, err = failing_run(retry=policy)
    assert len(probe.attempts) == 3
    assert err.details["attempts"] == 3


# -- jido.testing.no_backoff ---------------------------------------------------------------------


def test_no_backoff_is_restored_after_the_block() -> None:
    with jido.testing.no_backoff():
        pass
    probe, _ = failing_run(max_retries=1, backoff=0.2)
    assert probe.gaps()[0] >= 0.2 - EARLY
