"""What the page is sent, for any input: filters from a query string, step graphs."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jido._store import StepRow
from jido._web.present import graph
from jido._web.query import Filter, FilterError, parse_filter, parse_limit

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["status", "action", "since", "x"]), st.text(max_size=30)))
def test_any_query_string_is_a_filter_or_a_filter_error(params: dict[str, str]) -> None:
    try:
        parsed: Filter | str = parse_filter(params, time.time())
    except FilterError as exc:
        parsed = str(exc)
    assert parsed.describe() if isinstance(parsed, Filter) else parsed


def test_since_reads_ages_epochs_and_iso_times() -> None:
    now = 1_000_000.0
    assert parse_filter({"since": "90s"}, now).since == now - 90
    assert parse_filter({"since": "2w"}, now).since == now - 14 * 86400
    assert parse_filter({"since": "12345.5"}, now).since == 12345.5
    assert parse_filter({"since": "1970-01-02T00:00:00Z"}, now).since == 86400
    assert parse_filter({"since": "1970-01-02T01:00:00+01:00"}, now).since == 86400
    assert parse_filter({"since": "1970-01-02"}, now).since == 86400
    for bad in ("-5", "nan", "inf", "soon", "5y"):
        with pytest.raises(FilterError):
            parse_filter({"since": bad}, now)


def test_the_limit_is_bounded() -> None:
    assert parse_limit(None) == 50
    assert parse_limit("500") == 500
    for bad in ("0", "501", "-1", "1.5", "x"):
        with pytest.raises(FilterError):
            parse_limit(bad)


def _step(key: str, status: str) -> StepRow:
    return StepRow(key, status, 1, 0.0, None, None, None, None)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["chain", "plan", "action"]), JSON)
def test_any_definition_gives_a_graph_whose_edges_join_its_nodes(
    kind: str, definition: Any
) -> None:
    found = graph(kind, definition, [_step("0", "running"), _step("x", "failed")])
    if kind == "action":
        assert found is None
        return
    assert found is not None
    keys = [n["key"] for n in found["nodes"]]
    assert len(keys) == len(set(keys))
    assert {"0", "x"} <= set(keys)
    assert all(a in keys and b in keys for a, b in found["edges"])


def test_a_chain_runs_its_steps_in_order_and_a_plan_follows_its_dependencies() -> None:
    chain = graph("chain", {"steps": [{"action": "a"}, {"action": "b"}, "c"]}, [])
    assert chain is not None
    assert [n["label"] for n in chain["nodes"]] == ["0: a", "1: b", "2: c"]
    assert chain["edges"] == [["0", "1"], ["1", "2"]]
    plan = graph("plan", {"steps": ["a", "b", "c"], "deps": {"c": ["a", "b"]}}, [])
    assert plan is not None
    assert plan["edges"] == [["a", "c"], ["b", "c"]]
    listed = graph("plan", {"steps": [{"name": "a"}, {"name": "b", "depends_on": "a"}]}, [])
    assert listed is not None
    assert listed["edges"] == [["a", "b"]]
