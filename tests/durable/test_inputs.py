"""Bad input to a durable run is a clear error, and nothing is recorded.

Unreferenceable actions (a lambda, a local function or class), params, options or
context that cannot be stored, bad run ids and settings, a corrupt store, a store
written by a newer jido, and results that cannot be stored.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import jido
import jido.telemetry
from durable import durable_actions as da
from durable.durable_helpers import sql
from jido.workflow import Plan, chain, chain_async


class LocalError(Exception):
    pass


def _nothing_recorded(rt: jido.Runtime) -> None:
    assert rt.runs.list().items == (), "something was recorded"


def _local_function() -> Any:
    @jido.action
    def local(log: str) -> dict[str, Any]:
        return {}

    return local


def _local_class() -> Any:
    class Local(jido.Action):
        name = "local"

        def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
            return {}

    return Local


UNREFERENCEABLE: dict[str, Callable[[], Any]] = {
    "lambda": lambda: jido.action(name="anonymous")(lambda log: {}),
    "local function": _local_function,
    "local class": _local_class,
}


@pytest.mark.parametrize("kind", sorted(UNREFERENCEABLE))
def test_an_unreferenceable_action_is_refused_before_anything_is_recorded(
    drt: jido.Runtime, log: str, kind: str
) -> None:
    action = UNREFERENCEABLE[kind]()
    with pytest.raises(jido.ValidationError, match="module level"):
        drt.run(action, {"log": log}, run_id="r1")
    with pytest.raises(jido.ValidationError, match="module level"):
        drt.run_async(action, {"log": log}).result(timeout=10)
    with pytest.raises(jido.ValidationError, match="module level"):
        asyncio.run(drt.arun(action, {"log": log}))
    with pytest.raises(jido.ValidationError, match="module level"):
        chain([da.step, action], {"value": 0, "log": log}, runtime=drt, run_id="c1")
    with pytest.raises(jido.ValidationError, match="module level"):
        chain_async([action], {"log": log}, runtime=drt).result(timeout=10)
    with pytest.raises(jido.ValidationError, match="module level"):
        Plan().add("x", action).run({"log": log}, runtime=drt, run_id="p1")
    _nothing_recorded(drt)
    assert da.executions(log) == []


BAD_VALUES = {
    "datetime": (datetime(2024, 1, 1), "datetime"),
    "set": ({1, 2}, "set"),
    "bytes": (b"x", "bytes"),
    "nan": (float("nan"), "nan"),
    "int key": ({1: "a"}, "key"),
    "live object": (da.LiveClient("db"), "LiveClient"),
}


@pytest.mark.parametrize("kind", sorted(BAD_VALUES))
def test_params_that_cannot_be_stored_are_refused(drt: jido.Runtime, log: str, kind: str) -> None:
    value, named = BAD_VALUES[kind]
    with pytest.raises(jido.ValidationError, match=named) as err:
        drt.run(da.anything, {"log": log, "data": value}, run_id="r1")
    assert err.value.details["path"].startswith("params['data']")
    with pytest.raises(jido.ValidationError, match=named):
        chain([da.anything], {"log": log, "data": value}, runtime=drt, run_id="c1")
    with pytest.raises(jido.ValidationError, match=named):
        chain([(da.anything, {"data": value})], {"log": log}, runtime=drt, run_id="c2")
    with pytest.raises(jido.ValidationError, match=named):
        Plan().add("x", da.anything, {"data": value}).run({"log": log}, runtime=drt, run_id="p")
    _nothing_recorded(drt)
    assert da.executions(log) == []


def test_live_context_passed_per_call_is_refused_with_the_way_to_provide_it(
    drt: jido.Runtime, log: str
) -> None:
    live = {"db": da.LiveClient("db")}
    for start in (
        lambda: drt.run(da.context_probe, {"log": log}, live, run_id="r1"),
        lambda: drt.run_async(da.context_probe, {"log": log}, live).result(timeout=10),
        lambda: chain([da.context_probe], {"log": log}, live, runtime=drt, run_id="c1"),
        lambda: Plan().add("x", da.context_probe, context=live).run({"log": log}, runtime=drt),
    ):
        with pytest.raises(jido.ValidationError, match=r"Runtime\(store=\.\.\., context=") as err:
            start()
        assert "context['db']" in err.value.message
    with pytest.raises(jido.ValidationError, match="context keys"):
        drt.run(da.context_probe, {"log": log}, {1: "x"}, run_id="r2")
    _nothing_recorded(drt)


def test_a_refused_start_leaves_no_run_open_in_telemetry(drt: jido.Runtime, log: str) -> None:
    seen: list[str] = []
    with jido.telemetry.attached(lambda e: seen.append(e.name), events=["run."]):
        with pytest.raises(jido.ValidationError):
            drt.run(da.context_probe, {"log": log}, {"db": da.LiveClient("db")}, run_id="r")
        with pytest.raises(jido.ValidationError):
            drt.run(da.anything, {"log": log, "data": {1, 2}}, run_id="r")
    assert seen.count("run.start") == seen.count("run.stop")


def test_options_that_cannot_be_stored_are_refused(drt: jido.Runtime, log: str) -> None:
    class Local(Exception):
        pass

    with pytest.raises(jido.ValidationError, match="retry_on"):
        drt.run(da.step, {"value": 0, "log": log}, run_id="r1", retry_on=Local)
    with pytest.raises(jido.ValidationError, match="retry_on"):
        drt.run(da.step, {"value": 0, "log": log}, retry_on=lambda e: True)
    with pytest.raises(jido.ValidationError, match="retry_on"):
        chain([da.step], {"value": 0, "log": log}, runtime=drt, retry_on=Local)
    with pytest.raises(jido.ValidationError, match="interrupt_check"):
        chain([da.step], {"value": 0, "log": log}, runtime=drt, interrupt_check=lambda: False)
    _nothing_recorded(drt)


def test_module_level_retry_on_is_stored_and_used(drt: jido.Runtime, log: str) -> None:
    with jido.testing.no_backoff():
        out = drt.run(da.flaky, {"log": log}, run_id="r1", retry_on=jido.ExecutionError)
    assert out == {"attempt": 2}


def test_invalid_params_are_refused_before_anything_is_recorded(
    drt: jido.Runtime, log: str
) -> None:
    with pytest.raises(jido.ValidationError):
        drt.run(da.step, {"value": "not a number", "log": log}, run_id="r1")
    with pytest.raises(jido.ValidationError):
        drt.run(da.step, {"log": log}, run_id="r2")
    _nothing_recorded(drt)


@pytest.mark.parametrize("run_id", ["", "x" * 256, 42])
def test_bad_run_ids_are_refused(drt: jido.Runtime, log: str, run_id: Any) -> None:
    with pytest.raises(jido.ConfigError, match="run_id"):
        drt.run(da.step, {"value": 0, "log": log}, run_id=run_id)
    with pytest.raises(jido.ConfigError, match="run_id"):
        chain([da.step], {"value": 0, "log": log}, runtime=drt, run_id=run_id)
    _nothing_recorded(drt)


def test_a_result_that_cannot_be_stored_fails_the_run(drt: jido.Runtime, log: str) -> None:
    with pytest.raises(jido.ExecutionError, match="could not be recorded") as err:
        drt.run(da.dated, {"log": log}, run_id="single", max_retries=3)
    assert err.value.retryable is False
    assert "result['when']" in err.value.message
    with pytest.raises(jido.ExecutionError, match="could not be recorded"):
        chain([da.dated, da.keyed], {"log": log}, runtime=drt, run_id="chained", max_retries=3)
    with pytest.raises(jido.ExecutionError, match="could not be recorded"):
        Plan().add("d", da.dated).run({"log": log}, runtime=drt, run_id="planned")
    for run_id in ("single", "chained", "planned"):
        info = drt.runs.get(run_id)
        assert info is not None
        assert info.status == "failed", run_id
        assert info.error is not None
        assert "could not be recorded" in info.error["message"]
        with pytest.raises(jido.ExecutionError, match="could not be recorded"):
            drt.runs.wait(run_id)
    assert [e["key"] for e in da.executions(log)] == ["single", "chained/0", "planned/d"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"store": "mysql://localhost/db"},
        {"store": 42},
        {"store": "sqlite:///x.db", "lease": 0.1},
        {"store": "sqlite:///x.db", "lease": float("inf")},
        {"store": "sqlite:///x.db", "durability": "disk"},
    ],
)
def test_bad_store_settings_are_refused(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    if isinstance(kwargs["store"], str) and kwargs["store"].startswith("sqlite"):
        kwargs = {**kwargs, "store": f"sqlite:///{tmp_path / 'x.db'}"}
    with pytest.raises(jido.ConfigError):
        jido.Runtime(**kwargs)
    assert not (tmp_path / "x.db").exists()


def test_a_corrupt_store_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    garbage = b"this is not a database" * 200
    path.write_bytes(garbage)
    with pytest.raises(jido.ConfigError, match="not a jido store or is damaged"):
        jido.Runtime(store=f"sqlite:///{path}")
    assert path.read_bytes() == garbage


def test_a_database_of_another_application_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(jido.ConfigError, match="not a jido store"):
        jido.Runtime(store=f"sqlite:///{path}")
    db = sqlite3.connect(path)
    assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["users"]
    db.close()


def test_a_store_written_by_a_newer_jido_is_refused(store_url: str, log: str) -> None:
    with jido.Runtime(store=store_url) as rt:
        rt.run(da.step, {"value": 0, "log": log}, run_id="kept")
    sql(store_url, "UPDATE jido_meta SET value = '99' WHERE key = 'schema_version'")
    sql(store_url, "UPDATE jido_meta SET value = '9.0.0' WHERE key = 'jido_version'")
    with pytest.raises(jido.ConfigError, match=r"schema version 99 \(written by jido 9\.0\.0\)"):
        jido.Runtime(store=store_url)
    assert sql(store_url, "SELECT value FROM jido_meta WHERE key = 'schema_version'") == [("99",)]
    assert sql(store_url, "SELECT run_id, status FROM jido_runs") == [("kept", "succeeded")]


def test_recorded_errors_mask_secrets_as_telemetry_does(drt: jido.Runtime, log: str) -> None:
    with pytest.raises(jido.ExecutionError) as raised:
        drt.run(da.leaky, {"log": log}, run_id="leaky")
    assert "hunter2" in raised.value.message  # the caller gets its error as it was
    with pytest.raises(jido.ExecutionError):
        Plan().add("x", da.leaky).run({"log": log}, runtime=drt, run_id="leaky-plan")
    result = (
        Plan()
        .add("x", da.leaky)
        .run({"log": log}, runtime=drt, run_id="leaky-plan-2", fail_fast=False)
    )
    again = (
        Plan()
        .add("x", da.leaky)
        .run({"log": log}, runtime=drt, run_id="leaky-plan-2", fail_fast=False)
    )
    for run_id in ("leaky", "leaky-plan"):
        info = drt.runs.get(run_id)
        assert info is not None
        assert info.error is not None
        text = repr(info.error)
        for secret in ("hunter2", "abc.def.ghi", "sk-123", "xyz"):
            assert secret not in text, (run_id, text)
        assert "[REDACTED]" in info.error["message"]
    with pytest.raises(jido.ExecutionError) as recorded:
        drt.runs.wait("leaky")
    assert "hunter2" not in recorded.value.message
    assert recorded.value.details["user"] == "ada"
    assert "hunter2" in result.errors["x"].message
    assert "hunter2" not in again.errors["x"].message
    info = drt.runs.get("leaky-plan-2")
    assert info is not None
    assert "hunter2" not in repr(info.result)
    history = drt._durable.store.get_history("leaky")
    assert history is not None
    assert all("hunter2" not in repr(a.error) for a in history.attempts)
