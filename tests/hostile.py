"""Hostile values for property tests of the public entry points (hypothesis strategies).

Each value misbehaves in a way real input can: a ``__repr__``, ``__hash__``, ``__eq__``,
``__getattr__``, ``__iter__``, ``__bool__`` or ``__str__`` that raises; ints too long to
print (over 4,300 digits) or to convert to a float; NaN and infinities; structures that
contain themselves or are nested far beyond the recursion limit; mappings whose reading
raises; odd types (bytes, complex, Decimal, ranges, generators, modules, classes).
"""

from __future__ import annotations

import decimal
import fractions
import math
import types
from collections.abc import Iterator, Mapping
from typing import Any

from hypothesis import strategies as st

import jido


class Boom(Exception):
    """What the hostile dunders raise (an ordinary Exception, as user code would)."""


class RaisingRepr:
    def __repr__(self) -> str:
        raise Boom("repr")


class RaisingStr(Exception):
    """An exception whose text cannot be read."""

    def __str__(self) -> str:
        raise Boom("str")


class RaisingHash:
    def __hash__(self) -> int:
        raise Boom("hash")


class RaisingEq:
    """Hashes like an option or field name, so dict and set lookups call its ``__eq__``."""

    def __init__(self, like: str = "timeout") -> None:
        self.like = like

    def __hash__(self) -> int:
        return hash(self.like)

    def __eq__(self, other: object) -> bool:
        raise Boom("eq")


class RaisingGetattr:
    def __getattr__(self, name: str) -> Any:
        raise Boom(f"getattr {name}")


class RaisingBool:
    def __bool__(self) -> bool:
        raise Boom("bool")


class RaisingIter:
    def __iter__(self) -> Iterator[Any]:
        raise Boom("iter")


class RaisingLen(list[Any]):
    def __len__(self) -> int:
        raise Boom("len")


class RaisingMapping(Mapping[Any, Any]):
    """A Mapping whose every read raises."""

    def __getitem__(self, key: object) -> Any:
        raise Boom("getitem")

    def __iter__(self) -> Iterator[Any]:
        raise Boom("iter")

    def __len__(self) -> int:
        raise Boom("len")


class HalfMapping(Mapping[Any, Any]):
    """Iterates its keys, then fails to look them up."""

    def __getitem__(self, key: object) -> Any:
        raise Boom("getitem")

    def __iter__(self) -> Iterator[Any]:
        return iter(["timeout", "x", "action"])

    def __len__(self) -> int:
        return 3


class RaisingInt(int):
    """An int whose comparisons raise."""

    def __lt__(self, other: object) -> bool:
        raise Boom("lt")

    __le__ = __gt__ = __ge__ = __lt__


class RaisingFloat(float):
    def __lt__(self, other: object) -> bool:
        raise Boom("lt")

    __le__ = __gt__ = __ge__ = __lt__


class WeirdStr(str):
    """A str whose comparisons and hash raise."""

    def __eq__(self, other: object) -> bool:
        raise Boom("eq")

    def __hash__(self) -> int:
        raise Boom("hash")

    def lower(self) -> str:  # type: ignore[override]
        raise Boom("lower")


class AbstractBase(jido.Action):
    """A base class without run: not an action."""


def _self_list() -> list[Any]:
    value: list[Any] = [1]
    value.append(value)
    return value


def _self_dict() -> dict[str, Any]:
    value: dict[str, Any] = {"x": 1}
    value["self"] = value
    return value


def _deep_list(depth: int = 50_000) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _deep_dict(depth: int = 50_000) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"x": value}
    return value


def _generator() -> Iterator[Any]:
    yield ("x", 1)
    raise Boom("generator")


HUGE = 10**5000
DEEP_LIST = _deep_list()
DEEP_DICT = _deep_dict()

objects = st.one_of(
    st.builds(RaisingRepr),
    st.builds(RaisingHash),
    st.builds(RaisingEq, st.sampled_from(["timeout", "x", "action", "params", "max_retries"])),
    st.builds(RaisingGetattr),
    st.builds(RaisingBool),
    st.builds(RaisingIter),
    st.builds(RaisingLen, st.just([1, 2])),
    st.builds(RaisingMapping),
    st.builds(HalfMapping),
    st.builds(RaisingStr),
    st.builds(RaisingInt, st.integers(-5, 5)),
    st.builds(RaisingFloat, st.floats(-5, 5)),
    st.builds(WeirdStr, st.sampled_from(["thread", "full", "x", "timeout", "openai"])),
    st.builds(_self_list),
    st.builds(_self_dict),
    st.builds(_generator),
    st.just(DEEP_LIST),
    st.just(DEEP_DICT),
    st.just(AbstractBase),
    st.just(jido.Action),
)
numbers = st.one_of(
    st.sampled_from(
        [
            HUGE,
            -HUGE,
            2**1024,
            -(2**1024),
            math.nan,
            math.inf,
            -math.inf,
            -0.0,
            1e308,
            5e-324,
            -1,
            True,
            decimal.Decimal("NaN"),
            decimal.Decimal("1e999999"),
            fractions.Fraction(1, 3),
            complex(1, 1),
        ]
    ),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
)
odd = st.one_of(
    st.sampled_from(
        [
            None,
            b"bytes",
            bytearray(b"x"),
            memoryview(b"x"),
            range(3),
            Ellipsis,
            NotImplemented,
            types,
            int,
            object,
            Boom("an exception"),
            "x" * 100_000,
            "",
            "thread",
            "[" * 1000,
            lambda: None,
        ]
    ),
    st.text(max_size=10),
    st.binary(max_size=10),
)
leaves = st.one_of(objects, numbers, odd)
hostile = st.one_of(
    leaves,
    st.lists(leaves, max_size=3),
    st.tuples(leaves, leaves),
    st.dictionaries(st.text(max_size=5), leaves, max_size=3),
    st.dictionaries(st.integers(), leaves, max_size=2),
    st.builds(lambda key, value: {key: value}, st.builds(RaisingEq), leaves),
    st.lists(st.tuples(leaves, leaves), max_size=3),
)
"""Any hostile value: a misbehaving object, an odd number or type, or a few of them."""

OPTION_NAMES = [
    "timeout",
    "max_retries",
    "backoff",
    "max_backoff",
    "jitter",
    "total_timeout",
    "retry_on",
    "retry",
    "isolation",
    "telemetry",
    "log_level",
    "compensation_timeout",
]
SAFE_OPTIONS: dict[str, st.SearchStrategy[Any]] = {
    "timeout": st.sampled_from([None, 0, 0.5, 5, 10**5000, 1e300]),
    "max_retries": st.integers(0, 2),
    "backoff": st.sampled_from([0, 0.001]),
    "max_backoff": st.sampled_from([0, 0.01, 10**5000]),
    "jitter": st.booleans(),
    "total_timeout": st.sampled_from([None, 0, 5, 1e300]),
    "retry_on": st.sampled_from([None, KeyError, [KeyError, ValueError], (OSError,)]),
    "isolation": st.sampled_from([None, "thread"]),
    "telemetry": st.sampled_from(["full", "silent"]),
    "log_level": st.sampled_from(["info", "debug", 10**5000, 0]),
    "compensation_timeout": st.sampled_from([None, 1, 1e300]),
}
"""Valid option values, the extreme ones included (a run with them must work)."""


_NAMES = st.lists(st.sampled_from(list(SAFE_OPTIONS)), max_size=4, unique=True)
_ANY_NAME = st.one_of(st.sampled_from(OPTION_NAMES), st.text(max_size=6))


@st.composite
def _options(draw: st.DrawFn, hostile_values: bool) -> tuple[dict[str, Any], bool]:
    out = {name: draw(SAFE_OPTIONS[name]) for name in draw(_NAMES)}
    if hostile_values and draw(st.booleans()):
        out[draw(_ANY_NAME)] = draw(hostile)
        return out, True
    return out, False


_WITH_HOSTILE = _options(True)
_SAFE_ONLY = _options(False)


def options(hostile_values: bool = True) -> st.SearchStrategy[tuple[dict[str, Any], bool]]:
    """Run options, and whether a hostile value or an unknown name is among them."""
    return _WITH_HOSTILE if hostile_values else _SAFE_ONLY
