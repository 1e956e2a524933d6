"""The Markdown report of ``bench_durable.py`` (from its raw results, so ``--report`` reprints)."""

from __future__ import annotations

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
    out += [f"| {names[k]} | {_f(v)} |" for k, v in f.items() if k in names]
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
    if "sqlite_normal_cpu" in floors and "sqlite_process" in j:
        cpu = per_step(j["sqlite_process"])["added_cpu"]
        floor_cpu = floors["sqlite_normal_cpu"]
        out.append(
            f"\nSQLite, process: the CPU a step adds is {_x(cpu / floor_cpu)} the CPU of one "
            f"floor commit measured in this run ({_f(floor_cpu)} us): a chained step is one "
            "commit (its result together with the next step's first attempt), which changes "
            "3 to 4 pages where the floor changes one."
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


PROBES = {
    "run_t0": "`rt.run(add, p, timeout=0)` (inline)",
    "run_thread": "`rt.run(add, p)` (worker thread)",
    "run_async": "`rt.run_async(add, p).result()`",
    "achain_10": "`await achain([add] * 10, ..., timeout=0)`",
}


def probe_ratio(core: dict[str, Any], case: str) -> tuple[float, float, float]:
    """The best (min) time of this tree and the baseline over the rounds, and their ratio."""
    this = min(x[case] for x in core["probe"]["this"])
    base = min(x[case] for x in core["probe"]["baseline"])
    return this, base, this / base


def _core(core: dict[str, Any], rows: dict[str, str]) -> list[str]:
    rounds = len(core["probe"]["this"])
    out = [
        f"## `store=None`: the core paths against {core['baseline']} (before durable runs)\n",
        f"Probe (`_durable_workers.py probe`, public API, best of 15 repeats x {rounds} "
        "alternated processes per tree: the figure least disturbed by other load):\n",
        "| path | this tree, us | baseline, us | this / baseline |",
        "|---|---:|---:|---:|",
    ]
    for case, label in PROBES.items():
        this, base, ratio = probe_ratio(core, case)
        out.append(f"| {label} | {_f(this)} | {_f(base)} | {ratio:.2f} |")
    out += [
        "\nPython function calls per operation (cProfile; independent of load):\n",
        "| path | this tree | baseline | difference |",
        "|---|---:|---:|---:|",
    ]
    for case in ("run_t0", "achain_10"):
        this_calls = core["probe"]["this"][0][f"{case}_calls"]
        base_calls = core["probe"]["baseline"][0][f"{case}_calls"]
        out.append(
            f"| {PROBES[case]} | {this_calls:.0f} | {base_calls:.0f} | "
            f"{this_calls - base_calls:+.0f} |"
        )
    out += [
        "\n`bench_core.py --quick` once per tree (medians of 3 short repeats; *x bare* divides "
        "by the bare call measured in the same process):\n",
        "| path | this tree, us | x bare | baseline, us | x bare | this / baseline |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row, label in rows.items():
        this_row = core["rounds"]["this"][0]["rows"][row]
        base_row = core["rounds"]["baseline"][0]["rows"][row]
        ratio = this_row["x_bare"] / base_row["x_bare"]
        out.append(
            f"| {label} | {_f(this_row['us'])} | {_f(this_row['x_bare'])} | "
            f"{_f(base_row['us'])} | {_f(base_row['x_bare'])} | {ratio:.2f} |"
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
        core = r["core"]
        runs = ("run_t0", "run_thread", "run_async")
        worst = max(runs, key=lambda case: probe_ratio(core, case)[2])
        ratio = probe_ratio(core, worst)[2]
        this_calls = core["probe"]["this"][0]["run_t0_calls"]
        base_calls = core["probe"]["baseline"][0]["run_t0_calls"]
        checks.append(
            (
                "store=None: jido.run paths do not move (same Python calls; time <= 1.10x)",
                this_calls <= base_calls and ratio <= 1.10,
                f"{this_calls:.0f} vs {base_calls:.0f} calls; worst time {worst} {ratio:.2f}x",
            )
        )
    out = ["## Targets\n", "| target | result | measured |", "|---|---|---|"]
    out += [f"| {what} | {'PASS' if ok else '**MISS**'} | {m} |" for what, ok, m in checks]
    return [*out, ""]
