"""The web view: put some runs in a store, then look at them with ``jido web``.

Run: .venv/bin/python examples/web_view.py [STORE_URL] [--live SECONDS]

It writes into the store (default ``sqlite:///.jido/runs.db``) the journal of a few runs
as a durable runtime records them: a run that timed out once and then succeeded, one
that failed after three attempts, one waiting out its backoff, a chain and a plan in
progress, one that needs attention and one that was cancelled. With ``--live N`` it
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


def _start(store: Store, run_id: str, action: str, kind: str = "action", **extra: Any) -> str:
    run_id = f"{run_id}-{uuid.uuid4().hex[:6]}"
    new = NewRun(
        run_id=run_id,
        kind=kind,  # type: ignore[arg-type]
        action=action,
        definition=extra.get("definition", {"ref": f"app.actions:{action}"}),
        fingerprint="example",
        params=extra.get("params", {"order": 42}),
        context={},
        created_at=time.time(),
    )
    store.start_run(new, owner=OWNER, lease_until=time.time() + 3600)
    return run_id


def _fail(store: Store, run_id: str, n: int, step: str = "", retry_in: float | None = None,
          timeout: bool = False) -> None:
    error: Exception = (
        jido.TimeoutError("timed out after 2.0s", details={"stopped": True, "stop": "interrupt"})
        if timeout
        else jido.ExecutionError("payment gateway answered 503")
    )
    store.attempt_failed(
        run_id, step, n, at=time.time(), error=error, owner=OWNER,
        retry_at=None if retry_in is None else time.time() + retry_in,
        stopped=True if timeout else None, stop="interrupt" if timeout else None,
    )  # fmt: skip


def seed(store: Store) -> dict[str, str]:
    """Record the example runs; their ids by what they show."""
    ids: dict[str, str] = {}
    run = ids["retried"] = _start(store, "resize", "images.resize", params={"w": 640})
    store.attempt_started(run, "", 1, at=time.time(), owner=OWNER)
    _fail(store, run, 1, retry_in=0.2, timeout=True)
    time.sleep(0.25)
    store.attempt_started(run, "", 2, at=time.time(), owner=OWNER)
    store.finish_run(run, owner=OWNER, status="succeeded", at=time.time(),
                     result={"w": 640, "h": 480}, attempt=("", 2))  # fmt: skip

    run = ids["failed"] = _start(store, "charge", "payments.charge", params={"cents": 1999})
    for n in (1, 2, 3):
        store.attempt_started(run, "", n, at=time.time(), owner=OWNER)
        if n < 3:
            _fail(store, run, n, retry_in=0.1)
            time.sleep(0.12)
    store.finish_run(run, owner=OWNER, status="failed", at=time.time(),
                     error=jido.ExecutionError("payment gateway answered 503"),
                     attempt=("", 3))  # fmt: skip

    run = ids["retrying"] = _start(store, "sync", "crm.sync")
    store.attempt_started(run, "", 1, at=time.time(), owner=OWNER)
    _fail(store, run, 1, retry_in=600.0)

    run = ids["chain"] = _start(store, "checkout", "cart.checkout", "chain", definition=CHAIN)
    store.attempt_started(run, "0", 1, at=time.time(), owner=OWNER)
    store.step_succeeded(run, "0", 1, at=time.time(), result={"total": 19.99}, owner=OWNER)
    store.attempt_started(run, "1", 1, at=time.time(), owner=OWNER)

    run = ids["plan"] = _start(store, "thumbnails", "images.pipeline", "plan", definition=PLAN)
    store.attempt_started(run, "fetch", 1, at=time.time(), owner=OWNER)
    store.step_succeeded(run, "fetch", 1, at=time.time(), result={"bytes": 48213}, owner=OWNER)
    store.attempt_started(run, "resize", 1, at=time.time(), owner=OWNER)
    store.attempt_started(run, "classify", 1, at=time.time(), owner=OWNER)
    _fail(store, run, 1, step="classify", retry_in=30.0)

    run = ids["attention"] = _start(store, "report", "reports.build", "chain", definition=CHAIN)
    store.needs_attention(run, reason="the chain's definition changed since it started",
                          at=time.time(), owner=OWNER)  # fmt: skip

    run = ids["cancelled"] = _start(store, "export", "data.export")
    store.attempt_started(run, "", 1, at=time.time(), owner=OWNER)
    store.request_cancel(run, at=time.time())
    store.finish_run(run, owner=OWNER, status="cancelled", at=time.time(),
                     error=jido.CancelledError("cancelled by a caller", details={"stopped": True}),
                     attempt=("", 1))  # fmt: skip

    run = ids["hostile"] = _start(store, "render", "html.render", params={"name": "<b>bold</b>"})
    store.attempt_started(run, "", 1, at=time.time(), owner=OWNER)
    store.finish_run(run, owner=OWNER, status="succeeded", at=time.time(),
                     result={"html": "<script>alert('shown as text')</script>"},
                     attempt=("", 1))  # fmt: skip
    return ids


def live(store: Store, seconds: float) -> None:
    """Start a run every half second and finish it a second later, for ``seconds``."""
    deadline = time.time() + seconds
    running: list[tuple[float, str]] = []
    while time.time() < deadline:
        run = _start(store, "tick", "clock.tick", params={"at": round(time.time(), 1)})
        store.attempt_started(run, "", 1, at=time.time(), owner=OWNER)
        running.append((time.time() + 1.0, run))
        while running and running[0][0] <= time.time():
            _, done = running.pop(0)
            store.finish_run(done, owner=OWNER, status="succeeded", at=time.time(),
                             result={"ok": True}, attempt=("", 1))  # fmt: skip
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
