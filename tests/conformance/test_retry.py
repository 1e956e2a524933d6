"""Retries follow the same policy on every engine: the driver keeps the policy in the caller,
the engine only runs attempts (docs/guarantees.md "What a run does", step 4).

Timing bounds are generous: lower bounds are tight (a delay is never shorter than asked),
upper bounds leave room for a noisy machine and for a remote attempt's round trip.
"""

from __future__ import annotations

from typing import Any

import pytest

import jido
import jido.testing
from conformance import actions
from conformance.actions import Probe
from conformance.conftest import TIMED, Engine, engines
from support import Stopwatch

SLACK = 0.6
EARLY = 0.01  # timers may fire a hair early relative to our own monotonic reads

KINDS = [pytest.param(False, id="sync"), pytest.param(True, id="async")]


def failing_run(
    engine: Engine, is_async: bool = False, **opts: Any
) -> tuple[Probe, jido.JidoError]:
    probe = engine.probe()
    action = actions.async_always_fail if is_async else actions.always_fail
    with pytest.raises(jido.JidoError) as info:
        engine.rt.run(action, None, {"probe": probe}, **opts)
    return probe, info.value


# -- attempt counts --------------------------------------------------------------------------------
@pytest.mark.parametrize("is_async", KINDS)
@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_max_retries_bounds_the_attempts(engine: Engine, is_async: bool, max_retries: int) -> None:
    with jido.testing.no_backoff():
        probe, err = failing_run(engine, is_async, max_retries=max_retries)
    assert isinstance(err, jido.ExecutionError)
    assert len(probe.attempts) == max_retries + 1
    assert err.details["attempts"] == max_retries + 1
    assert "ConnectionError" in err.message


def test_default_is_one_retry(engine: Engine) -> None:
    with jido.testing.no_backoff():
        probe, err = failing_run(engine)
    assert len(probe.attempts) == 2
    assert err.details["attempts"] == 2


def test_succeeds_after_transient_failures(engine: Engine) -> None:
    probe = engine.probe()
    out = engine.rt.run(
        actions.flaky, {"failures": 2}, {"probe": probe}, max_retries=2, backoff=0.001
    )
    assert out == {"attempts": 3}
    assert len(probe.attempts) == 3


# -- what is retried -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "raised"),
    [
        ("ExecutionError-retryable-False", jido.ExecutionError),
        ("ValidationError", jido.ValidationError),
        ("ConfigError", jido.ConfigError),
        ("InvalidActionError", jido.InvalidActionError),
        ("CancelledError", jido.CancelledError),
    ],
)
def test_non_retryable_errors_are_not_retried(engine: Engine, error: str, raised: type) -> None:
    probe = engine.probe()
    with Stopwatch() as sw, pytest.raises(raised):
        engine.rt.run(
            actions.raises, {"error": error}, {"probe": probe}, max_retries=5, backoff=5.0
        )
    assert probe.count("attempts") == 1
    assert sw.elapsed < 2.0


@pytest.mark.parametrize(
    "error", ["ConnectionError", "ValueError", "jido.ExecutionError", "jido.TimeoutError"]
)
def test_retryable_errors_are_retried(engine: Engine, error: str) -> None:
    probe = engine.probe()
    with jido.testing.no_backoff(), pytest.raises(jido.JidoError):
        engine.rt.run(actions.raises, {"error": error}, {"probe": probe}, max_retries=2)
    assert probe.count("attempts") == 3


@engines(*TIMED)
@pytest.mark.parametrize("kind", ["coop", "spin"])
def test_timeouts_are_retried(engine: Engine, kind: str) -> None:
    action = actions.coop_sleep if kind == "coop" else actions.spin
    probe = engine.probe()
    engine.warm()
    with jido.testing.no_backoff(), pytest.raises(jido.TimeoutError) as info:
        engine.rt.run(
            action, {"seconds": 10}, {"probe": probe}, timeout=engine.short, max_retries=2
        )
    assert len(probe.attempts) == 3
    assert info.value.details["attempts"] == 3


@engines(*TIMED)
def test_a_timed_out_attempt_is_retried_with_a_fresh_deadline(engine: Engine) -> None:
    probe = engine.probe()
    engine.warm()
    with jido.testing.no_backoff(), pytest.raises(jido.TimeoutError):
        engine.rt.run(
            actions.record_deadline, None, {"probe": probe}, timeout=engine.short, max_retries=1
        )
    first, second = (float(x) for x in probe.lines("deadlines"))
    assert second >= first + engine.short - 0.01


# -- the backoff schedule --------------------------------------------------------------------------
@pytest.mark.parametrize("is_async", KINDS)
def test_backoff_doubles(engine: Engine, is_async: bool) -> None:
    with Stopwatch() as sw:
        probe, _ = failing_run(engine, is_async, max_retries=3, backoff=0.05)
    gaps = probe.gaps()
    expected = [0.05, 0.1, 0.2]
    assert len(gaps) == 3
    for gap, want in zip(gaps, expected, strict=True):
        assert want - EARLY <= gap <= want + SLACK, (gaps, expected)
    assert sw.elapsed < sum(expected) + 4 * SLACK


@pytest.mark.parametrize("is_async", KINDS)
def test_no_backoff_retries_without_sleeping(engine: Engine, is_async: bool) -> None:
    with jido.testing.no_backoff(), Stopwatch() as sw:
        probe, _ = failing_run(engine, is_async, max_retries=4, backoff=10.0)
    assert len(probe.attempts) == 5
    assert sw.elapsed < 3.0


def test_retry_after_replaces_the_computed_delay(engine: Engine) -> None:
    # longer than the backoff (0.3 s, not 0.001 s), then shorter (0 s, not 2 x 10 s)
    probe = engine.probe()
    with Stopwatch() as sw, pytest.raises(jido.ExecutionError) as info:
        engine.rt.run(
            actions.rate_limited,
            {"retry_after": [0.3, 0.0]},
            {"probe": probe},
            max_retries=2,
            backoff=10.0,
        )
    gaps = probe.gaps()
    assert 0.3 - EARLY <= gaps[0] <= 0.3 + SLACK
    assert gaps[1] < SLACK
    assert sw.elapsed < 0.3 + 3 * SLACK
    assert info.value.retry_after == 0.0  # the last attempt's error, as raised


# -- retry_on --------------------------------------------------------------------------------------
def test_retry_on_exception_types_matches_the_cause(engine: Engine) -> None:
    def attempts(error: str, retry_on: Any) -> int:
        probe = engine.probe()
        with pytest.raises(jido.ExecutionError):
            engine.rt.run(
                actions.raises, {"error": error}, {"probe": probe}, max_retries=3, retry_on=retry_on
            )
        return probe.count("attempts")

    with jido.testing.no_backoff():
        assert attempts("ConnectionError", (ConnectionError,)) == 4
        assert attempts("ValueError", (ConnectionError,)) == 1
        assert attempts("ConnectionError", ConnectionError) == 4


def test_retry_on_predicate(engine: Engine) -> None:
    def attempts(error: str) -> int:
        probe = engine.probe()
        with pytest.raises(jido.ExecutionError):
            engine.rt.run(
                actions.raises,
                {"error": error},
                {"probe": probe},
                max_retries=2,
                retry_on=lambda e: "again" in e.message,
            )
        return probe.count("attempts")

    with jido.testing.no_backoff():
        assert attempts("RuntimeError") == 3  # "try again later"
        assert attempts("ValueError") == 1


def test_retry_on_only_narrows(engine: Engine) -> None:
    # retry_on cannot make a non-retryable error retryable
    with jido.testing.no_backoff():
        for error, retry_on in (
            ("ValidationError", lambda e: True),
            ("ExecutionError-retryable-False", (jido.ExecutionError,)),
        ):
            probe = engine.probe()
            with pytest.raises(jido.JidoError):
                engine.rt.run(
                    actions.raises,
                    {"error": error},
                    {"probe": probe},
                    max_retries=3,
                    retry_on=retry_on,
                )
            assert probe.count("attempts") == 1


# -- total_timeout ---------------------------------------------------------------------------------
@pytest.mark.parametrize("is_async", KINDS)
def test_total_timeout_bounds_the_whole_run(engine: Engine, is_async: bool) -> None:
    engine.warm()  # a child process starting on a loaded machine could use up the 0.5 s
    with Stopwatch() as sw:
        probe, err = failing_run(
            engine, is_async, max_retries=1000, backoff=0.1, max_backoff=0.1, total_timeout=0.5
        )
    assert sw.elapsed < 0.5 + SLACK + 0.5
    assert 1 <= len(probe.attempts) <= 6  # not 1001 attempts
    assert isinstance(err, jido.JidoError)


@engines(*TIMED)
def test_total_timeout_stops_a_long_attempt(engine: Engine) -> None:
    probe = engine.probe()
    engine.warm()
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError):
        engine.rt.run(
            actions.coop_sleep,
            {"seconds": 30},
            {"probe": probe},
            timeout=20,
            max_retries=5,
            total_timeout=0.5,
        )
    assert sw.elapsed < 2.5
    assert probe.finished(2.0) or engine.stop("coop") == "killed"
    assert len(probe.attempts) == 1  # an expired run deadline is not retried


@engines(*TIMED)
def test_attempt_timeouts_retry_only_while_the_run_deadline_allows(engine: Engine) -> None:
    probe = engine.probe()
    engine.warm()
    total = 3 * engine.short + 0.05
    with Stopwatch() as sw, pytest.raises(jido.TimeoutError):
        engine.rt.run(
            actions.coop_sleep,
            {"seconds": 30},
            {"probe": probe},
            timeout=engine.short,
            total_timeout=total,
            max_retries=50,
            backoff=0,
        )
    assert sw.elapsed < total + 2.0
    assert 2 <= len(probe.attempts) <= 5
    assert probe.attempts[-1] - probe.attempts[0] < total + 0.05
