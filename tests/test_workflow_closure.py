"""Closures: an action with context and options bound, checked at creation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import jido
from jido.workflow import AsyncClosure, Closure, async_closure, closure
from workflow_actions import Add, Log, async_add, record, slow


def test_closure_binds_context_and_options() -> None:
    log = Log()
    note = closure(record, {"log": log, "user": 7}, timeout=1.0)
    assert isinstance(note, Closure)
    assert note({"n": 1}) == {}
    assert note([("n", 2)]) == {}
    assert log.items == [("record", {"n": 1}, {"user": 7}), ("record", {"n": 2}, {"user": 7})]
    assert note.name == "record"
    assert dict(note.opts) == {"timeout": 1.0}


def test_closure_variants_run_sync_asyncio_and_as_a_handle() -> None:
    add = closure(Add)
    assert add({"value": 1}) == {"value": 2}
    assert asyncio.run(add.arun({"value": 2})) == {"value": 3}
    assert jido.await_(add.run_async({"value": 3})) == {"value": 4}


def test_async_closure_returns_a_handle() -> None:
    start = async_closure(async_add, max_retries=0)
    assert isinstance(start, AsyncClosure)
    ref = start({"value": 1})
    assert isinstance(ref, jido.AsyncRef)
    assert jido.await_(ref) == {"value": 2}

    async def main() -> dict[str, Any]:
        return await start({"value": 10})

    assert asyncio.run(main()) == {"value": 11}


def test_bound_options_apply() -> None:
    impatient = closure(slow, timeout=0.05, max_retries=0)
    with pytest.raises(jido.TimeoutError):
        impatient({"seconds": 1.0})


def test_errors_of_a_call_are_raised_by_the_call() -> None:
    with pytest.raises(jido.ValidationError):
        closure(Add)({"value": "x"})


@pytest.mark.parametrize("factory", [closure, async_closure])
def test_invalid_action_context_or_options_are_rejected_at_creation(factory: Any) -> None:
    with pytest.raises(jido.InvalidActionError):
        factory("add")
    with pytest.raises(jido.InvalidActionError):
        factory(lambda params: params)
    with pytest.raises(jido.ValidationError):
        factory(Add, 42)
    with pytest.raises(jido.ConfigError, match="unknown run option 'retry_count'"):
        factory(Add, retry_count=3)
    with pytest.raises(jido.ConfigError, match="timeout"):
        factory(Add, timeout="soon")


def test_closure_on_an_explicit_runtime_and_repr() -> None:
    with jido.Runtime(name="closure-test") as runtime:
        add = closure(Add, runtime=runtime, timeout=1.0)
        assert add({"value": 1}) == {"value": 2}
    assert repr(add) == "<Closure add, timeout=1.0>"
