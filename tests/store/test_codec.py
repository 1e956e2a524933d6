"""The journal's JSON codec: strict encoding that names the bad key, errors both ways."""

from __future__ import annotations

import datetime
import enum
import math
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jido
from jido._store.codec import decode, encode, error_from_json, error_to_json

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_every_json_value_round_trips(value: Any) -> None:
    assert decode(encode(value)) == value


@given(st.lists(json_scalars, max_size=5))
def test_tuples_come_back_as_lists(items: list[Any]) -> None:
    assert decode(encode(tuple(items))) == items


class Color(enum.Enum):
    RED = 1


class Level(enum.IntEnum):
    HIGH = 2


UNENCODABLE = [
    object(),
    threading.Lock(),
    datetime.datetime(2026, 1, 1),
    b"bytes",
    {1, 2},
    Color.RED,
    Level.HIGH,
    math.nan,
    math.inf,
    1 + 2j,
    print,
]


@st.composite
def poisoned(draw: st.DrawFn) -> tuple[Any, str, Any]:
    """A JSON value with one unencodable value hidden at a random path, and that path."""
    bad = draw(st.sampled_from(UNENCODABLE))
    keys = draw(st.lists(st.text(max_size=5) | st.integers(0, 3), max_size=4))
    value: Any = bad
    path = ""
    for key in reversed(keys):
        value = [None] * key + [value] if isinstance(key, int) else {key: value}
    for key in keys:
        path += f"[{key!r}]"
    return value, f"params{path}", bad


@given(poisoned())
@settings(max_examples=200)
def test_an_unencodable_value_is_a_validation_error_naming_its_path(
    case: tuple[Any, str, Any],
) -> None:
    value, path, _ = case
    with pytest.raises(jido.ValidationError) as info:
        encode(value, "params")
    assert info.value.details["path"] == path
    assert str(info.value).startswith(f"{path}: ")


def test_the_message_says_what_the_value_is_and_carries_a_hint() -> None:
    with pytest.raises(jido.ValidationError) as info:
        encode(
            {"session": threading.Lock()},
            "context",
            hint="provide it with jido.Runtime(context=...) instead",
        )
    message = str(info.value)
    assert message.startswith("context['session']: a _thread.lock cannot be stored as JSON")
    assert message.endswith("; provide it with jido.Runtime(context=...) instead")


@pytest.mark.parametrize("key", [1, 2.5, None, True, ("a",)])
def test_keys_must_be_strings(key: Any) -> None:
    with pytest.raises(jido.ValidationError) as info:
        encode({"outer": {key: 1}}, "result")
    assert info.value.details["path"] == f"result['outer'][{key!r}]"


def test_depth_is_bounded() -> None:
    value: Any = 1
    for _ in range(300):
        value = [value]
    with pytest.raises(jido.ValidationError, match="nested deeper"):
        encode(value)


def test_encoding_is_compact_and_keeps_unicode() -> None:
    assert encode({"name": "Zoë", "n": [1, 2.5]}) == '{"name":"Zoë","n":[1,2.5]}'
    assert decode(None) is None


ERRORS = [
    jido.ValidationError("bad params", details={"field": "x"}),
    jido.ExecutionError("busy", retry_after=3.0),
    jido.ExecutionError("permanent", retryable=False),
    jido.TimeoutError("too slow", details={"stopped": False}),
    jido.CancelledError("stop", details={"reason": "caller"}),
    jido.ConfigError("misuse"),
    jido.InternalError("bug"),
    jido.CompensationError("undo failed"),
]


@pytest.mark.parametrize("err", ERRORS, ids=lambda e: type(e).__name__)
def test_jido_errors_round_trip(err: jido.JidoError) -> None:
    data = error_to_json(err)
    assert set(data) == {"type", "message", "details", "retryable", "retry_after", "cause"}
    assert decode(encode(data)) == data
    back = error_from_json(data)
    assert type(back) is type(err)
    assert (back.message, back.details, back.retryable, back.retry_after) == (
        err.message,
        err.details,
        err.retryable,
        err.retry_after,
    )


def test_the_cause_chain_travels() -> None:
    root = ConnectionResetError("peer reset")
    middle = jido.TimeoutError("attempt timed out")
    middle.__cause__ = root
    top = jido.ExecutionError("gave up")
    top.__cause__ = middle
    back = error_from_json(error_to_json(top))
    assert isinstance(back.__cause__, jido.TimeoutError)
    remote = back.__cause__.__cause__
    assert isinstance(remote, jido.RemoteError)
    assert (remote.type_name, remote.remote_message) == (
        "builtins.ConnectionResetError",
        "peer reset",
    )


def test_a_plain_exception_becomes_its_class_name() -> None:
    data = error_to_json(KeyError("k"))
    assert (data["type"], data["retryable"]) == ("builtins.KeyError", False)
    back = error_from_json(data)
    assert isinstance(back, jido.InternalError)
    assert back.details == {"type": "builtins.KeyError"}
    assert isinstance(back.__cause__, jido.RemoteError)
    assert back.__cause__.type_name == "builtins.KeyError"


def test_an_unknown_type_code_becomes_an_internal_error() -> None:
    back = error_from_json({"type": "from_the_future", "message": "m", "details": {"a": 1}})
    assert isinstance(back, jido.InternalError)
    assert back.details == {"a": 1, "type": "from_the_future"}


def test_details_that_are_not_json_are_kept_as_their_repr() -> None:
    err = jido.ExecutionError("x", details={"when": datetime.date(2026, 1, 2), "ok": [1]})
    data = error_to_json(err)
    assert data["details"] == {"when": "datetime.date(2026, 1, 2)", "ok": [1]}
    encode(data)  # always encodable
