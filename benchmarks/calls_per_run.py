"""Python function calls per run on the core paths (cProfile): a figure load cannot move.

Compare two trees: ``PYTHONPATH=<tree>/src python benchmarks/calls_per_run.py <label>``.
"""

import asyncio
import cProfile
import pstats
import sys
from typing import Any

import jido


class A(jido.Action):
    name = "a"

    async def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"x": 1}


class S(jido.Action):
    name = "s"

    def run(self, params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
        return {"x": 1}


async def main(n: int) -> None:
    for _ in range(n):
        await jido.arun(A, {"y": 1}, timeout=5)


asyncio.run(main(200))
for _ in range(200):
    jido.run(S, {"y": 1}, timeout=0)
    jido.run(S, {"y": 1})


def count(fn: Any) -> int:
    pr = cProfile.Profile()
    pr.enable()
    fn()
    pr.disable()
    return sum(v[1] for v in pstats.Stats(pr).stats.values())


n = 1000
loop = asyncio.new_event_loop()
base = count(lambda: loop.run_until_complete(main(0)))
a = (count(lambda: loop.run_until_complete(main(n))) - base) / n
r = count(lambda: [jido.run(S, {"y": 1}, timeout=0) for _ in range(n)]) / n
t = count(lambda: [jido.run(S, {"y": 1}) for _ in range(n)]) / n
label = sys.argv[1] if len(sys.argv) > 1 else "this tree"
print(f"{label}: calls per arun {a:.1f}, per run(t=0) {r:.1f}, per run(thread) {t:.1f}")
