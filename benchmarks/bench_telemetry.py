"""Overhead of jido's telemetry path on the fastest run: ``jido.run(SyncAction, p, timeout=0)``.

Usage::

    .venv/bin/python benchmarks/bench_telemetry.py            # 3 fresh-process runs
    .venv/bin/python benchmarks/bench_telemetry.py --quick    # 1 run, fewer rounds
    .venv/bin/python benchmarks/bench_telemetry.py --json out.json

What is compared (issue 3, "Performance"): the core ``run`` path with telemetry off for
the call (``telemetry="silent"``: the true zero, the tracker is never built) against

- (a) nothing attached and no OpenTelemetry SDK configured (``telemetry="full"``, the
  default) -- in a process that never imported OpenTelemetry (a1), and in one where the
  application imported ``opentelemetry`` but set no provider (a2). Target: <= 0.5 us added.
- (b) one no-op handler attached with ``jido.telemetry.attach``.
- (c) ``jido.telemetry.instrument()`` with an SDK ``TracerProvider`` +
  ``SimpleSpanProcessor`` and a no-op exporter (meters: the API's no-op default), and
  (c2) the same plus an SDK ``MeterProvider`` with an in-memory reader.

Method: each section runs in a fresh worker process. Within it, the variants are
interleaved: every round times each variant once (a timeit loop of about ``--target``
seconds, gc disabled, net of the empty loop). A variant's figure is the median over the
rounds; "added" is the median over rounds of (variant - silent) in the same round, which
cancels most of the drift of a shared machine; "ratio" divides the variant's median by
the silent median measured in the same process. The "min" columns (best round, and best
minus best silent) are the least disturbed figures on a busy machine. With ``--runs`` > 1
every figure is the median over the fresh-process runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _harness as h
import jido
import jido.telemetry

HERE = Path(__file__).resolve()
TARGET_ADDED_US = 0.5

P: dict[str, Any] = {"a": 1, "b": "x", "c": 2.5}


class SyncAction(jido.Action):
    """The trivial sync action with the 3-field schema of bench_core."""

    schema = h.Params

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"a": params["a"], "b": params["b"]}


def noop_handler(event: Any) -> None:
    return None


# -- variants -------------------------------------------------------------------------------------
# name -> (label, statement, setup, teardown)
Variant = tuple[str, str, Callable[[], None], Callable[[], None]]


def _nothing() -> None:
    return None


_HANDLER_REF: list[Any] = []


def _attach() -> None:
    _HANDLER_REF.append(jido.telemetry.attach(noop_handler))


def _detach() -> None:
    jido.telemetry.detach(_HANDLER_REF.pop())


def _otel_providers(with_meter: bool) -> tuple[Any, Any]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        SimpleSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class NoopExporter(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

        def shutdown(self) -> None:
            return None

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(NoopExporter()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()]) if with_meter else None
    return tracer_provider, meter_provider


_PROVIDERS: dict[str, tuple[Any, Any]] = {}


def _instrument(key: str) -> Callable[[], None]:
    def setup() -> None:
        tracer_provider, meter_provider = _PROVIDERS[key]
        jido.telemetry.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)

    return setup


def _uninstrument() -> None:
    from jido._observe.otel import reset_auto

    jido.telemetry.uninstrument()
    reset_auto()  # back to the default (follow a global provider), so "full" stays comparable


RUN_SILENT = "run(SyncAction, p, timeout=0, telemetry='silent')"
RUN_FULL = "run(SyncAction, p, timeout=0, telemetry='full')"

SECTIONS: dict[str, dict[str, Variant]] = {
    # OpenTelemetry never imported in this process
    "plain": {
        "silent": ("core path: telemetry='silent' (the true zero)", RUN_SILENT, _nothing, _nothing),
        "a1": ("(a1) nothing attached, OpenTelemetry not imported", RUN_FULL, _nothing, _nothing),
        "a1_default": (
            "(a1) same, telemetry option omitted: run(SyncAction, p, timeout=0)",
            "run(SyncAction, p, timeout=0)",
            _nothing,
            _nothing,
        ),
        "b": ("(b) one no-op handler attached", RUN_FULL, _attach, _detach),
    },
    # the application imported opentelemetry (API + SDK) but configured no provider
    "otel": {
        "silent": ("core path: telemetry='silent' (the true zero)", RUN_SILENT, _nothing, _nothing),
        "a2": (
            "(a2) nothing attached, OpenTelemetry imported, no provider",
            RUN_FULL,
            _nothing,
            _nothing,
        ),
        "b2": (
            "(b) one no-op handler (OpenTelemetry imported, no provider)",
            RUN_FULL,
            _attach,
            _detach,
        ),
        "c": (
            "(c) instrument(): SDK TracerProvider + SimpleSpanProcessor, no-op exporter",
            RUN_FULL,
            _instrument("trace"),
            _uninstrument,
        ),
        "c2": (
            "(c2) same + SDK MeterProvider (in-memory reader)",
            RUN_FULL,
            _instrument("trace+metrics"),
            _uninstrument,
        ),
    },
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def worker(section: str, cfg: dict[str, Any]) -> dict[str, Any]:
    if section == "otel":
        import opentelemetry.trace  # noqa: F401  (the application imported it)

        _PROVIDERS["trace"] = _otel_providers(with_meter=False)
        _PROVIDERS["trace+metrics"] = _otel_providers(with_meter=True)
    else:
        assert "opentelemetry.trace" not in sys.modules, "the plain section must not import OTel"
    variants = SECTIONS[section]
    ns: dict[str, Any] = {"run": jido.run, "SyncAction": SyncAction, "p": P}
    empty_us = min(timeit.Timer("pass").repeat(5, 1_000_000)) / 1_000_000 * 1e6

    loops: dict[str, int] = {}
    fns: dict[str, h.FnOfN] = {}
    for key, (_, stmt, setup, teardown) in variants.items():
        fns[key] = timeit.Timer(stmt, globals=ns).timeit
        setup()
        try:
            loops[key] = h.calibrate(fns[key], cfg["target"])  # also warms up
        finally:
            teardown()

    samples: dict[str, list[float]] = {key: [] for key in variants}
    for _ in range(cfg["rounds"]):
        for key, (_, _, setup, teardown) in variants.items():
            setup()
            try:
                gc.collect()
                elapsed = fns[key](loops[key])
            finally:
                teardown()
            samples[key].append(elapsed / loops[key] * 1e6 - empty_us)
    return {"samples": samples}


# -- driver ---------------------------------------------------------------------------------------
def run_worker(section: str, cfg: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(HERE), "--worker", section, "--cfg", json.dumps(cfg)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {section} failed:\n{proc.stderr}")
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


STATS = ("median_us", "added_us", "ratio", "min_us", "added_min_us")


def summarize(samples: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    silent = samples["silent"]
    out = {}
    for key, values in samples.items():
        med = statistics.median(values)
        added = statistics.median(v - s for v, s in zip(values, silent, strict=True))
        out[key] = {
            "median_us": med,
            "added_us": added,
            "ratio": med / statistics.median(silent),
            "min_us": min(values),
            "added_min_us": min(values) - min(silent),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 run, fewer rounds")
    parser.add_argument("--runs", type=int, help="fresh-process runs per section (default 3)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per run (default 61)")
    parser.add_argument("--target", type=float, default=0.02, help="seconds per timing loop")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--cfg", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(worker(args.worker, json.loads(args.cfg))))
        return

    runs = args.runs or (1 if args.quick else 3)
    cfg = {"rounds": args.rounds or (15 if args.quick else 61), "target": args.target}
    env = h.environment()
    log(
        f"python {env['python']} on {env['cpu']} ({env['cpus']} cpus), jido source "
        f"{env['jido_source_sha1']}{' (dirty)' if env['src_dirty'] else ''}; "
        f"{runs} run(s) x {cfg['rounds']} rounds x ~{cfg['target']}s"
    )

    results: dict[str, dict[str, dict[str, float]]] = {}
    for section, variants in SECTIONS.items():
        per_run = []
        for i in range(runs):
            log(f"  section {section}, run {i + 1}/{runs} ...")
            per_run.append(summarize(run_worker(section, cfg)["samples"]))
        results[section] = {
            key: {stat: statistics.median(r[key][stat] for r in per_run) for stat in STATS}
            for key in variants
        }

    print(
        f"| {'variant':<76} | {'us/run':>7} | {'added us':>8} | {'ratio':>6} "
        f"| {'min us':>7} | {'added (min)':>11} |"
    )
    print(f"|{'-' * 78}|{'-' * 8}:|{'-' * 9}:|{'-' * 7}:|{'-' * 8}:|{'-' * 12}:|")
    for section, rows in results.items():
        for key, row in rows.items():
            label = SECTIONS[section][key][0]
            if key == "silent":
                label = f"{label} [{section}]"
            print(
                f"| {label:<76} | {row['median_us']:7.3f} | {row['added_us']:+8.3f} "
                f"| {row['ratio']:6.3f} | {row['min_us']:7.3f} | {row['added_min_us']:+11.3f} |"
            )
    worst = max(results["plain"]["a1"]["added_us"], results["otel"]["a2"]["added_us"])
    verdict = "meets" if worst <= TARGET_ADDED_US else "MISSES"
    print(
        f"\nTarget (nothing attached, no SDK configured): <= {TARGET_ADDED_US} us added per run; "
        f"measured a1 {results['plain']['a1']['added_us']:+.3f} us, "
        f"a2 {results['otel']['a2']['added_us']:+.3f} us: {verdict} the target."
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"environment": env, "results": results}, indent=2))


if __name__ == "__main__":
    main()
