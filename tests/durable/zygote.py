"""A parent process that imports jido once and forks the durable suite's children on request.

Starting a Python process and importing jido takes a second or more on a loaded machine;
a fork of this process takes milliseconds, so the crash tests can kill many children.
The zygote itself starts no thread (forking it is safe): it reads one JSON command per
line on stdin, ``{"program": name, "out": path, "kwargs": {...}}``, forks a child that
runs ``durable.programs.<name>(**kwargs)`` with its output in ``out``, and answers
``{"pid": pid}``. Children are reaped by the kernel (SIGCHLD ignored), so a test knows a
child is gone when its pid no longer exists. :class:`Zygote` is the test side.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def main() -> None:
    import jido
    import jido._durable.manager
    import jido._store.sqlite
    from durable import (
        durable_actions,  # noqa: F401 (preloaded for every child)
        programs,
    )

    with contextlib.suppress(ImportError):
        import jido._store.postgres  # noqa: F401
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(programs, cmd)
        print(json.dumps({"pid": pid}), flush=True)


def _child(programs: Any, cmd: dict[str, Any]) -> None:
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        out = os.open(cmd["out"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        sys.stdin = open(os.devnull)  # noqa: SIM115
        getattr(programs, cmd["program"])(**cmd["kwargs"])
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


class Child:
    """A forked child: its pid, its output file; kill it, wait for it."""

    def __init__(self, pid: int, out: Path) -> None:
        self.pid = pid
        self.out = out

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL it and wait until it is gone."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.wait(timeout)

    def wait(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                raise AssertionError(f"child {self.pid} runs after {timeout}s: {self.output()}")
            time.sleep(0.005)

    def output(self) -> str:
        try:
            return self.out.read_text()[-4000:]
        except OSError:
            return ""


class Zygote:
    """The test side: start the zygote, fork children from it (thread-safe)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
        self._lock = threading.Lock()
        self._count = 0
        self.children: list[Child] = []
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "zygote.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        ready = self._reply()
        if "ready" not in ready:
            raise AssertionError(f"the zygote did not start: {ready}")

    def _reply(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"the zygote exited with {self.proc.wait()}")
        return json.loads(line)  # type: ignore[no-any-return]

    def fork(self, program: str, **kwargs: Any) -> Child:
        """Run ``programs.<program>(**kwargs)`` in a new child process."""
        assert self.proc.stdin is not None
        with self._lock:
            self._count += 1
            out = self.tmp / f"child-{self._count}-{program}.out"
            cmd = {"program": program, "out": str(out), "kwargs": kwargs}
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()
            child = Child(self._reply()["pid"], out)
            self.children.append(child)
            return child

    def close(self) -> None:
        for child in self.children:
            child.kill()
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


if __name__ == "__main__":
    sys.path[0] = str(HERE.parent)  # modules of this suite are durable.<name> everywhere
    main()
