"""The error tree: codes, fields, pickling (issue point 8), builtin TimeoutError, to_dict.

Errors from real runs on every engine (types, messages, details, causes) are in
tests/conformance/test_errors.py."""

from __future__ import annotations

import builtins
import copy
import pickle
import threading
from typing import Any

import pytest

import actions
import jido
from actions import Probe

CLASSES = [
    (jido.ValidationError, "validation_error", False),
    (jido.InvalidActionError, "invalid_action", False),
    (jido.ExecutionError, "execution_error", True),
    (jido.TimeoutError, "timeout", True),
    (jido.CancelledError, "cancelled", False),
    (jido.InvalidAsyncRefError, "invalid_async_ref", None),
    (jido.CompensationError, "compensation_error", None),
    (jido.ConfigError, "config_error", False),
    (jido.InternalError, "internal_error", None),
]
IDS = [c[1] for c in CLASSES]


@pytest.mark.parametrize(("cls", "code", "retryable"), CLASSES, ids=IDS)
def test_codes_and_default_retryability(
    cls: type[jido.JidoError], code: str, retryable: bool | None
) -> None:
    err = cls("something happened")
    assert isinstance(err, jido.JidoError)
    assert isinstance(err, Exception)
    assert err.type == code
    assert err.message == "something happened"
    assert str(err) == "something happened"
    assert err.details == {}
    assert err.retry_after is None
    if retryable is not None:  # the contract names these; the others are unspecified
        assert err.retryable is retryable


@pytest.mark.parametrize(("cls", "code", "retryable"), CLASSES, ids=IDS)
@pytest.mark.parametrize("flag", [True, False])
def test_pickle_round_trip_keeps_every_field(
    cls: type[jido.JidoError], code: str, retryable: bool | None, flag: bool
) -> None:
    err = cls(
        "it broke",
        details={"action": "x", "attempts": 3, "nested": {"a": [1, 2]}, "stopped": True},
        retryable=flag,
        retry_after=2.5,
    )
    err.__cause__ = ValueError("root cause")
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(err, protocol=protocol))
        assert type(back) is cls
        assert back.type == code
        assert back.message == "it broke"
        assert str(back) == "it broke"
        assert back.details == err.details
        assert back.retryable is flag
        assert back.retry_after == 2.5
        assert type(back.__cause__) is ValueError
        assert str(back.__cause__) == "root cause"


@pytest.mark.parametrize(("cls", "code", "retryable"), CLASSES, ids=IDS)
def test_copy_keeps_fields(cls: type[jido.JidoError], code: str, retryable: bool | None) -> None:
    err = cls("m", details={"k": 1}, retryable=True, retry_after=1.0)
    for clone in (copy.copy(err), copy.deepcopy(err)):
        assert type(clone) is cls
        assert clone.message == "m"
        assert clone.details == {"k": 1}
        assert clone.retryable is True
        assert clone.retry_after == 1.0


def test_pickle_keeps_a_jido_error_cause_chain() -> None:
    inner = jido.ExecutionError("inner", details={"i": 1})
    inner.__cause__ = KeyError("k")
    outer = jido.CompensationError("outer")
    outer.__cause__ = inner
    back = pickle.loads(pickle.dumps(outer))
    assert isinstance(back.__cause__, jido.ExecutionError)
    assert back.__cause__.details == {"i": 1}
    assert isinstance(back.__cause__.__cause__, KeyError)


class _Unpicklable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


@pytest.mark.parametrize(("cls", "code", "retryable"), CLASSES, ids=IDS)
def test_unpicklable_cause_travels_as_remote_error(
    cls: type[jido.JidoError], code: str, retryable: bool | None
) -> None:
    cause = _Unpicklable("cannot travel")
    with pytest.raises(TypeError):
        pickle.dumps(cause)
    try:
        raise cause
    except _Unpicklable as exc:
        err = cls("wrapped", details={"k": "v"})
        err.__cause__ = exc
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert back.details == {"k": "v"}
    remote = back.__cause__
    assert isinstance(remote, jido.RemoteError)
    assert "_Unpicklable" in remote.type_name
    assert remote.remote_message == "cannot travel"
    assert "cannot travel" in str(remote)
    assert "Traceback" in remote.traceback_text or "_Unpicklable" in remote.traceback_text
    again = pickle.loads(pickle.dumps(remote))  # a RemoteError itself travels
    assert again.type_name == remote.type_name
    assert again.remote_message == remote.remote_message


def test_jido_timeout_error_is_a_builtin_timeout_error() -> None:
    assert issubclass(jido.TimeoutError, builtins.TimeoutError)
    probe = Probe()
    with pytest.raises(TimeoutError) as info:  # the builtin name
        jido.run(actions.coop_sleep, {"seconds": 10}, {"probe": probe}, timeout=0.05, max_retries=0)
    assert isinstance(info.value, jido.TimeoutError)
    assert info.value.type == "timeout"
    back = pickle.loads(pickle.dumps(jido.TimeoutError("t", details={"timeout": 0.05})))
    assert isinstance(back, builtins.TimeoutError)


def test_to_dict() -> None:
    err = jido.ExecutionError("busy", details={"upstream": "db"}, retryable=False, retry_after=3.0)
    data = err.to_dict()
    assert data["type"] == "execution_error"
    assert data["message"] == "busy"
    assert data["details"] == {"upstream": "db"}
    assert data["retryable"] is False
    assert data["retry_after"] == 3.0


def test_retry_after_and_retryable_are_data() -> None:
    err: Any = jido.ExecutionError("x", retryable=False, retry_after=0)
    assert err.retryable is False
    assert err.retry_after == 0.0
