"""Dependency graphs of named steps: checks, phases and a scheduler. Pure logic, no I/O.

A graph is a mapping ``{step: (dependency, ...)}`` whose order is the order the steps
were added; every result here follows that order, so it is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jido._core.errors import ValidationError

__all__ = ["Graph", "Scheduler", "check_graph", "find_cycle", "phases"]

Graph = Mapping[str, Sequence[str]]


def check_graph(graph: Graph) -> None:
    """Raise a ValidationError for dependencies on undefined steps (checked first) or a cycle."""
    missing = {
        step: sorted(set(deps) - graph.keys())
        for step, deps in graph.items()
        if set(deps) - graph.keys()
    }
    if missing:
        listed = "; ".join(f"{step} -> {', '.join(names)}" for step, names in missing.items())
        raise ValidationError(
            f"Plan contains dependencies on undefined steps: {listed}",
            details={"missing_dependencies_by_step": missing, "available_steps": sorted(graph)},
        )
    cycle = find_cycle(graph)
    if cycle:
        raise ValidationError(
            f"Plan contains circular dependencies: {' -> '.join(cycle)}",
            details={"cycle": cycle},
        )


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle as a closed path (``["a", "b", "a"]``), or None. Undefined steps are ignored."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in graph:
        if root in state:
            continue
        path: list[str] = [root]
        stack: list[Any] = [iter(graph[root])]
        state[root] = 1
        while stack:
            dep = next(stack[-1], None)
            if dep is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            elif dep in graph and dep not in state:
                state[dep] = 1
                path.append(dep)
                stack.append(iter(graph[dep]))
    return None


def phases(graph: Graph) -> list[list[str]]:
    """Steps grouped by phase: 0 without dependencies, else 1 + the latest dependency's phase.

    The graph must be valid (see :func:`check_graph`).
    """
    level: dict[str, int] = {}
    for step in _topological(graph):
        level[step] = 1 + max((level[d] for d in graph[step]), default=-1)
    grouped: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for step in graph:
        grouped[level[step]].append(step)
    return grouped


def _topological(graph: Graph) -> list[str]:
    scheduler = Scheduler(graph)
    order: list[str] = []
    ready = scheduler.start()
    while ready:
        step = ready.pop(0)
        order.append(step)
        ready.extend(scheduler.succeeded(step))
    return order


class Scheduler:
    """Which steps may start, as steps succeed or fail (a valid graph is assumed).

    Example:
        >>> s = Scheduler({"a": (), "b": ("a",), "c": ("a",), "d": ("b", "c")})
        >>> s.start(), s.succeeded("a"), s.succeeded("b"), s.failed("c"), s.pending()
        (['a'], ['b', 'c'], [], ['d'], [])
    """

    __slots__ = ("_dependents", "_order", "_skipped", "_started", "_waiting")

    def __init__(self, graph: Graph) -> None:
        self._order = {step: i for i, step in enumerate(graph)}
        self._waiting = {step: len(set(deps)) for step, deps in graph.items()}
        self._dependents: dict[str, list[str]] = {step: [] for step in graph}
        for step, deps in graph.items():
            for dep in set(deps):
                self._dependents[dep].append(step)
        self._started: set[str] = set()
        self._skipped: set[str] = set()

    def start(self) -> list[str]:
        """The steps with no dependencies, in graph order."""
        return self._claim([s for s, n in self._waiting.items() if n == 0])

    def succeeded(self, step: str) -> list[str]:
        """Record a success; the steps that became ready, in graph order."""
        ready = []
        for dependent in self._dependents[step]:
            self._waiting[dependent] -= 1
            if self._waiting[dependent] == 0 and dependent not in self._skipped:
                ready.append(dependent)
        return self._claim(ready)

    def failed(self, step: str) -> list[str]:
        """Record a failure; the steps that now can never run (all its dependents), in order."""
        stack, found = list(self._dependents[step]), set()
        while stack:
            dependent = stack.pop()
            if dependent not in found and dependent not in self._started:
                found.add(dependent)
                stack.extend(self._dependents[dependent])
        self._skipped |= found
        return sorted(found, key=self._order.__getitem__)

    def pending(self) -> list[str]:
        """Steps neither started nor skipped, in graph order."""
        return [s for s in self._order if s not in self._started and s not in self._skipped]

    def _claim(self, steps: list[str]) -> list[str]:
        steps.sort(key=self._order.__getitem__)
        self._started.update(steps)
        return steps
