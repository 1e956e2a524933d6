"""Errors arrive with the same type, message, details, retryability and cause on every engine.

In-process the caller gets the very objects the action raised; from another process it
gets equal copies (docs/guarantees.md: errors pickle with all their fields; a cause that cannot be
pickled travels as a ``jido.RemoteError``).
"""

from __future__ import annotations

import os
import pickle

import pytest

import jido
import jido.testing
from conformance import actions
from conformance.conftest import REMOTE, TIMED, Engine, engines
from support import wait_until

KINDS = [pytest.param(False, id="sync"), pytest.param(True, id="async")]


@pytest.mark.parametrize("is_async", KINDS)
def test_exception_becomes_execution_error_with_cause(engine: Engine, is_async: bool) -> None:
    action = actions.async_raises if is_async else actions.raises
    with pytest.raises(jido.ExecutionError) as info:
        engine.rt.run(action, {"error": "KeyError"}, max_retries=0)
    err = info.value
    assert err.type == "execution_error"
    assert type(err.__cause__) is KeyError
    assert err.__cause__.args == ("missing-thing",)
    assert err.retryable is True  # raised exceptions are retryable
    assert err.details["attempts"] == 1
    assert "KeyError" in err.message
    assert "missing-thing" in err.message


def test_a_raised_exception_object_is_the_cause_in_process(engine: Engine) -> None:
    original = ValueError("the caller's object")
    with pytest.raises(jido.ExecutionError) as info:
        engine.rt.run(actions.raise_given, None, {"error": original}, max_retries=0)
    cause = info.value.__cause__
    assert type(cause) is ValueError
    assert cause.args == ("the caller's object",)
    assert (cause is original) is not engine.remote  # a copy when it crossed processes


@pytest.mark.parametrize(
    "error",
    [
        jido.ExecutionError("custom", details={"k": 1}, retryable=False),
        jido.ValidationError("bad input found late", details={"field": "f"}),
        jido.ConfigError("misconfigured"),
    ],
    ids=["ExecutionError", "ValidationError", "ConfigError"],
)
@pytest.mark.parametrize("is_async", KINDS)
def test_jido_error_raised_by_action_is_kept_as_is(
    engine: Engine, error: jido.JidoError, is_async: bool
) -> None:
    probe = engine.probe()
    action = actions.async_raise_given if is_async else actions.raise_given
    with jido.testing.no_backoff(), pytest.raises(jido.JidoError) as info:
        engine.rt.run(action, None, {"error": error, "probe": probe}, max_retries=3)
    got = info.value
    assert type(got) is type(error)
    assert got.message == error.message
    assert {k: v for k, v in got.details.items() if k != "attempts"} == {
        k: v for k, v in error.details.items() if k != "attempts"
    }
    assert got.retryable is error.retryable
    assert (got is error) is not engine.remote
    # no cause cycle (it would break traceback printing and pickling): nothing caused it
    assert got.__cause__ is None
    assert probe.count("attempts") == 1  # none of these is retryable


@pytest.mark.parametrize("is_async", KINDS)
def test_custom_error_arrives_intact(engine: Engine, is_async: bool) -> None:
    action = actions.async_raises if is_async else actions.raises
    with pytest.raises(jido.ExecutionError) as info:
        engine.rt.run(action, {"error": "custom"}, max_retries=3, timeout=10)
    err = info.value
    assert err.message == "upstream busy"
    assert err.details["upstream"] == "db"
    assert err.details["n"] == 3
    assert err.details["attempts"] == 1  # not retryable
    assert err.retryable is False
    assert err.retry_after == 1.5


def test_execution_error_message_never_contains_params_or_context(engine: Engine) -> None:
    with pytest.raises(jido.ExecutionError) as info:
        engine.rt.run(
            actions.fails_generic,
            {"secret_param": "PARAM-VALUE-123"},
            {"ctx": "CTX-VALUE-456"},
            max_retries=0,
        )
    text = info.value.message + repr(info.value.details)
    assert "PARAM-VALUE-123" not in text
    assert "CTX-VALUE-456" not in text


@engines(*TIMED)
def test_timeout_error_never_contains_params_or_context(engine: Engine) -> None:
    engine.warm()
    with pytest.raises(jido.TimeoutError) as info:
        engine.rt.run(
            actions.coop_sleep,
            {"seconds": 10, "marker": "PARAM-VALUE-123"},
            {"probe": engine.probe(), "ctx": "CTX-VALUE-456"},
            timeout=engine.short,
            max_retries=0,
        )
    text = info.value.message + repr(info.value.details)
    assert "PARAM-VALUE-123" not in text
    assert "CTX-VALUE-456" not in text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login failed: password=hunter2", "hunter2"),
        ("call failed api_key=sk-live-abcdef123", "sk-live-abcdef123"),
        ("HTTP 401 with header Authorization: Bearer sk-abc123XYZ", "sk-abc123XYZ"),
        ("upstream said: token: tok_98765", "tok_98765"),
    ],
)
def test_secrets_are_redacted_in_error_messages(engine: Engine, text: str, secret: str) -> None:
    with pytest.raises(jido.ExecutionError) as info:
        engine.rt.run(actions.raise_text, {"text": text}, max_retries=0)
    assert secret not in info.value.message
    assert secret not in repr(info.value.details)
    assert "[REDACTED]" in info.value.message


def test_errors_from_real_runs_pickle(engine: Engine) -> None:
    rt = engine.rt
    engine.warm()
    errors: list[jido.JidoError] = []
    for fn in (
        lambda: rt.run(actions.Add, {"value": "x"}),
        lambda: rt.run(actions.raises, {"error": "ValueError"}, max_retries=0),
        lambda: rt.run(actions.raises, {"error": "custom"}, max_retries=0),
        lambda: rt.run(
            actions.spin, None, {"probe": engine.probe()}, timeout=engine.short, max_retries=0
        ),
    ):
        with pytest.raises(jido.JidoError) as info:
            fn()
        errors.append(info.value)
    for err in errors:
        assert err.__cause__ is not err  # a cause cycle would make pickling recurse
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err)
        assert back.message == err.message
        assert back.details == err.details
        assert back.retryable == err.retryable
        assert back.retry_after == err.retry_after


def test_a_cause_that_cannot_be_pickled_travels_as_a_remote_error(engine: Engine) -> None:
    with pytest.raises(jido.ExecutionError) as info:
        engine.rt.run(actions.raise_unpicklable, max_retries=0)
    cause = info.value.__cause__
    if not engine.remote:  # in-process: the exception itself
        assert isinstance(cause, actions.Unpicklable)
        return
    assert isinstance(cause, jido.RemoteError)
    assert "Unpicklable" in cause.type_name
    assert cause.remote_message == "cannot travel"
    assert "cannot travel" in info.value.message


@engines(*REMOTE)
def test_worker_dying_mid_action_is_a_retryable_execution_error(engine: Engine) -> None:
    probe = engine.probe()
    with pytest.raises(jido.ExecutionError) as info:
        engine.rt.run(actions.die, None, {"probe": probe}, max_retries=0, timeout=30)
    err = info.value
    assert err.retryable is True
    assert "died" in err.message
    assert err.details["stopped"] is True
    dead = probe.pids[0]
    assert dead != os.getpid()
    assert wait_until(lambda: not _alive(dead), timeout=10)
    # retried by jido's policy, on another worker process: never a hang
    with jido.testing.no_backoff():
        out = engine.rt.run(actions.die, None, {"probe": probe}, max_retries=1, timeout=30)
    assert out["attempt"] == 2
    assert out["pid"] != probe.pids[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].startswith("Z")
    except (FileNotFoundError, IndexError):
        return False
