"""What the page is sent: JSON views of runs, attempts and a chain's or plan's step graph.

Values an action produced (params, results, errors) are redacted as telemetry redacts
them (secrets masked, long text truncated, depth bounded) before they leave the server;
the page shows every value as text. Times are epoch seconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jido._observe.redact import redact, redact_text
from jido._store import AttemptRow, RunHistory, RunRow, StepRow

__all__ = ["MAX_NODES", "detail", "graph", "summary"]

MAX_NODES = 2000
"""Steps beyond this many are not sent as a graph (the page lists them instead)."""

_DEPS_KEYS = ("deps", "depends_on", "after", "needs", "dependencies")


def summary(run: RunRow) -> dict[str, Any]:
    """One row of the runs list: what the list shows and filters on, no values."""
    return {
        "id": run.run_id,
        "seq": run.seq,
        "kind": run.kind,
        "action": run.action,
        "status": run.status,
        "attempts": run.attempts,
        "owner": run.owner,
        "created": run.created_at,
        "started": run.started_at,
        "finished": run.finished_at,
        "updated": run.updated_at,
        "retry_at": run.next_retry_at,
        "cancel_requested": run.cancel_requested_at,
        "recoveries": run.recoveries,
        "reason": None if run.reason is None else redact_text(run.reason),
        "error_type": None if run.error is None else str(run.error.get("type", "")),
    }


def detail(history: RunHistory, now: float) -> dict[str, Any]:
    """A run's page: the run with its values, its steps, every attempt, and its graph."""
    run = history.run
    return {
        "run": {
            **summary(run),
            "params": redact(run.params),
            "result": redact(run.result),
            "error": _error(run.error),
            "context": redact(run.context),
        },
        "steps": [_step(s) for s in history.steps],
        "attempts": [_attempt(a) for a in history.attempts],
        "graph": graph(run.kind, run.definition, history.steps),
        "now": now,
    }


def graph(kind: str, definition: Any, steps: Sequence[StepRow]) -> dict[str, Any] | None:
    """The steps of a chain or plan as nodes (with their status) and edges; None otherwise.

    The definition's steps are read from ``definition["steps"]``: a list (of step names,
    or of objects with a ``key`` or ``name``, an ``action`` or ``ref`` (``module:qualname``,
    shown as its qualname) and optional dependencies in ``depends_on``/``deps``/``after``/
    ``needs``) or an object keyed by step name (a plan's). A chain's steps are keyed by
    their 0-based index and run one after the other; a plan's edges come from each step's
    dependencies or from ``definition["deps"]`` (``{step: [steps it needs]}``). Steps seen
    in the journal but not in the definition are added as they were recorded.

    Example:
        >>> g = graph("plan", {"steps": {"a": {}, "b": {"deps": ["a"]}}}, [])
        >>> (g["nodes"][1]["key"], g["edges"])
        ('b', [['a', 'b']])
    """
    if kind not in ("chain", "plan"):
        return None
    nodes, edges = _definition_graph(kind, definition)
    seen = {n["key"] for n in nodes}
    nodes.extend({"key": s.key, "label": s.key} for s in steps if s.key not in seen)
    by_key = {s.key: s for s in steps}
    for node in nodes:
        step = by_key.get(node["key"])
        node["status"] = "pending" if step is None else step.status
        node["attempts"] = 0 if step is None else step.attempts
    if len(nodes) > MAX_NODES:
        return {"nodes": [], "edges": [], "truncated": len(nodes)}
    keys = {n["key"] for n in nodes}
    return {"nodes": nodes, "edges": [e for e in edges if e[0] in keys and e[1] in keys]}


def _definition_graph(kind: str, definition: Any) -> tuple[list[dict[str, Any]], list[list[str]]]:
    raw = definition.get("steps") if isinstance(definition, Mapping) else None
    items: list[tuple[str, Any]]
    if isinstance(raw, Mapping):
        items = [(str(k), v) for k, v in raw.items()]
    elif isinstance(raw, list):
        items = [(_key(kind, i, step), step) for i, step in enumerate(raw)]
    else:
        items = []
    nodes = [{"key": key, "label": _label(key, step)} for key, step in items]
    if kind == "chain":
        return nodes, [[a["key"], b["key"]] for a, b in itertools.pairwise(nodes)]
    deps = definition.get("deps") if isinstance(definition, Mapping) else None
    edges = [[str(d), key] for key, step in items for d in _deps(step)]
    if isinstance(deps, Mapping):
        edges.extend([str(d), str(k)] for k, v in deps.items() for d in _as_list(v))
    return nodes, _unique(edges)


def _key(kind: str, index: int, step: Any) -> str:
    if kind == "chain":
        return str(index)
    if isinstance(step, Mapping):
        found = step.get("key", step.get("name"))
        if found is not None:
            return str(found)
    return step if isinstance(step, str) else str(index)


def _label(key: str, step: Any) -> str:
    if isinstance(step, Mapping):
        for field in ("name", "action", "ref"):
            value = step.get(field)
            if isinstance(value, str) and value:
                value = value.rsplit(":", 1)[-1]  # "module:qualname" shows as its qualname
                return value if value == key else f"{key}: {value}"
    if isinstance(step, str) and step != key:
        return f"{key}: {step}"
    return key


def _deps(step: Any) -> list[Any]:
    if not isinstance(step, Mapping):
        return []
    return next((_as_list(step[k]) for k in _DEPS_KEYS if k in step), [])


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, list | tuple) else []


def _unique(edges: Iterable[list[str]]) -> list[list[str]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for a, b in edges:
        if (a, b) not in seen:
            seen.add((a, b))
            out.append([a, b])
    return out


def _error(error: Mapping[str, Any] | None) -> Any:
    return None if error is None else redact(dict(error))


def _brief_error(error: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {
        "type": str(error.get("type", "")),
        "message": redact_text(str(error.get("message", ""))),
    }


def _step(step: StepRow) -> dict[str, Any]:
    return {
        "key": step.key,
        "status": step.status,
        "attempts": step.attempts,
        "started": step.started_at,
        "finished": step.finished_at,
        "retry_at": step.next_retry_at,
        "result": redact(step.result),
        "error": _brief_error(step.error),
    }


def _attempt(a: AttemptRow) -> dict[str, Any]:
    return {
        "step": a.step_key,
        "attempt": a.attempt,
        "status": a.status,
        "started": a.started_at,
        "finished": a.finished_at,
        "error": _brief_error(a.error),
        "stopped": a.stopped,
        "stop": a.stop,
        "retry_at": a.retry_at,
    }
