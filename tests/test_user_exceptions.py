"""What user code may raise, and what the run and the runtime make of it, in every mode.

- An action raising ``SystemExit``, ``KeyboardInterrupt`` or ``GeneratorExit`` fails its run
  with a non-retryable ``execution_error`` (the caller's thread is not exited, the runtime
  keeps working), except inline (``timeout=0``), where it propagates as Python would.
- A ``retry_on`` predicate that raises fails the run with a non-retryable ``config_error``
  whose ``__cause__`` is the predicate's exception: never a hang, never a raw exception.
- An exception whose ``__str__`` raises still gives a clean ``execution_error``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import jido
from support import Stopwatch

BOUND = 5.0
EXITS = [SystemExit, KeyboardInterrupt, GeneratorExit]
ATTEMPTS: list[int] = []


@jido.action
def sync_exits(kind: str) -> dict[str, Any]:
    ATTEMPTS.append(1)
    raise _exit(kind)


@jido.action
async def async_exits(kind: str) -> dict[str, Any]:
    ATTEMPTS.append(1)
    await asyncio.sleep(0)
    raise _exit(kind)


@jido.action
def sync_fails() -> dict[str, Any]:
    raise ValueError("the action failed")


@jido.action
async def async_fails() -> dict[str, Any]:
    raise ValueError("the action failed")


@jido.action
def sync_ok() -> dict[str, Any]:
    return {"ok": True}


@jido.action
async def async_ok() -> dict[str, Any]:
    return {"ok": True}


def _exit(kind: str) -> BaseException:
    return {"SystemExit": SystemExit(3), "KeyboardInterrupt": KeyboardInterrupt()}.get(
        kind, GeneratorExit()
    )


@pytest.fixture
def urt() -> Iterator[jido.Runtime]:
    with jido.Runtime(name="user-exceptions", max_threads=4) as runtime:
        yield runtime


def _modes(rt: jido.Runtime) -> dict[str, Callable[..., dict[str, Any]]]:
    """Every way a run can execute off the caller's thread (the process engine aside)."""

    async def run_here(action: Any, params: Any, **opts: Any) -> dict[str, Any]:
        return await rt.run_async(action, params, **opts)  # a task on this loop

    return {
        "thread": lambda a, p, **o: rt.run(a, p, timeout=2, **o),
        "thread-run_async": lambda a, p, **o: rt.run_async(a, p, timeout=2, **o).result(BOUND),
        "thread-no-timeout-run_async": lambda a, p, **o: rt.run_async(
            a, p, timeout=None, **o
        ).result(BOUND),
        "thread-arun": lambda a, p, **o: asyncio.run(rt.arun(a, p, timeout=2, **o)),
        "loop": lambda a, p, **o: rt.run(a, p, timeout=2, **o),
        "loop-arun": lambda a, p, **o: asyncio.run(rt.arun(a, p, timeout=2, **o)),
        "loop-run_async-in-task": lambda a, p, **o: asyncio.run(run_here(a, p, timeout=2, **o)),
    }


SYNC_MODES = ["thread", "thread-run_async", "thread-no-timeout-run_async", "thread-arun"]
ASYNC_MODES = ["loop", "loop-arun", "loop-run_async-in-task"]


# -- BaseException from an action ------------------------------------------------------------------
@pytest.mark.parametrize("exc_type", EXITS, ids=lambda t: t.__name__)
@pytest.mark.parametrize("mode", SYNC_MODES + ASYNC_MODES)
def test_an_action_raising_a_base_exception_fails_its_run_without_retry(
    urt: jido.Runtime, mode: str, exc_type: type[BaseException]
) -> None:
    action = sync_exits if mode in SYNC_MODES else async_exits
    ATTEMPTS.clear()
    with Stopwatch() as sw, pytest.raises(jido.ExecutionError) as info:
        _modes(urt)[mode](action, {"kind": exc_type.__name__}, max_retries=3, backoff=0)
    assert sw.elapsed < BOUND
    error = info.value
    assert error.retryable is False
    assert isinstance(error.__cause__, exc_type)
    assert error.details["exception"] == exc_type.__name__
    assert error.details["attempts"] == 1
    assert len(ATTEMPTS) == 1
    ok = sync_ok if mode in SYNC_MODES else async_ok
    assert _modes(urt)[mode](ok, None) == {"ok": True}  # the runtime carries on


@pytest.mark.parametrize("exc_type", EXITS, ids=lambda t: t.__name__)
def test_inline_a_base_exception_propagates_as_python_would(
    urt: jido.Runtime, exc_type: type[BaseException]
) -> None:
    with pytest.raises(exc_type):
        urt.run(sync_exits, {"kind": exc_type.__name__}, timeout=0, max_retries=3, backoff=0)
    assert urt.run(sync_ok, timeout=0) == {"ok": True}


def test_a_nested_inline_system_exit_fails_the_parent_run_only(urt: jido.Runtime) -> None:
    @jido.action
    def parent() -> dict[str, Any]:
        return urt.run(sync_exits, {"kind": "SystemExit"}, timeout=0)  # inline in the worker

    with pytest.raises(jido.ExecutionError) as info:
        urt.run(parent, timeout=2, max_retries=2, backoff=0)
    assert info.value.retryable is False
    assert isinstance(info.value.__cause__, SystemExit)


def test_issue_reproducer_async_sys_exit_does_not_kill_the_loop(urt: jido.Runtime) -> None:
    @jido.action
    async def bye() -> dict[str, Any]:
        sys.exit(1)

    ref = urt.run_async(bye, timeout=1)
    time.sleep(0.5)
    with pytest.raises(jido.ExecutionError) as info:
        ref.result(timeout=BOUND)
    assert isinstance(info.value.__cause__, SystemExit)
    with Stopwatch() as sw:
        assert urt.run(async_ok, timeout=1) == {"ok": True}
    assert sw.elapsed < 1.0
    assert urt.stats()["restarts"] == 0


# -- a retry_on predicate that raises --------------------------------------------------------------
def _broken_predicate(exc_type: type[BaseException]) -> Callable[[jido.JidoError], bool]:
    def predicate(error: jido.JidoError) -> bool:
        raise exc_type("the predicate broke")

    return predicate


@pytest.mark.parametrize("exc_type", [ValueError, KeyboardInterrupt], ids=lambda t: t.__name__)
@pytest.mark.parametrize("mode", ["inline", *SYNC_MODES, *ASYNC_MODES])
def test_a_raising_retry_on_fails_the_run_with_config_error(
    urt: jido.Runtime, mode: str, exc_type: type[BaseException]
) -> None:
    predicate = _broken_predicate(exc_type)
    if mode == "inline":

        def run() -> Any:
            return urt.run(sync_fails, timeout=0, retry_on=predicate, backoff=0)
    else:
        action = sync_fails if mode in SYNC_MODES else async_fails

        def run() -> Any:
            return _modes(urt)[mode](action, None, retry_on=predicate, backoff=0)

    with Stopwatch() as sw, pytest.raises(jido.ConfigError) as info:
        run()
    assert sw.elapsed < BOUND
    error = info.value
    assert error.retryable is False
    assert isinstance(error.__cause__, exc_type)
    assert error.details["option"] == "retry_on"
    assert error.details["error_type"] == "execution_error"
    assert error.details["attempts"] == 1
    assert "retry_on" in error.message


def test_a_raising_retry_on_in_a_child_process_run_fails_cleanly(urt: jido.Runtime) -> None:
    from actions import raise_value_error

    with Stopwatch() as sw, pytest.raises(jido.ConfigError) as info:
        urt.run(
            raise_value_error,
            isolation="process",
            timeout=30,
            retry_on=_broken_predicate(RuntimeError),
            backoff=0,
        )
    assert sw.elapsed < 30
    assert isinstance(info.value.__cause__, RuntimeError)


def test_a_retry_on_whose_result_cannot_be_judged_true_or_false(urt: jido.Runtime) -> None:
    class Undecided:
        def __bool__(self) -> bool:
            raise TypeError("neither")

    with pytest.raises(jido.ConfigError) as info:
        urt.run(sync_fails, timeout=1, retry_on=lambda error: Undecided(), backoff=0)
    assert isinstance(info.value.__cause__, TypeError)


# -- exceptions that cannot even be printed --------------------------------------------------------
class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


@jido.action
def raises_unprintable() -> dict[str, Any]:
    raise Unprintable()


@pytest.mark.parametrize("timeout", [0, 2])
def test_an_exception_whose_str_raises_gives_a_clean_execution_error(
    urt: jido.Runtime, timeout: float
) -> None:
    with pytest.raises(jido.ExecutionError) as info:
        urt.run(raises_unprintable, timeout=timeout, max_retries=0)
    assert "Unprintable" in info.value.message
    assert isinstance(info.value.__cause__, Unprintable)
