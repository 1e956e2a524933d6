"""The web view: put some runs in a store, then look at them with ``jido web``.

Run: .venv/bin/python examples/web_view.py [STORE_URL] [--live SECONDS]

It writes into the store (default ``sqlite:///.jido/runs.db``) the journal of a few runs
as a durable runtime records them: a run that timed out once and then succeeded, one
that failed after three attempts, one waiting out its backoff, a chain and a plan in
progress, one that needs attention, one that was cancelled and one whose result holds
HTML (shown as text). With ``--live N`` it
keeps starting and finishing runs for N seconds, so an open page shows them arrive.
Then it prints the command that serves the page:

    jido web --store sqlite:///.jido/runs.db
"""

from __future__ import annotations

import argparse
import time
import uuid
from typing import Any

import jido
from jido._store import NewRun, Store, open_store

OWNER = f"example:{uuid.uuid4().hex[:6]}"
PLAN = {
    "steps": {
        "fetch": {"action": "images.fetch"},
        "resize": {"action": "images.resize", "deps": ["fetch"]},
        "classify": {"action": "images.classify", "deps": ["fetch"]},
        "publish": {"action": "images.publish", "deps": ["resize", "classify"]},
    }
}
CHAIN = {"steps": [{"action": "cart.price"}, {"action": "cart.pay"}, {"action": "cart.email"}]}


class Journal:
    """Writes runs as a durable runtime records them, at times ``t0 + offset`` seconds."""

    def __init__(self, store: Store, t0: float) -> None:
        self.store = store
        self.t0 = t0

    def start(self, name: str, action: str, at: float, kind: str = "action", **extra: Any) -> str:
        run_id = f"{name}-{uuid.uuid4().hex[:6]}"
        new = NewRun(
            run_id=run_id,
            kind=kind,  # type: ignore[arg-type]
            action=action,
            definition=extra.get("definition", {"ref": f"app.actions:{action}"}),
            fingerprint="example",
            params=extra.get("params", {"order": 42}),
            context={},
            created_at=self.t0 + at,
        )
        self.store.start_run(new, owner=OWNER, lease_until=time.time() + 3600)
        return run_id

    def attempt(self, run_id: str, n: int, at: float, step: str = "") -> None:
        self.store.attempt_started(run_id, step, n, at=self.t0 + at, owner=OWNER)

    def fail(
        self,
        run_id: str,
        n: int,
        at: float,
        retry_at: float | None = None,
        step: str = "",
        timeout: bool = False,
    ) -> None:
        error: Exception = (
            jido.TimeoutError(
                "timed out after 2.0s", details={"stopped": True, "stop": "interrupt"}
            )
            if timeout
            else jido.ExecutionError("payment gateway answered 503")
        )
        self.store.attempt_failed(
            run_id, step, n, at=self.t0 + at, error=error, owner=OWNER,
            retry_at=None if retry_at is None else self.t0 + retry_at,
            stopped=True if timeout else None, stop="interrupt" if timeout else None,
        )  # fmt: skip

    def step_ok(self, run_id: str, step: str, at: float, result: Any) -> None:
        self.store.step_succeeded(run_id, step, 1, at=self.t0 + at, result=result, owner=OWNER)

    def finish(self, run_id: str, status: Any, at: float, attempt: int, **outcome: Any) -> None:
        self.store.finish_run(run_id, owner=OWNER, status=status, at=self.t0 + at,
                              attempt=("", attempt), **outcome)  # fmt: skip


def seed(store: Store) -> dict[str, str]:
    """Record the example runs (over the last minute and a half); their ids by what they show."""
    log = Journal(store, time.time() - 90)
    ids: dict[str, str] = {}
    run = ids["retried"] = log.start("resize", "images.resize", 0, params={"w": 640})
    log.attempt(run, 1, 0.1)
    log.fail(run, 1, 2.1, retry_at=3.1, timeout=True)
    log.attempt(run, 2, 3.1)
    log.finish(run, "succeeded", 3.9, 2, result={"w": 640, "h": 480})

    run = ids["failed"] = log.start("charge", "payments.charge", 5, params={"cents": 1999})
    for n, (begin, end, retry) in enumerate([(5.1, 6.0, 7.0), (7.0, 8.1, 10.1)], start=1):
        log.attempt(run, n, begin)
        log.fail(run, n, end, retry_at=retry)
    log.attempt(run, 3, 10.1)
    log.finish(run, "failed", 11.0, 3, error=jido.ExecutionError("payment gateway answered 503"))

    run = ids["chain"] = log.start("checkout", "cart.checkout", 20, "chain", definition=CHAIN)
    log.attempt(run, 1, 20.1, step="0")
    log.step_ok(run, "0", 21.0, {"total": 19.99})
    log.attempt(run, 1, 21.1, step="1")

    run = ids["plan"] = log.start("thumbnails", "images.pipeline", 30, "plan", definition=PLAN)
    log.attempt(run, 1, 30.1, step="fetch")
    log.step_ok(run, "fetch", 32.0, {"bytes": 48213})
    log.attempt(run, 1, 32.1, step="resize")
    log.attempt(run, 1, 32.1, step="classify")
    log.fail(run, 1, 35.0, step="classify", retry_at=40.0, timeout=True)
    log.attempt(run, 2, 40.0, step="classify")

    run = ids["attention"] = log.start("report", "reports.build", 45, "chain", definition=CHAIN)
    store.needs_attention(run, reason="the chain's definition changed since it started",
                          at=log.t0 + 46, owner=OWNER)  # fmt: skip

    run = ids["cancelled"] = log.start("export", "data.export", 50)
    log.attempt(run, 1, 50.1)
    store.request_cancel(run, at=log.t0 + 55)
    log.finish(
        run,
        "cancelled",
        55.1,
        1,
        error=jido.CancelledError("cancelled by a caller", details={"stopped": True}),
    )

    run = ids["hostile"] = log.start("render", "html.render", 60, params={"name": "<b>x</b>"})
    log.attempt(run, 1, 60.1)
    log.finish(run, "succeeded", 60.3, 1, result={"html": "<script>alert('as text')</script>"})

    run = ids["retrying"] = log.start("sync", "crm.sync", 80)
    log.attempt(run, 1, 80.1)
    log.fail(run, 1, 82.0, retry_at=90 + 600)
    return ids


def live(store: Store, seconds: float) -> None:
    """Start a run every half second and finish it a second later, for ``seconds``."""
    log = Journal(store, 0.0)
    deadline = time.time() + seconds
    running: list[tuple[float, str]] = []
    while time.time() < deadline:
        run = log.start("tick", "clock.tick", time.time(), params={"at": round(time.time(), 1)})
        log.attempt(run, 1, time.time())
        running.append((time.time() + 1.0, run))
        while running and running[0][0] <= time.time():
            log.finish(running.pop(0)[1], "succeeded", time.time(), 1, result={"ok": True})
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", nargs="?", default="sqlite:///.jido/runs.db")
    parser.add_argument("--live", type=float, default=0.0, help="seconds of live runs")
    args = parser.parse_args()
    store = open_store(args.store)
    try:
        ids = seed(store)
        print(f"recorded {len(ids)} runs in {args.store}")
        print(f"now run:  jido web --store {args.store}")
        if args.live > 0:
            print(f"starting a run every 0.5 s for {args.live:g} s: watch them arrive")
            live(store, args.live)
    finally:
        store.close()


if __name__ == "__main__":
    main()
