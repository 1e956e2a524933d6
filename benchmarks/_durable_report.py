"""The Markdown report of ``bench_durable.py`` (from its raw results, so ``--report`` reprints)."""

from __future__ import annotations

import statistics
from typing import Any

US = 1e6


def _f(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}x" if value >= 10 else f"{value:.2f}x"


def per_step(j: dict[str, Any]) -> dict[str, float]:
    """Per-step figures of one jido chain measurement, in microseconds."""
    n = j["steps"]
    return {
        "plain": j["pn_wall"] / n * US,
        "durable": j["dn_wall"] / n * US,
        "added": (j["dn_wall"] - j["pn_wall"]) / n * US,
        "added_cpu": (j["dn_cpu"] - j["pn_cpu"]) / n * US,
        "marginal": ((j["dn_wall"] - j["d1_wall"]) - (j["pn_wall"] - j["p1_wall"])) / (n - 1) * US,
        "per_run": (j["d1_wall"] - j["p1_wall"]) * US,
    }


def dbos_step(d: dict[str, Any]) -> float:
    """DBOS's cost per step: (N-step workflow - empty workflow) / N, microseconds."""
    return float((d["n_wall"] - d["zero_wall"]) / d["n"] * US)


_FLOOR_OF = {
    "sqlite_process": "sqlite_normal",
    "sqlite_power": "sqlite_full",
    "postgres_process": "postgres_sync_off",
    "postgres_power": "postgres_sync_on",
}


def render(r: dict[str, Any], core_rows: dict[str, str]) -> str:
    out: list[str] = []
    env, cfg = r["env"], r["config"]
    out.append(f"# jido durable runs benchmark ({'quick' if cfg['quick'] else 'full'})\n")
    out.append(
        f"{env['date']} | Python {env['python']} | {env['cpu']} x{env['cpus']} | jido from "
        f"{env['jido_source']} (repo HEAD {env['repo_commit']}"
        f"{', src modified' if env['src_dirty'] else ''}) | load average at start "
        f"{env['loadavg'][0]}, at end {r.get('loadavg_end', ['?'])[0]} | "
        f"{cfg['steps']} steps per chain, {cfg['reps']} repetitions | wall time "
        f"{r.get('wall_s', 0):.0f} s\n"
    )
    out += _floors(r["floors"])
    out += _journal(r["jido"], r["floors"])
    if "dbos" in r:
        out += _dbos(r["jido"], r["dbos"])
    out += _recovery(r["recovery"])
    out += _listing(r["listing"], cfg["runs"])
    if "core" in r:
        out += _core(r["core"], core_rows)
    out += _targets(r)
    return "\n".join(out)


def _floors(f: dict[str, float]) -> list[str]:
    names = {
        "sqlite_normal": 'SQLite WAL, synchronous=NORMAL (jido `durability="process"`)',
        "sqlite_full": 'SQLite WAL, synchronous=FULL (jido `durability="power"`)',
        "sqlite_dbos_mode": "SQLite rollback journal, synchronous=FULL (DBOS's mode)",
        "postgres_sync_off": 'Postgres, synchronous_commit=off (jido `"process"`)',
        "postgres_sync_on": 'Postgres, synchronous_commit=on (jido `"power"`, DBOS)',
    }
    out = ["## Floors: one 200-byte INSERT + COMMIT (p50)\n", "| floor | us |", "|---|---:|"]
    out += [f"| {names[k]} | {_f(v)} |" for k, v in f.items()]
    return [*out, ""]


def _journal(j: dict[str, Any], floors: dict[str, float]) -> list[str]:
    out = [
        "## jido: what a store adds per step (chain of N no-op steps with a store minus without)\n",
        "| store, durability | step without store | step with store | **added per step** "
        "| added CPU | marginal step | per run (start + finish) | added / floor commit "
        "| round trips per step |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, m in j.items():
        s = per_step(m)
        floor = floors.get(_FLOOR_OF[key])
        tx = m.get("round_trips_per_step")
        out.append(
            f"| {key.replace('_', ', ')} | {_f(s['plain'])} | {_f(s['durable'])} | "
            f"**{_f(s['added'])}** | {_f(s['added_cpu'])} | {_f(s['marginal'])} | "
            f"{_f(s['per_run'])} | {_x(s['added'] / floor) if floor else '-'} | "
            f"{'-' if tx is None else f'{tx:.2f}'} |"
        )
    out.append(
        "\nMicroseconds, medians. *added* = (T_store(N) - T_none(N)) / N; *marginal* = the "
        "same from the slope between 1 and N steps (the per-run costs removed); *per run* = "
        "T_store(1) - T_none(1): recording the run and its outcome. CPU counts every thread "
        "of the process (not the Postgres server's)."
    )
    return [*out, ""]


def _dbos(j: dict[str, Any], d: dict[str, Any]) -> list[str]:
    out = [
        "## Side by side with DBOS (same machine, same run)\n",
        "| store | DBOS per step | DBOS empty workflow | jido, durability | jido added per step "
        "| jido step all-in | DBOS / jido added | DBOS / jido all-in |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for backend, dres in d.items():
        dstep = dbos_step(dres)
        for durability in ("process", "power"):
            key = f"{backend}_{durability}"
            if key not in j:
                continue
            s = per_step(j[key])
            out.append(
                f"| {backend} | {_f(dstep)} | {_f(dres['zero_wall'] * US)} | {durability} | "
                f"{_f(s['added'])} | {_f(s['durable'])} | **{_x(dstep / s['added'])}** | "
                f"{_x(dstep / s['durable'])} |"
            )
    startup = ", ".join(
        f"{k} {v['import_s']:.2f} s, launch {v['launch_s']:.2f} s" for k, v in d.items()
    )
    out.append(
        "\nMicroseconds. DBOS per step = (workflow of N no-op steps - empty workflow) / N: its "
        "checkpoint plus a function call. jido *all-in* = the whole durable chain / N "
        "(validation, the step's worker thread, the journal). DBOS import " + startup + "."
    )
    return [*out, ""]


def _recovery(rec: dict[str, Any]) -> list[str]:
    out = [
        "## Recovery: a process starts the runs and dies; a new runtime recovers them\n",
        "| store | runs | `rt.recover()` returned (claimed, resumed) | all finished |",
        "|---|---:|---:|---:|",
    ]
    for backend, v in rec.items():
        out.append(
            f"| {backend} | {v['recovered']:,} of {v['count']:,} | {v['claimed_s']:.2f} s | "
            f"{v['finished_s']:.2f} s |"
        )
    return [*out, ""]


def _listing(lst: dict[str, Any], count: int) -> list[str]:
    cols = [
        ("first_call", "first call"),
        ("first_page", "first page"),
        ("second_page", "2nd page"),
        ("status_failed", "status=failed"),
        ("status_active", "active statuses"),
        ("action", "action="),
        ("since_1h", "since 1 h"),
        ("get", "`get(id)`"),
    ]
    out = [
        f"## `rt.runs.list()` with {count:,} runs in the store (ms, page of 100)\n",
        "| store | filled in | " + " | ".join(c[1] for c in cols) + " |",
        "|---|---:|" + "---:|" * len(cols),
    ]
    for backend, v in lst.items():
        cells = " | ".join(_f(v[c[0]]) for c in cols)
        out.append(f"| {backend} | {v['fill_s']:.0f} s | {cells} |")
    return [*out, ""]


def core_ratios(core: dict[str, Any], row: str) -> tuple[float, float, float]:
    """Median x-bare of this tree and the baseline over the rounds, and their ratio."""
    this = statistics.median(x["rows"][row]["x_bare"] for x in core["rounds"]["this"])
    base = statistics.median(x["rows"][row]["x_bare"] for x in core["rounds"]["baseline"])
    return this, base, this / base


def _core(core: dict[str, Any], rows: dict[str, str]) -> list[str]:
    rounds = len(core["rounds"]["this"])
    out = [
        f"## `store=None`: the core paths against {core['baseline']} (before durable runs)\n",
        "| path | this tree, us | x bare | baseline, us | x bare | this / baseline |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row, label in rows.items():
        this, base, ratio = core_ratios(core, row)
        this_us = statistics.median(x["rows"][row]["us"] for x in core["rounds"]["this"])
        base_us = statistics.median(x["rows"][row]["us"] for x in core["rounds"]["baseline"])
        out.append(
            f"| {label} | {_f(this_us)} | {_f(this)} | {_f(base_us)} | {_f(base)} | {ratio:.2f} |"
        )
    out.append(
        f"\n`bench_core.py --quick`, {rounds} alternated round(s) per tree; *x bare* divides by "
        "the bare call measured in the same process, which cancels most of the machine's load."
    )
    return [*out, ""]


def _targets(r: dict[str, Any]) -> list[str]:
    checks: list[tuple[str, bool, str]] = []
    j = r["jido"]
    for key, limit in (("sqlite_process", 30.0), ("sqlite_power", 250.0)):
        added = per_step(j[key])["added"]
        checks.append(
            (
                f"{key.replace('_', ', ')}: <= {limit:.0f} us added per step",
                added <= limit,
                f"{added:.1f} us",
            )
        )
    for key in ("postgres_process", "postgres_power"):
        if key in j:
            added, tx = per_step(j[key])["added"], j[key]["round_trips_per_step"]
            checks.append(
                (
                    f"{key.replace('_', ', ')}: one round trip per step, <= 0.5 ms",
                    added <= 500 and tx <= 1.05,
                    f"{added:.0f} us, {tx:.2f} round trips/step",
                )
            )
    for backend, v in r["recovery"].items():
        checks.append(
            (
                f"recovery, {backend}: {v['count']:,} orphaned runs in <= 2 s",
                v["recovered"] == v["count"] and v["finished_s"] <= 2.0,
                f"{v['recovered']:,} in {v['finished_s']:.2f} s",
            )
        )
    for backend, v in r["listing"].items():
        checks.append(
            (
                f"list first page, {backend}, {r['config']['runs']:,} runs: <= 50 ms",
                v["first_page"] <= 50,
                f"{v['first_page']:.1f} ms (first call {v['first_call']:.1f} ms)",
            )
        )
    if "core" in r:
        rows = r["core"]["rounds"]["this"][0]["rows"]
        worst = max(rows, key=lambda row: core_ratios(r["core"], row)[2])
        ratio = core_ratios(r["core"], worst)[2]
        checks.append(
            (
                "store=None: core paths do not move (each <= 1.10x baseline)",
                ratio <= 1.10,
                f"worst {worst} {ratio:.2f}x",
            )
        )
    out = ["## Targets\n", "| target | result | measured |", "|---|---|---|"]
    out += [f"| {what} | {'PASS' if ok else '**MISS**'} | {m} |" for what, ok, m in checks]
    return [*out, ""]
