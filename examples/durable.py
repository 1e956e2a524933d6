"""Durable runs: a chain survives the death of its process.

A child process starts a 5-step chain on a SQLite store and is killed (SIGKILL) in the
middle of step 2. A second process recovers the run once the dead owner's lease has
expired: steps 0 and 1 are not run again (their recorded results are used), step 2 runs
again (it was running when the process died: at least once), steps 3 and 4 run once.
Every step appends a line to a file, keyed by ``jido.current().idempotency_key``, as it
would pass that key to a payment or e-mail API.

    python examples/durable.py
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jido

RUN_ID = "order-42"
STEPS = 5
LEASE = 0.5  # seconds; a dead owner's runs are orphaned this long after its last renewal
CRASH_IN = {"step": -1}  # the first process sets it to 2


@jido.action
def step(total: int = 0, effects: str = "") -> dict:
    """One step: record its effect, then add 1 to the total (or die if told to)."""
    key = jido.current().idempotency_key  # "order-42/<index>": the same in every process
    with open(effects, "a", encoding="utf-8") as log:
        log.write(f"{key} {os.getpid()}\n")
    if key == f"{RUN_ID}/{CRASH_IN['step']}":
        os.kill(os.getpid(), signal.SIGKILL)  # a crash in the middle of the step
    time.sleep(0.05)
    return {"total": total + 1}


def start(url: str, effects: str) -> None:
    """The first process: start the chain; it never returns (killed in step 2)."""
    CRASH_IN["step"] = 2
    rt = jido.Runtime(store=url, lease=LEASE)
    jido.chain([step] * STEPS, {"effects": effects}, run_id=RUN_ID, runtime=rt)


def recover(url: str) -> None:
    """The second process: resume every orphaned run (here, the chain) and wait for it."""
    with jido.Runtime(store=url, lease=LEASE) as rt:
        refs: list[jido.AsyncRef] = []
        deadline = time.monotonic() + 30
        while not refs and time.monotonic() < deadline:  # until the dead owner's lease expires
            time.sleep(0.1)
            refs = rt.recover()
        assert refs, "the run was not recovered"
        print(f"process {os.getpid()} recovered {[r.run_id for r in refs]}")
        print(f"result: {jido.await_(refs[0])}")
        info = rt.runs.get(RUN_ID)
        assert info is not None
        steps = ", ".join(f"{s.key}: {s.attempts} attempt(s)" for s in info.steps)
        print(f"the store says: {info.status}; {steps}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'runs.db'}"
        effects = str(Path(tmp) / "effects.log")
        print(f"store: {url}")
        first = subprocess.run([sys.executable, __file__, "start", url, effects], check=False)
        print(f"the first process died: exit status {first.returncode} (SIGKILL in step 2)")
        second = subprocess.run([sys.executable, __file__, "recover", url], check=False)
        assert second.returncode == 0, "recovery failed"
        report(Path(effects).read_text(encoding="utf-8").split("\n")[:-1])


def report(lines: list[str]) -> None:
    """Which process ran which step, and the check that completed steps ran once."""
    ran: dict[str, list[str]] = {}
    for line in lines:
        key, pid = line.split()
        ran.setdefault(key, []).append(pid)
    for key, pids in ran.items():
        print(f"  {key} ran in process(es) {', '.join(pids)}")
    once = [f"{RUN_ID}/{i}" for i in (0, 1, 3, 4)]
    assert all(len(ran[k]) == 1 for k in once), ran  # completed steps never ran twice
    assert len(ran[f"{RUN_ID}/2"]) == 2, ran  # the step that was running ran again
    print("steps 0 and 1 were not run again; step 2 ran again (it was running); 3 and 4 once")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "start":
        start(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "recover":
        recover(sys.argv[2])
    else:
        main()
