"""How a runtime gets its store (``store=``, ``jido.configure``, ``JIDO_STORE``), the
runtime's context reaching resumed runs, durability, and telemetry of the journal.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import jido
import jido.telemetry
from durable import durable_actions as da
from durable.durable_helpers import LEASE, store_of, wait_for
from jido._core.options import UNSET
from jido._observe.otel import reset_auto
from jido._runtime.config import SETTINGS
from jido._runtime.default import retire_default
from jido.workflow import Plan, chain, chain_async


@pytest.fixture
def default_store() -> Iterator[None]:
    """Put the default runtime's store setting back (unset) after the test."""
    yield
    SETTINGS.store = UNSET
    retire_default()
    jido.shutdown()


def test_jido_store_environment_variable(
    store_url: str, log: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIDO_STORE", store_url)
    with jido.Runtime() as rt:
        rt.run(da.step, {"value": 0, "log": log}, run_id="from-env")
        info = rt.runs.get("from-env")
        assert info is not None
        assert info.status == "succeeded"
    with jido.Runtime(store=None) as rt, pytest.raises(jido.ConfigError, match="no store"):
        rt.runs.get("from-env")


def test_configure_store_gives_the_default_runtime_a_store(
    store_url: str, log: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, default_store: None
) -> None:
    monkeypatch.setenv("JIDO_STORE", f"sqlite:///{tmp_path / 'env.db'}")  # configure wins
    jido.configure(store=store_url)
    assert jido.chain([da.step], {"value": 0, "log": log}, run_id="configured") == {
        "value": 1,
        "log": log,
    }
    plan = Plan().add("a", da.branch)
    assert plan.run({"log": log}, run_id="configured-plan")["a"]["m_a"] is True
    out = jido.run(da.step, {"value": 5, "log": log})
    assert out == {"value": 6}
    rt = jido.default_runtime()
    assert rt.runs.get("configured") is not None
    assert rt.runs.get("configured-plan") is not None
    assert len(rt.runs.list(action="step").items) == 1
    assert len(rt.runs.list(action="chain").items) == 1
    with jido.Runtime(store=store_url) as other:
        info = other.runs.get("configured")
        assert info is not None
        assert info.status == "succeeded"
    jido.configure(store=None)
    assert jido.default_runtime() is not rt
    with pytest.raises(jido.ConfigError, match="no store"):
        jido.default_runtime().runs.get("configured")
    with pytest.raises(jido.ConfigError):
        jido.configure(store=42)  # type: ignore[arg-type]


@pytest.mark.parametrize("provide", ["mapping", "factory"])
def test_runtime_context_reaches_runs_and_resumed_runs(
    store_url: str, log: str, provide: str
) -> None:
    steps = [da.context_probe, (da.hang_once, {"seconds": 1.0}), da.context_probe]
    with jido.Runtime(
        store=store_url, lease=LEASE, context={"client": da.LiveClient("first")}
    ) as first:
        out = first.run(da.context_probe, {"log": log}, {"tenant": "acme"}, run_id="direct")
        assert out == {"client": "LiveClient", "tenant": "acme"}
        chain_async(steps, {"log": log}, {"tenant": "acme"}, runtime=first, run_id="resumed")
        wait_for(lambda: len(da.executions(log)) == 3, "the second step started")
    made: list[da.LiveClient] = []

    def factory() -> dict[str, Any]:
        made.append(da.LiveClient("second"))
        return {"client": made[-1], "tenant": "overridden by the stored value"}

    context: Any = factory if provide == "factory" else factory()
    with jido.Runtime(store=store_url, lease=LEASE, context=context) as second:
        (ref,) = second.recover()
        out = ref.result(timeout=30)
    assert out["client"] == "LiveClient", "the resumed run did not get the live value"
    assert out["tenant"] == "acme", "the stored per-call context did not win"
    if provide == "factory":
        assert len(made) >= 2, "the factory is called per run"


def test_a_failing_context_factory_is_a_clear_error(store_url: str, log: str) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("no database")

    with jido.Runtime(store=store_url, context=broken) as rt:
        with pytest.raises(jido.ConfigError, match="context factory failed"):
            rt.run(da.step, {"value": 0, "log": log}, run_id="x")
        assert rt.runs.list().items == ()


@pytest.mark.parametrize("durability", ["process", "power"])
def test_durability(store_url: str, log: str, durability: str) -> None:
    with jido.Runtime(store=store_url, durability=durability) as rt:
        assert chain([da.step, da.step], {"value": 0, "log": log}, runtime=rt, run_id="d") == {
            "value": 2,
            "log": log,
        }
        store = store_of(rt)
        assert store.durability == durability
        if store_url.startswith("sqlite"):
            db: sqlite3.Connection = store._db
            assert db.execute("PRAGMA synchronous").fetchone()[0] == (
                2 if durability == "power" else 1
            )
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        else:
            with store._conn() as conn:
                setting = conn.execute("SHOW synchronous_commit").fetchone()[0]
            assert setting == ("on" if durability == "power" else "off")
    with jido.Runtime(store=store_url) as rt:
        info = rt.runs.get("d")
        assert info is not None
        assert info.status == "succeeded"


def test_journal_checkpoint_events(drt: jido.Runtime, log: str) -> None:
    seen: list[jido.telemetry.Event] = []
    with jido.telemetry.attached(seen.append, events=["journal."]):
        drt.run(da.step, {"value": 0, "log": log}, run_id="single")
        with jido.testing.no_backoff():
            chain([da.step, da.flaky], {"value": 0, "log": log}, runtime=drt, run_id="chain")
    by_run: dict[str, list[tuple[str, str]]] = {}
    for event in seen:
        assert event.name == "journal.checkpoint"
        by_run.setdefault(event.run_id, []).append((event.metadata["op"], event.metadata["step"]))
    assert by_run.pop("single") == [("attempt_started", ""), ("run_succeeded", "")]
    assert sorted(op for ops in by_run.values() for op in ops) == sorted(
        [
            ("attempt_started", "0"),
            ("step_succeeded", "0"),
            ("attempt_started", "1"),
            ("attempt_failed", "1"),
            ("attempt_started", "1"),
            ("step_succeeded", "1"),
        ]
    )


@pytest.mark.parametrize("kind", ["action", "chain", "plan"])
def test_resumed_runs_say_they_were_recovered(store_url: str, log: str, kind: str) -> None:
    with jido.Runtime(store=store_url, lease=LEASE) as first:
        params = {"log": log, "seconds": 1.0}
        if kind == "action":
            first.run_async(da.hang_once, params, run_id="r", timeout=None)
        elif kind == "chain":
            chain_async([da.hang_once], params, runtime=first, run_id="r")
        else:
            Plan().add("h", da.hang_once).run_async(params, runtime=first, run_id="r")
        wait_for(lambda: len(da.executions(log)) == 1, "the step started")
    seen: list[jido.telemetry.Event] = []
    with (
        jido.telemetry.attached(seen.append, events=["run.start"]),
        jido.Runtime(store=store_url, lease=LEASE) as second,
    ):
        (ref,) = second.recover()
        ref.result(timeout=30)
    recovered = [e for e in seen if e.metadata.get("recovered")]
    assert recovered, [(e.action, dict(e.metadata)) for e in seen]
    assert any(e.run_id == "r" for e in recovered)


def test_otel_checkpoint_span_events(
    drt: jido.Runtime, log: str, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    jido.telemetry.instrument(tracer_provider=provider)
    try:
        drt.run(da.step, {"value": 0, "log": log}, run_id="traced")
        with pytest.raises(jido.ExecutionError):
            drt.run(da.broken, {"log": log}, run_id="failing")
    finally:
        jido.telemetry.uninstrument()
        reset_auto()
        provider.shutdown()
    ops: dict[str, list[str]] = {}
    for span in exporter.get_finished_spans():
        for ev in span.events:
            if ev.name == "jido.checkpoint":
                attrs = dict(ev.attributes or {})
                assert attrs["jido.step"] == ""
                ops.setdefault(str(span.name), []).append(str(attrs["jido.op"]))
    assert ops == {
        "jido.attempt step": ["attempt_started", "run_succeeded"],
        "jido.attempt broken": ["attempt_started"],
        "jido.run broken": ["attempt_failed", "run_failed"],
    }
    assert "ended span" not in caplog.text
