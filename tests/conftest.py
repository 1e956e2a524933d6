"""Shared fixtures and helpers for the behaviour suite.

Tests that break things (abandoned threads, shutdown, killed children) use an isolated
``jido.Runtime`` from the ``rt`` fixture; everything else uses the default runtime.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import jido
import jido.engines
from actions import Probe
from pgserver import pg_server, pg_url  # noqa: F401 (the session's Postgres, for every suite)
from support import TESTS, Stopwatch, wait_until  # noqa: F401 (shared with the test modules)

# The documented built-in defaults (docs/configuration.md), used to undo jido.configure().
DOCUMENTED_DEFAULTS = {
    "timeout": 5.0,
    "max_retries": 1,
    "backoff": 1.0,
    "max_backoff": 30.0,
    "jitter": False,
    "total_timeout": None,
    "retry_on": None,
    "isolation": "thread",
    "compensation_timeout": None,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "engines(*names): the engines a conformance test runs on (default: all)"
    )
    config.addinivalue_line("markers", "ray: runs on the session's local Ray cluster")


@pytest.fixture
def rt() -> Iterator[jido.Runtime]:
    """An isolated runtime, shut down after the test."""
    with jido.Runtime(name="test") as runtime:
        yield runtime


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def restore_config() -> Iterator[None]:
    """Put the global defaults back after a test that calls jido.configure()."""
    yield
    jido.configure(**DOCUMENTED_DEFAULTS)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def ray_runtime() -> Iterator[jido.Runtime]:
    """A real local Ray cluster (2 CPUs), started once per session and stopped at its end.

    Every Ray test uses this cluster (``jido.engines.Ray()`` then joins it); its workers
    import the test actions by module path, so the tests directory is on their path.
    """
    try:
        import ray  # noqa: F401
    except ImportError:
        pytest.skip('Ray is not installed (pip install "jido[ray]"): Ray engine tests skipped')
    engine = jido.engines.Ray(
        init={
            "num_cpus": 2,
            "include_dashboard": False,
            "runtime_env": {"env_vars": {"PYTHONPATH": str(TESTS)}},
        }
    )
    runtime = jido.Runtime(name="ray-session", engine=engine)
    try:
        yield runtime
    finally:
        runtime.shutdown()
