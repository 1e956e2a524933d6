"""Crash injection: children killed (SIGKILL) at random moments of durable runs; recovered.

Each round (see ``crash.py``) kills a child running a 20-step chain and a plan with
parallel branches (every fifth round kills the child that resumed them too), resumes the
runs here and checks: steps completed at a kill never ran again, at most the steps that
were running ran again, the results are right. Rounds run a few at a time;
``JIDO_TEST_KILLS`` sets how many (25 per store by default).
``benchmarks/soak_durable.py`` runs many more.
"""

from __future__ import annotations

import os
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jido
from durable import crash
from durable.durable_helpers import LEASE
from durable.zygote import Zygote

ROUNDS = int(os.environ.get("JIDO_TEST_KILLS", "25"))
PARALLEL = 3


def test_killed_runs_resume_without_running_completed_steps_again(
    zygote: Zygote, drt: jido.Runtime, store_url: str, tmp_path: Path
) -> None:
    seed = random.randrange(2**32)
    tally = crash.Tally()

    def rounds(worker: int) -> crash.Tally:
        rng = random.Random(seed + worker)
        mine = crash.Tally()
        for n in range(worker, ROUNDS, PARALLEL):
            kills = 2 if n % 5 == 4 else 1
            mine.add(crash.kill_and_recover(zygote, drt, store_url, LEASE, tmp_path, rng, kills))
        return mine

    with ThreadPoolExecutor(PARALLEL) as pool:
        for done in pool.map(rounds, range(PARALLEL)):
            tally.add(done)
    print(f"\n{store_url.partition(':')[0]} (seed {seed}): {tally.summary()}")
    assert not tally.failures, "\n\n".join(tally.failures)
    assert tally.kills >= ROUNDS
    assert tally.resumed >= ROUNDS // 2, "too few kills landed in the middle of a run"
