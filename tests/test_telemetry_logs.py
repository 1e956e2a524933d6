"""Standard logging under the ``jido`` logger, gated per call by ``log_level``, redacted.

Contract (docs/observability.md, "Logs"): ``debug`` run start and finish; ``info``
retries, timeouts, cancellations and failures; ``warning`` failed compensations and
detached handlers. The per-call ``log_level`` (default ``"info"``) is the threshold for
jido's own lines; the logger's own level still applies. Messages pass through the same
redaction as events and errors.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import actions
import jido
import jido.telemetry
import jido.testing
from actions import Probe
from support import wait_until

SECRETS = ("hunter2", "s3cr3t-key", "tok.en.value", "pa55word")


@jido.action
def leaky() -> dict[str, Any]:
    """Fails with secrets in its exception text, in the shapes they usually take."""
    raise ConnectionError(
        "login failed: password=hunter2 api_key: s3cr3t-key "
        "headers Authorization: Bearer tok.en.value"
    )


@jido.action
def leaky_repr() -> dict[str, Any]:
    """Fails with a dict repr carrying a secret (``f"bad payload {payload}"``)."""
    payload = {"user": "ada", "password": "pa55word"}
    raise ValueError(f"bad payload {payload}")


class LeakyCompensation(jido.Action):
    name = "leaky_compensation"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        raise ConnectionError("down")

    def on_error(
        self, params: dict[str, Any], error: Exception, context: dict[str, Any]
    ) -> dict[str, Any]:
        raise RuntimeError("rollback failed, token=hunter2")


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture everything the ``jido`` logger lets through at DEBUG."""
    caplog.set_level(logging.DEBUG, logger="jido")
    return caplog


def jido_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "jido" or r.name.startswith("jido.")]


def at(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in jido_records(caplog) if r.levelno == level]


def all_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in jido_records(caplog))


# -- levels --------------------------------------------------------------------------------------
@pytest.mark.parametrize("timeout", [0, 2.0], ids=["inline", "thread"])
def test_debug_shows_start_and_finish(logs: pytest.LogCaptureFixture, timeout: float) -> None:
    jido.run(actions.Add, {"value": 1}, timeout=timeout, log_level="debug")
    debug = at(logs, logging.DEBUG)
    assert len(debug) == 2, debug
    start, finish = debug
    assert "add" in start
    assert "start" in start.lower()
    assert "add" in finish
    assert "finish" in finish.lower()
    assert at(logs, logging.INFO) == []


def test_default_level_is_quiet_on_success(logs: pytest.LogCaptureFixture) -> None:
    jido.run(actions.Add, {"value": 1}, timeout=0)
    jido.run(actions.Add, {"value": 1}, timeout=2.0)
    assert jido_records(logs) == []


def test_info_shows_retries_and_the_failure(logs: pytest.LogCaptureFixture) -> None:
    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
        jido.run(actions.always_fail, None, {"probe": Probe()}, timeout=0, max_retries=2)
    info = at(logs, logging.INFO)
    assert len(info) == 3, info
    retries, failure = info[:2], info[2]
    for line in retries:
        assert "always_fail" in line
        assert "retry" in line.lower()
    assert "always_fail" in failure
    assert "fail" in failure.lower()
    assert "execution_error" in failure
    assert at(logs, logging.DEBUG) == []  # default log_level is info


def test_info_shows_timeouts(logs: pytest.LogCaptureFixture) -> None:
    with pytest.raises(jido.TimeoutError):
        jido.run(actions.spin, None, {"probe": Probe()}, timeout=0.1, max_retries=0)
    info = at(logs, logging.INFO)
    assert any("spin" in m and "timed out" in m for m in info), info


def test_info_shows_cancellations(logs: pytest.LogCaptureFixture) -> None:
    probe = Probe()
    ref = jido.run_async(actions.coop_sleep, {"seconds": 30}, {"probe": probe})
    assert probe.started.wait(5.0)
    ref.cancel()
    with pytest.raises(jido.CancelledError):
        jido.await_(ref, timeout=5.0)

    def cancel_lines() -> list[str]:
        return [m for m in at(logs, logging.INFO) if "coop_sleep" in m and "cancel" in m.lower()]

    assert wait_until(cancel_lines)


def test_warning_level_hides_retries_and_failures(logs: pytest.LogCaptureFixture) -> None:
    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
        jido.run(
            actions.always_fail,
            None,
            {"probe": Probe()},
            timeout=0,
            max_retries=2,
            log_level="warning",
        )
    assert jido_records(logs) == []


def test_failed_compensation_is_a_warning(logs: pytest.LogCaptureFixture) -> None:
    with pytest.raises(jido.CompensationError):
        jido.run(LeakyCompensation, timeout=0, max_retries=0, log_level="warning")
    warnings = at(logs, logging.WARNING)
    assert len(warnings) == 1, warnings
    assert "leaky_compensation" in warnings[0]
    assert "compensation" in warnings[0].lower()
    assert "hunter2" not in all_text(logs)


def test_detached_handler_is_a_warning(logs: pytest.LogCaptureFixture) -> None:
    def broken(event: jido.telemetry.Event) -> None:
        raise RuntimeError("handler bug")

    with jido.telemetry.attached(broken):
        jido.run(actions.Add, {"value": 1}, timeout=0)
    warnings = at(logs, logging.WARNING)
    assert warnings
    assert all("detached" in w for w in warnings)


def test_logger_level_still_applies(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="jido")
    jido.run(actions.Add, {"value": 1}, timeout=0, log_level="debug")
    assert jido_records(caplog) == []


@pytest.mark.parametrize("level", ["loud", "", None, -1, True])
def test_invalid_log_level_is_a_config_error(level: Any) -> None:
    with pytest.raises(jido.ConfigError):
        jido.run(actions.Add, {"value": 1}, timeout=0, log_level=level)


@pytest.mark.parametrize("level", ["DEBUG", "Info", "warning", "error", "critical"])
def test_log_level_names_are_accepted(level: str) -> None:
    assert jido.run(actions.Add, {"value": 1}, timeout=0, log_level=level) == {"value": 2}


# -- redaction -----------------------------------------------------------------------------------
def test_failure_lines_redact_key_value_secrets(logs: pytest.LogCaptureFixture) -> None:
    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
        jido.run(leaky, timeout=0, max_retries=1, log_level="debug")
    text = all_text(logs)
    assert "leaky" in text
    assert "[REDACTED]" in text
    assert "hunter2" not in text
    assert "s3cr3t-key" not in text


def test_failure_lines_redact_bearer_tokens_in_header_text(logs: pytest.LogCaptureFixture) -> None:
    with pytest.raises(jido.ExecutionError):
        jido.run(leaky, timeout=0, max_retries=0)
    assert "tok.en.value" not in all_text(logs)


def test_failure_lines_redact_secrets_in_a_dict_repr(logs: pytest.LogCaptureFixture) -> None:
    with pytest.raises(jido.ExecutionError):
        jido.run(leaky_repr, timeout=0, max_retries=0)
    text = all_text(logs)
    assert "leaky_repr" in text
    assert "pa55word" not in text


def test_params_and_context_never_logged(logs: pytest.LogCaptureFixture) -> None:
    params = {"value": 1, "password": "hunter2"}
    context = {"api_key": "s3cr3t-key", "note": "tok.en.value"}
    jido.run(actions.Add, params, context, timeout=0, log_level="debug")
    with jido.testing.no_backoff(), pytest.raises(jido.ExecutionError):
        jido.run(actions.always_fail, params, {**context, "probe": Probe()}, log_level="debug")
    text = all_text(logs)
    assert text  # something was logged
    for secret in SECRETS:
        assert secret not in text
