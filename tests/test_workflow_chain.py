"""Chains: sequencing, merging, per-step params, errors, interruption, handles, cancellation."""

from __future__ import annotations

import asyncio
import contextvars
import pickle
import threading
import time
from typing import Any

import pytest

import jido
import jido.testing
from jido.workflow import ChainInterrupted, Instruction, Plan, achain, chain, chain_async
from workflow_actions import (
    Add,
    Log,
    Multiply,
    Subtract,
    aslow,
    async_add,
    fail,
    merge,
    record,
    slow,
    wait_for,
)

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


@jido.action
def read_request_id() -> dict[str, Any]:
    return {"request_id": REQUEST_ID.get()}


class Counter:
    """An interrupt check that says "stop" on call number ``stop_at`` (1-based)."""

    def __init__(self, stop_at: int | None = None) -> None:
        self.calls = 0
        self.stop_at = stop_at

    def __call__(self) -> bool:
        self.calls += 1
        return self.stop_at is not None and self.calls >= self.stop_at


# -- sequencing ------------------------------------------------------------------------------------
def test_results_are_merged_into_the_next_steps_params() -> None:
    # (5 + 1) * 2 - 1
    assert chain([Add, Multiply, Subtract], {"value": 5}) == {"value": 11}


def test_step_params_override_and_persist_for_later_steps() -> None:
    log = Log()
    out = chain([Add, (Multiply, {"amount": 3}), Subtract], {"value": 5}, {"log": log})
    # 5 + 1 = 6; 6 * 3 = 18; the amount 3 persists: 18 - 3 = 15
    assert out == {"value": 15, "amount": 3}
    assert [p["amount"] for _, p in log.items] == [1, 3, 3]


def test_defaults_applied_by_a_step_do_not_flow_on() -> None:
    assert chain([Add], {"value": 1}) == {"value": 2}  # no "amount" from Add's default


def test_results_override_params_and_unknown_keys_are_kept() -> None:
    out = chain([Add, merge], {"value": 1, "note": "kept"})
    assert out["seen"] == {"value": 2, "note": "kept"}


def test_empty_chain_returns_the_initial_params_without_checking() -> None:
    check = Counter()
    assert chain([], {"value": 1}, interrupt_check=check) == {"value": 1}
    assert check.calls == 0


def test_every_instruction_form_is_accepted() -> None:
    steps = [
        Add,
        (Add, {"amount": 2}),
        (Add, {}, {"k": 1}),
        (Add, {}, {}, {"timeout": 1.0}),
        Instruction(Add, {"amount": 10}),
        async_add,
    ]
    assert chain(steps, {"value": 0})["value"] == 1 + 2 + 2 + 2 + 10 + 10


def test_shared_context_reaches_every_step_and_wins() -> None:
    log = Log()
    chain([(record, {}, {"who": "step"}), record], None, {"log": log, "who": "chain"})
    assert [item[2] for item in log.items] == [{"who": "chain"}, {"who": "chain"}]


def test_caller_context_variables_reach_the_steps() -> None:
    token = REQUEST_ID.set("req-42")
    try:
        assert chain([read_request_id])["request_id"] == "req-42"
    finally:
        REQUEST_ID.reset(token)


# -- errors ----------------------------------------------------------------------------------------
def test_first_error_stops_the_chain_and_says_which_step_failed() -> None:
    log = Log()
    with pytest.raises(jido.ExecutionError) as info:
        chain([Add, (fail, {"message": "card declined"}), record], {"value": 1}, {"log": log})
    error = info.value
    assert error.message == "Chain step 1 (fail) failed: card declined"
    assert error.details["step"] == 1
    assert error.details["step_action"] == "fail"
    assert error.details["completed_steps"] == 1
    assert log.names() == ["add"]  # record never ran


def test_the_step_error_keeps_its_type() -> None:
    with pytest.raises(jido.ValidationError) as info:
        chain([Add, (Multiply, {"value": "not a number"})], {"value": 1})
    assert info.value.details["step"] == 1
    assert info.value.details["field"] == "value"


def test_malformed_steps_fail_before_anything_runs() -> None:
    log = Log()
    with pytest.raises(jido.ValidationError) as info:
        chain([record, (Add, None), "nope"], None, {"log": log})
    assert info.value.details == {"index": 2, "form": "str"}
    assert log.items == []


@pytest.mark.parametrize("steps", [(Add, {"value": 1}), 42, "add", {"a": Add}])
def test_steps_must_be_a_list(steps: object) -> None:
    with pytest.raises(jido.ValidationError, match="chain steps must be a list"):
        chain(steps, {"value": 1})  # type: ignore[arg-type]


def test_bad_chain_options_are_config_errors() -> None:
    with pytest.raises(jido.ConfigError, match="unknown run option 'retries'"):
        chain([Add], {"value": 1}, retries=3)  # type: ignore[call-arg]
    with pytest.raises(jido.ConfigError, match="interrupt_check"):
        chain([Add], {"value": 1}, interrupt_check=True)  # type: ignore[arg-type]


# -- options ---------------------------------------------------------------------------------------
def test_chain_options_apply_to_every_step_and_a_steps_own_win() -> None:
    log = Log()
    started = time.monotonic()
    with pytest.raises(jido.TimeoutError) as info:
        chain(
            [(slow, {"seconds": 0.3, "label": "a"}, {}, {"timeout": 1.0}), (slow, {"label": "b"})],
            None,
            {"log": log},
            timeout=0.1,
            max_retries=0,
        )
    assert info.value.details["step"] == 1  # step 0 had its own, longer timeout
    assert ("stop", "b") in log.items
    assert time.monotonic() - started < 2.0


def test_retries_apply_per_step() -> None:
    attempts: list[int] = []

    @jido.action
    def flaky() -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("flaky")
        return {"ok": True}

    with jido.testing.no_backoff():
        assert chain([flaky], max_retries=2) == {"ok": True}
    assert len(attempts) == 3


# -- interruption ----------------------------------------------------------------------------------
def test_interrupt_check_runs_before_every_step_but_not_after_the_last() -> None:
    check = Counter()
    assert chain([Add, Add, Add], {"value": 0}, interrupt_check=check) == {"value": 3}
    assert check.calls == 3


def test_interrupted_chain_returns_the_params_so_far() -> None:
    log = Log()
    out = chain(
        [Add, (Add, {"amount": 5}), Multiply],
        {"value": 1},
        {"log": log},
        interrupt_check=Counter(3),
    )
    assert isinstance(out, ChainInterrupted)
    assert out == {"value": 7, "amount": 5}
    assert (out.index, out.action) == (2, "multiply")
    assert log.names() == ["add", "add"]


def test_interrupted_before_the_first_step() -> None:
    out = chain([Add], {"value": 1}, interrupt_check=lambda: True)
    assert isinstance(out, ChainInterrupted)
    assert (dict(out), out.index, out.action) == ({"value": 1}, 0, "add")


def test_an_async_interrupt_check_is_awaited() -> None:
    async def stop() -> bool:
        return True

    assert isinstance(chain([Add], {"value": 1}, interrupt_check=stop), ChainInterrupted)


def test_a_failing_interrupt_check_fails_the_chain() -> None:
    def broken() -> bool:
        raise RuntimeError("no idea")

    with pytest.raises(jido.ExecutionError, match="interrupt_check failed before step 0"):
        chain([Add], {"value": 1}, interrupt_check=broken)


def test_chain_interrupted_is_a_dict_that_pickles() -> None:
    out = ChainInterrupted({"value": 1}, index=2, action="add")
    assert repr(out) == "ChainInterrupted({'value': 1}, index=2, action='add')"
    back = pickle.loads(pickle.dumps(out))
    assert isinstance(back, ChainInterrupted)
    assert back == out
    assert back.index == 2


# -- asyncio and handles ---------------------------------------------------------------------------
def test_achain_runs_in_asyncio() -> None:
    assert asyncio.run(achain([Add, async_add, Multiply], {"value": 1})) == {"value": 6}


def test_achain_is_cancelled_with_its_task() -> None:
    log = Log()

    async def main() -> None:
        task = asyncio.create_task(achain([slow, record], None, {"log": log}))
        while not log.event("slow-started").is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert wait_for(log.event("slow-stopped").is_set)
    assert "record" not in log.names()


def test_chain_async_returns_an_async_ref() -> None:
    ref = chain_async([Add, Multiply], {"value": 1})
    assert isinstance(ref, jido.AsyncRef)
    assert jido.await_(ref) == {"value": 4}
    assert ref.result() == {"value": 4}


def test_chain_async_delivers_an_interrupted_outcome() -> None:
    out = jido.await_(chain_async([Add, Add], {"value": 1}, interrupt_check=Counter(2)))
    assert isinstance(out, ChainInterrupted)
    assert out.index == 1


@pytest.mark.parametrize("step", [slow, aslow])
def test_cancel_stops_the_running_step_and_runs_no_further_step(step: Any) -> None:
    log = Log()
    label = step.name
    ref = chain_async([Add, (step, {"label": label}), record], {"value": 1}, {"log": log})
    assert log.event(f"{label}-started").wait(3)
    started = time.monotonic()
    jido.cancel(ref)
    assert time.monotonic() - started < 1.0
    assert log.event(f"{label}-stopped").is_set()  # stopped by the time cancel returned
    with pytest.raises(jido.CancelledError) as info:
        ref.result()
    assert info.value.details["reason"] == "caller"
    time.sleep(0.1)
    assert "record" not in log.names()


def test_await_timeout_cancels_the_chain() -> None:
    log = Log()
    ref = chain_async([(slow, {"label": "s"}), record], None, {"log": log})
    with pytest.raises(jido.TimeoutError):
        jido.await_(ref, timeout=0.2)
    assert log.event("s-stopped").is_set()
    assert "record" not in log.names()


def test_chain_async_delivers_argument_errors_through_the_ref() -> None:
    ref = chain_async([Add, 42], {"value": 1})
    assert ref.done()
    assert isinstance(ref.exception(), jido.ValidationError)
    with pytest.raises(jido.ValidationError):
        jido.await_(ref)


def test_chain_async_awaited_in_asyncio() -> None:
    async def main() -> dict[str, Any]:
        return await chain_async([async_add, Add], {"value": 0})

    assert asyncio.run(main()) == {"value": 2}


def test_cancel_after_completion_keeps_the_result() -> None:
    ref = chain_async([Add], {"value": 1})
    assert jido.await_(ref) == {"value": 2}
    jido.cancel(ref)
    assert ref.result() == {"value": 2}


# -- nesting ---------------------------------------------------------------------------------------
def test_a_chain_inside_an_action_is_cancelled_with_it() -> None:
    log = Log()

    @jido.action
    def outer(context: dict[str, Any]) -> dict[str, Any]:
        return chain([slow, record], None, context)

    with pytest.raises(jido.TimeoutError):
        jido.run(outer, None, {"log": log}, timeout=0.2, max_retries=0)
    assert wait_for(log.event("slow-stopped").is_set)
    assert "record" not in log.names()


def test_chains_can_run_concurrently_from_threads() -> None:
    results: list[dict[str, Any]] = []

    def worker(i: int) -> None:
        results.append(chain([Add, Multiply], {"value": i}))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["value"] for r in results) == [(i + 1) * 2 for i in range(8)]


def test_chain_on_an_explicit_runtime() -> None:
    with jido.Runtime(name="chain-test") as runtime:
        assert chain([Add], {"value": 1}, runtime=runtime) == {"value": 2}
        assert jido.await_(chain_async([Add], {"value": 1}, runtime=runtime)) == {"value": 2}


# -- errors keep their cause -----------------------------------------------------------------------
@jido.action
def crash() -> dict[str, Any]:
    raise ValueError("kaboom")


def _run_chain(mode: str, steps: list[Any]) -> dict[str, Any]:
    if mode == "sync":
        return chain(steps, {"value": 1}, max_retries=0)
    if mode == "async":
        return asyncio.run(achain(steps, {"value": 1}, max_retries=0))
    return jido.await_(chain_async(steps, {"value": 1}, max_retries=0))


@pytest.mark.parametrize("mode", ["sync", "async", "handle"])
def test_chain_errors_keep_their_cause_and_pickle(mode: str) -> None:
    with pytest.raises(jido.ExecutionError) as info:
        _run_chain(mode, [Add, crash])
    error = info.value
    step_error = error.__cause__  # the step's own error, untouched
    assert isinstance(step_error, jido.ExecutionError)
    assert "step" not in step_error.details
    assert not step_error.message.startswith("Chain step")
    assert isinstance(step_error.__cause__, ValueError)
    back = pickle.loads(pickle.dumps(error))
    assert back.details["step"] == 1
    assert back.message == error.message
    assert isinstance(back.__cause__, jido.ExecutionError)
    assert isinstance(back.__cause__.__cause__, ValueError)


def test_a_jido_error_raised_by_a_step_pickles() -> None:
    with pytest.raises(jido.ExecutionError) as info:
        chain([fail])
    assert isinstance(info.value.__cause__, jido.ExecutionError)  # the step's error
    assert info.value.__cause__.__cause__ is None
    assert pickle.loads(pickle.dumps(info.value)).details["step_action"] == "fail"


def test_runtime_shutdown_cancels_running_chains_and_plans() -> None:
    log = Log()
    runtime = jido.Runtime(name="shutdown-test")
    chained = chain_async([(slow, {"label": "c"}), record], None, {"log": log}, runtime=runtime)
    planned = Plan(context={"log": log}).add("p", slow, {"label": "p"}).run_async(runtime=runtime)
    assert wait_for(lambda: log.event("c-started").is_set() and log.event("p-started").is_set())
    runtime.shutdown()
    for ref in (chained, planned):
        with pytest.raises(jido.CancelledError) as info:
            ref.result(timeout=2.0)
        assert info.value.details["reason"] == "shutdown"
    assert log.event("c-stopped").is_set()
    assert log.event("p-stopped").is_set()
    assert "record" not in log.names()


# -- the sync chain runs in the caller's thread ---------------------------------------------------
@jido.action
def where(context: dict[str, Any]) -> dict[str, Any]:
    run = jido.current()
    return {f"thread_{run.idempotency_key}": threading.get_ident()}


def test_a_sync_chain_runs_its_untimed_steps_in_the_callers_thread() -> None:
    out = chain([where, (where, {}, {}, {"timeout": 2.0})], None, timeout=0, run_id="c-1")
    assert out["thread_c-1/0"] == threading.get_ident()  # as jido.run(step, timeout=0)
    assert out["thread_c-1/1"] != threading.get_ident()  # a time limit: a worker thread


@pytest.mark.parametrize("timeout", [0, 5.0])
def test_shutdown_stops_a_sync_chain_and_its_running_step(timeout: float) -> None:
    log = Log()
    runtime = jido.Runtime(name="sync-chain-shutdown")
    errors: list[BaseException] = []
    seen: list[Any] = []

    @jido.action
    def watched(context: dict[str, Any]) -> dict[str, Any]:
        try:
            return slow(context)
        finally:
            seen.append(jido.current().cancel_reason)

    def caller() -> None:
        try:
            chain([watched, record], None, {"log": log}, runtime=runtime, timeout=timeout)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=caller)
    thread.start()
    assert log.event("slow-started").wait(3)
    assert runtime.stats()["in_flight"] >= 1  # the chain's own run is tracked
    started = time.monotonic()
    runtime.shutdown()
    thread.join(3)
    assert time.monotonic() - started < 2.0
    assert len(errors) == 1
    assert isinstance(errors[0], jido.CancelledError)
    assert errors[0].details["reason"] == "shutdown"
    assert seen
    assert seen[0] is not None
    assert seen[0].value in ("parent", "shutdown")
    assert "record" not in log.names()


def test_an_async_interrupt_check_of_a_sync_chain_sees_the_chains_run() -> None:
    seen: list[str] = []

    async def check() -> bool:
        seen.append(jido.current().action)
        return False

    assert chain([Add, Add], {"value": 0}, interrupt_check=check) == {"value": 2}
    assert seen == ["chain", "chain"]  # before each step


def test_shutdown_stops_a_sync_chain_waiting_on_its_async_interrupt_check() -> None:
    runtime = jido.Runtime(name="sync-chain-check")
    started = threading.Event()
    errors: list[BaseException] = []

    async def check() -> bool:
        started.set()
        await asyncio.sleep(10)
        return False

    def caller() -> None:
        try:
            chain([Add, Add], {"value": 0}, interrupt_check=check, runtime=runtime)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=caller)
    thread.start()
    assert started.wait(3)
    begun = time.monotonic()
    runtime.shutdown()
    thread.join(3)
    assert time.monotonic() - begun < 2.0
    assert len(errors) == 1
    assert isinstance(errors[0], jido.CancelledError)
    assert errors[0].details["reason"] == "shutdown"
