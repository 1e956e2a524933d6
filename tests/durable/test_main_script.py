"""An action defined in the script itself (``__main__``) is found again by the script that
resumes its run: a killed script, run again with ``recover``, finishes the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from durable import durable_actions as da
from durable.durable_helpers import wait_for

SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import jido

    @jido.action
    def slow_once(log: str) -> dict:
        attempt = jido.current().attempt
        with open(log, "a") as f:
            f.write(json.dumps({"key": jido.current().idempotency_key, "attempt": attempt}) + "\\n")
        if attempt == 1:
            time.sleep(600)
        return {"attempt": attempt}

    url, log, mode = sys.argv[1:4]
    with jido.Runtime(store=url, lease=0.5) as rt:
        if mode == "start":
            rt.run(slow_once, {"log": log}, run_id="scripted", timeout=None)
        else:
            time.sleep(0.6)  # past the dead script's lease
            (ref,) = rt.recover()
            print(json.dumps(ref.result(timeout=30)))
    """
)


def test_an_action_of_the_script_itself_resumes_in_the_script(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    log = str(tmp_path / "log")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    first = subprocess.Popen([sys.executable, str(script), url, log, "start"], env=env)
    try:
        wait_for(lambda: len(da.executions(log)) == 1, "the first script started its action", 60)
    finally:
        first.kill()
        first.wait()
    began = time.monotonic()
    second = subprocess.run(
        [sys.executable, str(script), url, log, "recover"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().splitlines()[-1] == '{"attempt": 2}'
    assert [(e["key"], e["attempt"]) for e in da.executions(log)] == [
        ("scripted", 1),
        ("scripted", 2),
    ]
    assert time.monotonic() - began < 60
