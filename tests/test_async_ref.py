"""run_async / await_ / AsyncRef, in-process specifics: the caller's event loop, defaults,
garbage refs, many concurrent runs (contract item 2, docs/guarantees.md "AsyncRef semantics"). The
AsyncRef contract on every engine is in tests/conformance/test_async_ref.py."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import actions
import jido
from actions import Add, Probe
from support import Stopwatch


def test_readme_async_example() -> None:
    ref = jido.run_async(Add, {"value": 5})
    assert jido.await_(ref, timeout=5.0) == {"value": 6}
    jido.cancel(ref)  # no-op once finished
    assert jido.await_(ref) == {"value": 6}


def test_await_default_timeout_is_five_seconds() -> None:
    import inspect

    assert inspect.signature(jido.await_).parameters["timeout"].default == 5.0
    assert inspect.signature(jido.AsyncRef.result).parameters["timeout"].default == 5.0


# -- cancel --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage", ["invalid", None, [], {"invalid": "ref"}, 123, object()], ids=repr
)
def test_cancel_and_await_on_garbage_raise_invalid_async_ref(garbage: Any) -> None:
    with pytest.raises(jido.InvalidAsyncRefError) as info:
        jido.cancel(garbage)
    assert info.value.type == "invalid_async_ref"
    with Stopwatch() as sw, pytest.raises(jido.InvalidAsyncRefError):
        jido.await_(garbage, timeout=5)
    assert sw.elapsed < 0.5


# -- asyncio -------------------------------------------------------------------------------------
def test_arun_runs_async_actions_on_the_callers_loop() -> None:
    @jido.action
    async def where() -> dict[str, Any]:
        return {"loop": id(asyncio.get_running_loop()), "thread": threading.get_ident()}

    async def main() -> None:
        out = await jido.arun(where, timeout=1.0)
        assert out == {"loop": id(asyncio.get_running_loop()), "thread": threading.get_ident()}
        out = await jido.arun(where, timeout=0)
        assert out["loop"] == id(asyncio.get_running_loop())

    asyncio.run(main())


def test_run_async_inside_asyncio_runs_on_the_callers_loop() -> None:
    @jido.action
    async def where() -> dict[str, Any]:
        return {"loop": id(asyncio.get_running_loop())}

    async def main() -> None:
        ref = jido.run_async(where)
        assert isinstance(ref, jido.AsyncRef)
        assert await ref == {"loop": id(asyncio.get_running_loop())}
        ref2 = jido.run_async(actions.square, {"x": 5})  # a sync action from asyncio
        assert await ref2 == {"x": 25}

    asyncio.run(main())


def test_await_ref_from_another_loop() -> None:
    ref = jido.run_async(actions.async_sleep, {"seconds": 0.1}, {"probe": Probe()})

    async def main() -> dict[str, Any]:
        return await ref

    assert asyncio.run(main()) == {"slept": 0.1}


def test_ten_thousand_concurrent_aruns_complete() -> None:
    async def main() -> list[dict[str, Any]]:
        return await asyncio.gather(
            *(jido.arun(actions.async_square, {"x": i}, timeout=5) for i in range(10_000))
        )

    with Stopwatch() as sw:
        results = asyncio.run(main())
    assert results == [{"x": i * i} for i in range(10_000)]
    assert sw.elapsed < 30
