"""The engine conformance suite: one run contract, held by every engine.

A test that takes the ``engine`` fixture runs once per engine:

- ``inline``: an in-process runtime whose runs have no time limit (``timeout=None``), so
  ``run`` of a sync action executes in the caller's thread (``run_async``/``arun`` of a
  sync action then use a worker thread with no deadline; async actions the event loop);
- ``thread``: an in-process runtime with the default options (worker threads, event loop);
- ``process``: ``jido.Runtime(defaults={"isolation": "process"})``: child processes;
- ``ray``: ``jido.Runtime(engine=jido.engines.Ray())`` on the session's local Ray cluster.

``@engines(...)`` narrows a test to the engines it applies to (``TIMED`` where the test
needs a time limit; ``REMOTE`` where the action must run in another process). Behaviour
that legitimately differs between engines is never hidden in a test: it is a named
expectation of :class:`Engine` (``stop()``, ``remote``, ``mode()``), each one documented
in docs/guarantees.md and docs/cluster.md ("Behaviour that legitimately differs" for Ray).

Actions are in conformance/actions.py (importable by module path, as child processes and
Ray workers need); they report through a file-based :class:`Probe` in the context. Ray
tests share the session's cluster (``ray_runtime`` in tests/conftest.py) and are marked
``ray`` (``-m "not ray"`` leaves them out).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jido
import jido.engines
from conformance import actions
from conformance.actions import Probe

ENGINES = ("inline", "thread", "process", "ray")
TIMED = ("thread", "process", "ray")
"""Engines whose runs have a time limit here (``inline`` runs have none)."""
REMOTE = ("process", "ray")
"""Engines that run the action in another process."""

# How each engine stops work that must stop (docs/guarantees.md, docs/cluster.md):
# details["stop"] of the TimeoutError/CancelledError, by kind of action.
STOPS: dict[str, dict[str, str]] = {
    # CPU-bound Python that never looks at its token: an interrupt at its next bytecode
    # (a worker-thread interrupt, SIGTERM in a child process, Ray's soft cancel turned
    # into jido's interrupt).
    "spin": {"thread": "interrupted", "process": "interrupted", "ray": "interrupted"},
    # Checks its token (jido.current().check()/.sleep()): it stops by itself in-process
    # and on Ray (the worker sets the token first); in a child process SIGTERM interrupts
    # it at once.
    "coop": {"thread": "cooperative", "process": "interrupted", "ray": "cooperative"},
    # Blocked in C (time.sleep): a thread cannot be interrupted (abandoned, stopped=False);
    # SIGTERM interrupts the system call; a Ray worker is force-killed.
    "blocked": {"thread": "abandoned", "process": "interrupted", "ray": "killed"},
    # async def, waiting at an await: the task is cancelled (in a child process SIGTERM
    # interrupts the event loop).
    "async": {"thread": "cancelled", "process": "interrupted", "ray": "cancelled"},
    # Ignores every soft stop (SIGTERM, interrupts): only a kill stops it (remote engines).
    "ignore": {"process": "killed", "ray": "killed"},
    # interruptible = False: only the token is set; an action ignoring it is abandoned
    # in-process, killed in a child process or on Ray. In a child process the token is
    # set by SIGTERM, and every stop there is reported as interrupted or killed.
    "uninterruptible_coop": {
        "thread": "cooperative",
        "process": "interrupted",
        "ray": "cooperative",
    },
    "uninterruptible_spin": {"thread": "abandoned", "process": "killed", "ray": "killed"},
}

SHORT = {"inline": 0.2, "thread": 0.2, "process": 0.3, "ray": 0.4}
"""A short attempt timeout, per engine: long enough for the action to have started."""


def engines(*names: str) -> pytest.MarkDecorator:
    """Run the test on these engines only (default: all of ENGINES)."""
    unknown = set(names) - set(ENGINES)
    assert not unknown, unknown
    return pytest.mark.engines(*names)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("engines")
    names = marker.args if marker else ENGINES
    metafunc.parametrize(
        "engine",
        [pytest.param(n, id=n, marks=[pytest.mark.ray] if n == "ray" else []) for n in names],
        indirect=True,
    )


class Engine:
    """A runtime configured for one engine, and what the contract expects of it there."""

    def __init__(self, name: str, rt: jido.Runtime, tmp_path: Path) -> None:
        self.name = name
        self.rt = rt
        self._tmp = tmp_path
        self._probes = 0
        self.remote = name in REMOTE
        """The action runs in another process: params, context, results and errors are
        copies (never the caller's objects), and must be serializable."""
        self.short = SHORT[name]

    def __repr__(self) -> str:
        return f"<engine {self.name}>"

    def probe(self) -> Probe:
        self._probes += 1
        return Probe(self._tmp / f"probe{self._probes}")

    def mode(self, is_async: bool) -> str:
        """``metadata["mode"]`` of the run's telemetry events (and the span attribute)."""
        if self.name in REMOTE:
            return self.name
        if is_async:
            return "async"
        return "inline" if self.name == "inline" else "thread"

    def stop(self, kind: str) -> str:
        """``details["stop"]`` when an action of this kind is stopped (STOPS)."""
        return STOPS[kind]["thread" if self.name == "inline" else self.name]

    def stopped(self, kind: str) -> bool:
        """``details["stopped"]``: False only when the work was abandoned, still running."""
        return self.stop(kind) != "abandoned"

    def warm(self) -> None:
        """Have the engine's workers up before a timed section (two at once, for Ray after
        a worker was killed: Ray then starts a replacement, which takes a while)."""
        if self.remote:
            refs = [
                self.rt.run_async(actions.nap, {"seconds": 0.05}, timeout=60, telemetry="silent")
                for _ in range(2)
            ]
            for ref in refs:
                ref.result(60)


@pytest.fixture
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    name: str = request.param
    kwargs: dict[str, Any] = {"name": f"conformance-{name}"}
    if name == "inline":
        kwargs["defaults"] = {"timeout": None}
    elif name == "process":
        kwargs["defaults"] = {"isolation": "process"}
        kwargs["max_processes"] = 2
    elif name == "ray":
        request.getfixturevalue("ray_runtime")  # the session's cluster
        kwargs["engine"] = jido.engines.Ray()
        # Ray's soft cancel crosses the raylet: give it 0.24 s (not 0.08 s) to land before
        # the force kill, so a busy machine does not turn an interrupt into a kill
        kwargs["stop_timeout"] = 0.3
    runtime = jido.Runtime(**kwargs)
    try:
        yield Engine(name, runtime, tmp_path)
    finally:
        runtime.shutdown()
