"""Crash injection: children killed (SIGKILL) at random moments of durable runs; recovered.

Each round (see ``crash.py``) kills a child running a 20-step chain and a plan with
parallel branches, resumes both here and checks: completed steps never ran again, at most
the step that was running ran again, the result is right. Rounds run a few at a time.
``benchmarks/soak_durable.py`` runs many more.
"""

from __future__ import annotations

import os
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import crash
from durable_helpers import LEASE
from zygote import Zygote

import jido

KILLS = int(os.environ.get("JIDO_TEST_KILLS", "25"))
PARALLEL = 3


def test_killed_runs_resume_without_running_completed_steps_again(
    zygote: Zygote, drt: jido.Runtime, store_url: str, tmp_path: Path
) -> None:
    seed = random.randrange(2**32)
    tally = crash.Tally()

    def rounds(worker: int) -> crash.Tally:
        rng = random.Random(seed + worker)
        mine = crash.Tally()
        for _ in range(worker, KILLS, PARALLEL):
            mine.add(crash.kill_and_recover(zygote, drt, store_url, LEASE, tmp_path, rng))
        return mine

    with ThreadPoolExecutor(PARALLEL) as pool:
        for done in pool.map(rounds, range(PARALLEL)):
            tally.add(done)
    print(
        f"\n{store_url.partition(':')[0]}: {tally.kills} kills (seed {seed}); runs resumed "
        f"{tally.resumed}, finished before the kill {tally.finished}, not yet recorded "
        f"{tally.unrecorded}; steps completed before a kill {tally.steps_before} (none ran "
        f"again), steps re-executed {tally.reexecuted}"
    )
    assert not tally.failures, "\n\n".join(tally.failures)
    assert tally.kills == KILLS
    assert tally.resumed >= KILLS // 2, "too few kills landed in the middle of a run"
