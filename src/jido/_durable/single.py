"""Resuming a single-action durable run (kind ``"action"``)."""

from __future__ import annotations

from typing import Any

from jido._durable.definition import action_entry, decode_options, fingerprint, load_action
from jido._durable.journal import DurableRun
from jido._durable.kinds import register
from jido._durable.relay import Relay
from jido._store import RunRow

__all__ = ["resume_action"]


def resume_action(runtime: Any, row: RunRow, run: DurableRun, relay: Relay) -> None:
    """Run a recorded action again, from the attempt (and retry schedule) it had reached."""
    definition = row.definition
    target, spec = load_action(definition["action"])
    if fingerprint(action_entry(spec)) != row.fingerprint:
        raise LookupError(f"the definition of action {spec.name!r} changed since the run started")
    spec, opts = runtime._resolve(target, decode_options(definition.get("options") or {}))
    mode = runtime._mode(spec, opts)
    call = runtime._prepare(spec, opts, row.params, row.context, mode, row.run_id, recovered=True)
    runtime._durable.drive(call, mode, run, relay)


register("action", resume_action, lambda result: result)
