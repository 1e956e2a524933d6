"""The ``jido`` command as a user runs it: the installed console script, from a project dir.

Contract (README, "Watching work: the CLI"; issue 8, defect 10): ``jido run pkg.mod:act``
imports from the current directory (as ``python -m`` does); bad input (JSON that is not
an object, a missing module, attribute or action, an invalid number) is one line on
stderr with exit code 2 and no traceback; an action that fails exits 1 with its error as
JSON; ``--repeat 0`` and ``--timeout -1`` are errors; ``jido --version`` prints the version.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import jido

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SCRIPT = Path(sys.executable).with_name("jido")

ACTIONS = """
import jido


@jido.action
def double(x: int = 1) -> dict:
    return {"x": 2 * x}


@jido.action
def broken() -> dict:
    raise ValueError("broken on purpose")


NOT_AN_ACTION = 42
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project directory with a package of actions, not installed anywhere."""
    root = tmp_path_factory.mktemp("project")
    (root / "shop").mkdir()
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "actions.py").write_text(ACTIONS)
    (root / "shop" / "bad_import.py").write_text("import not_a_module_anywhere\n")
    (root / "shop" / "raises.py").write_text("raise RuntimeError('module failed to load')\n")
    return root


def jido_cmd(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), f"the jido console script is not installed next to {sys.executable}"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The exit code is 2 and stderr is one line without a traceback; returns that line."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert proc.stdout == ""
    return lines[0]


def test_the_console_script_is_the_installed_entry_point() -> None:
    assert SCRIPT.exists()
    assert shutil.which("jido", path=str(SCRIPT.parent)) == str(SCRIPT)


def test_run_imports_from_the_current_directory(project: Path) -> None:
    proc = jido_cmd(project, "run", "shop.actions:double", "--params", '{"x": 21}')
    assert proc.returncode == 0, proc.stderr
    assert json.loads(ANSI.sub("", proc.stdout)) == {"x": 42}


def test_run_in_a_child_process_imports_from_the_current_directory(project: Path) -> None:
    proc = jido_cmd(project, "run", "shop.actions:double", "--isolation", "process")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(ANSI.sub("", proc.stdout)) == {"x": 2}


def test_a_failing_action_prints_its_error_as_json_and_exits_1(project: Path) -> None:
    proc = jido_cmd(project, "run", "shop.actions:broken", "--max-retries", "0")
    assert proc.returncode == 1, proc.stderr
    error = json.loads(ANSI.sub("", proc.stdout))
    assert error["type"] == "execution_error"
    assert "broken on purpose" in error["message"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--params", "{not json"], "--params is not valid JSON"),
        (["--params", "[1, 2]"], "--params must be a JSON object, got list"),
        (["--context", '"text"'], "--context must be a JSON object, got str"),
        (["--params", "[" * 100_000], "--params"),
    ],
    ids=["bad-json", "params-list", "context-str", "deep-json"],
)
def test_bad_json_is_one_line_and_exit_2(project: Path, args: list[str], fragment: str) -> None:
    line = one_line_error(jido_cmd(project, "run", "shop.actions:double", *args))
    assert fragment in line


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("no_such_package.actions:double", "cannot import 'no_such_package.actions'"),
        ("shop.actions:no_such_action", "'no_such_action' not found"),
        ("shop.actions:NOT_AN_ACTION", "is not a jido action"),
        ("shop.actions", "expected MODULE:ACTION"),
        ("shop.bad_import:x", "No module named 'not_a_module_anywhere'"),
        ("shop.raises:x", "RuntimeError: module failed to load"),
    ],
    ids=[
        "missing-module",
        "missing-attribute",
        "not-an-action",
        "no-colon",
        "bad-import",
        "raises",
    ],
)
def test_targets_that_cannot_be_loaded_are_one_line_and_exit_2(
    project: Path, target: str, fragment: str
) -> None:
    line = one_line_error(jido_cmd(project, "run", target))
    assert line.startswith("jido run: error: ")
    assert fragment in line


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--repeat", "0"], "--repeat"),
        (["--repeat", "-3"], "--repeat"),
        (["--timeout", "-1"], "--timeout"),
        (["--timeout", "nan"], "--timeout"),
        (["--timeout", "inf"], "--timeout"),
        (["--timeout", "soon"], "--timeout"),
        (["--max-retries", "-1"], "--max-retries"),
        (["--max-retries", "10001"], "--max-retries"),
        (["--backoff", "-0.5"], "--backoff"),
        (["--isolation", "cloud"], "--isolation"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_numbers_and_choices_are_validated(project: Path, args: list[str], fragment: str) -> None:
    line = one_line_error(jido_cmd(project, "run", "shop.actions:double", *args))
    assert fragment in line


def test_demo_batch_is_validated(project: Path) -> None:
    assert "--batch" in one_line_error(jido_cmd(project, "demo", "--batch", "-1"))


def test_missing_and_unknown_commands_are_one_line(project: Path) -> None:
    one_line_error(jido_cmd(project))
    one_line_error(jido_cmd(project, "launch"))
    one_line_error(jido_cmd(project, "run"))


def test_version(project: Path) -> None:
    proc = jido_cmd(project, "--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"jido {jido.__version__}"


def test_zero_timeout_and_repeat_one_are_accepted(project: Path) -> None:
    proc = jido_cmd(
        project, "run", "shop.actions:double", "--timeout", "0", "--repeat", "1", "--backoff", "0"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(ANSI.sub("", proc.stdout)) == {"x": 2}
