"""A runtime's durable side: start or join runs by id, journal them, recover, cancel.

One :class:`Durable` per :class:`~jido.Runtime` created with a store. It owns the store
connection, this process's owner id, the lease heartbeat (which also carries cancel
requests from other processes) and the handle of every durable run in flight here.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jido._core.cancel import CancelReason
from jido._core.errors import (
    CancelledError,
    ConfigError,
    ExecutionError,
    InvalidAsyncRefError,
    JidoError,
    TimeoutError,
)
from jido._core.ids import new_run_id
from jido._core.normalize import normalize_context, normalize_params
from jido._durable import single as _single  # noqa: F401 (registers the action kind)
from jido._durable.definition import action_entry, encode_options, fingerprint, stored_context
from jido._durable.heartbeat import Heartbeat
from jido._durable.journal import DurableRun
from jido._durable.kinds import KINDS
from jido._durable.relay import Relay, finished_ref
from jido._run.ref import AsyncRef
from jido._store import SINGLE_STEP, TERMINAL, NewRun, RunRow, open_store
from jido._store.codec import encode, error_from_json
from jido._store.records import check_run_id

if TYPE_CHECKING:
    from jido._run.call import Call

__all__ = ["Durable"]

log = logging.getLogger("jido")


class Durable:
    """The journal, the leases and the in-flight durable runs of one runtime."""

    def __init__(self, runtime: Any, url: str, durability: Any, lease: float) -> None:
        self.runtime = runtime
        self.store = open_store(url, durability)
        self.lease = lease
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lock = threading.Lock()
        self._active: dict[str, AsyncRef] = {}
        self._watches: dict[str, _Watch] = {}
        self._closed = False
        self._heartbeat = Heartbeat(self)
        self._unlisten = self.store.listen(self.cancel_requested)

    # -- starting ----------------------------------------------------------------------------------
    def new_run(
        self,
        kind: Any,
        name: str,
        run_id: str | None,
        definition: dict[str, Any],
        shape: Any,
        params: Any,
    ) -> NewRun:
        """A run to record; a ValidationError if its params cannot be stored."""
        encode(params, "params", "durable runs store their params as JSON")
        return NewRun(
            check_run_id(run_id) if run_id is not None else new_run_id(),
            kind,
            name,
            definition,
            fingerprint(shape),
            params,
            {},
            time.time(),
        )

    def begin(
        self, new: NewRun, first_step: str | None = None
    ) -> tuple[DurableRun | None, AsyncRef, Relay | None]:
        """Record ``new``, or join the run already recorded under its id.

        ``first_step`` is the key of the step that starts at once: its first attempt is
        recorded with the run (one transaction). Returns the run to drive (None when
        joining), its handle, and the handle's relay (attach the driver to it).
        """
        with self._lock:  # one start at a time here: a second start finds the first's handle
            if self._closed:
                raise ConfigError("the runtime's store is closed")
            created, row = self.store.start_run(
                new,
                owner=self.owner,
                lease_until=time.time() + self.lease,
                attempt=None if first_step is None else (first_step, 1),
            )
            if created:
                ref, relay = self._handle(new.action, new.run_id)
                run = DurableRun(self.store, self.owner, new.run_id, new.kind, None, self.lost)
                if first_step is not None:
                    run.prestarted[first_step] = 1
                return run, ref, relay
            local = self._active.get(row.run_id)
        if local is not None:
            return None, local, None
        return None, self.join(row), None

    def start_action(
        self,
        action: object,
        params: object,
        context: object,
        run_id: str | None,
        options: Mapping[str, Any],
    ) -> AsyncRef:
        """Start (or join) a durable single-action run; errors go through the handle."""
        rt = self.runtime
        try:
            if run_id is not None:
                existing = self._existing(check_run_id(run_id))
                if existing is not None:
                    return existing
            spec, opts = rt._resolve(action, options)
            mode = rt._mode(spec, opts)
            definition = {"action": action_entry(spec), "options": encode_options(options)}
            raw = normalize_params(params)
            new = self.new_run("action", spec.name, run_id, definition, definition["action"], raw)
            new = dataclasses.replace(new, context=stored_context(normalize_context(context)))
            call = rt._prepare(spec, opts, params, context, mode, new.run_id)
        except JidoError as exc:
            return finished_ref(_name(action), run_id or "", rt._grace(), exc, False)
        try:
            run, ref, relay = self.begin(new, SINGLE_STEP)
        except JidoError as exc:  # the run's start was reported: report its end
            _report_end(call, exc)
            return finished_ref(_name(action), new.run_id, rt._grace(), exc, False)
        if run is None or relay is None:  # joined a run another start made meanwhile
            ref.add_done_callback(lambda done: _report_end(call, done.exception()))
            return ref
        self.drive(call, mode, run, relay)
        return ref

    def drive(self, call: Call, mode: str, run: DurableRun, relay: Relay) -> None:
        """Drive a single-action run: journal its attempts, continue where it stood."""
        journal = run.step(SINGLE_STEP, call.tracker)
        call.journal = journal
        call.first_attempt, call.resume_delay = run.resume_point(SINGLE_STEP)
        relay.attach(self.runtime._start_call(call, mode), lambda: journal.bad_result)

    def _existing(self, run_id: str) -> AsyncRef | None:
        local = self._active.get(run_id)
        if local is not None:
            return local
        row = self.store.get_run(run_id)
        return None if row is None else self.join(row)

    def _handle(self, action: str, run_id: str) -> tuple[AsyncRef, Relay]:
        ref = AsyncRef(action, run_id, self.runtime._grace())
        relay = Relay(ref)
        ref._bind(relay, None)
        self._active[run_id] = ref
        ref.add_done_callback(self._forget)
        return ref, relay

    def _forget(self, ref: AsyncRef) -> None:
        with self._lock:
            if self._active.get(ref.run_id) is ref:
                del self._active[ref.run_id]

    # -- joining -----------------------------------------------------------------------------------
    def join(self, row: RunRow, take_over: bool = True) -> AsyncRef:
        """The handle of a recorded run: its outcome if finished, else a wait for it.

        ``take_over``: a run whose owner died (now or while waiting) is resumed here, as
        a start of its run_id does; a mere wait (``rt.runs.wait``) only watches.
        """
        grace = self.runtime._grace()
        if row.status in TERMINAL:
            ok, value = self.outcome(row)
            return finished_ref(row.action, row.run_id, grace, value, ok)
        if row.status == "needs_attention":
            return finished_ref(row.action, row.run_id, grace, attention_error(row), False)
        if take_over and row.lease_until is not None and row.lease_until < time.time():
            try:  # its owner is gone: take it over here
                return self.resume(row.run_id)
            except JidoError:
                pass
        return self._watch(row, take_over)

    def outcome(self, row: RunRow) -> tuple[bool, Any]:
        """A finished run's recorded outcome: ``(True, result)`` or ``(False, error)``."""
        if row.status == "succeeded":
            kind = KINDS.get(row.kind)
            return True, kind.decode(row.result) if kind is not None else row.result
        if row.error:
            return False, error_from_json(row.error)
        return False, CancelledError(
            f"run {row.run_id} was cancelled", details={"run_id": row.run_id, "reason": "caller"}
        )

    def _watch(self, row: RunRow, take_over: bool) -> AsyncRef:
        """A handle for a run another process drives: polls the store until it ends.

        One watch (one polling thread) per run, shared by every joiner and waiter here.
        """
        with self._lock:
            watch = self._watches.get(row.run_id)
            if watch is not None and not watch.ref.done():
                watch.take_over = watch.take_over or take_over
                return watch.ref
            ref = AsyncRef(row.action, row.run_id, self.runtime._grace())
            ref._bind(_RemoteCancel(self, row.run_id), None)
            watch = self._watches[row.run_id] = _Watch(ref, take_over)
        ref.add_done_callback(lambda _: self._unwatch(watch))
        threading.Thread(
            target=self._poll, args=(watch,), name=f"jido-watch-{row.run_id}", daemon=True
        ).start()
        return ref

    def _unwatch(self, watch: _Watch) -> None:
        with self._lock:
            if self._watches.get(watch.ref.run_id) is watch:
                del self._watches[watch.ref.run_id]

    def _poll(self, watch: _Watch) -> None:
        ref = watch.ref
        delay = 0.01
        while not ref.done() and not self._closed:
            try:
                row = self.store.get_run(ref.run_id)
            except JidoError as exc:
                ref._set_error(exc)
                return
            if row is None or row.status in TERMINAL or row.status == "needs_attention":
                ref._set_error(_vanished(ref.run_id)) if row is None else self._settle(ref, row)
                return
            if watch.take_over and self._take_over(ref, row):
                return
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        if not ref.done():
            ref._set_error(ConfigError("the runtime's store is closed"))

    def _take_over(self, ref: AsyncRef, row: RunRow) -> bool:
        """The owner of a watched run died: resume it here (one joiner wins the claim)."""
        if row.lease_until is None or row.lease_until >= time.time():
            return False
        try:
            taken = self.resume(row.run_id)
        except JidoError:  # another process claimed it first: keep watching
            return False
        taken.add_done_callback(lambda done: _forward(done, ref))
        return True

    def _settle(self, ref: AsyncRef, row: RunRow) -> None:
        if row.status == "needs_attention":
            ref._set_error(attention_error(row))
            return
        ok, value = self.outcome(row)
        ref._set_result(value) if ok else ref._set_error(value)

    def wait(self, run_id: str, timeout: float | None) -> Any:
        """The run's result (or its error raised), waiting at most ``timeout`` seconds."""
        ref = self._active.get(run_id)
        if ref is None:
            row = self.store.get_run(run_id)
            if row is None:
                raise _unknown(run_id)
            ref = self.join(row, take_over=False)
        if not ref._wait(timeout):
            raise TimeoutError(
                f"run {run_id} did not finish within {timeout:g}s (it goes on)",
                details={"run_id": run_id, "timeout": timeout},
            )
        return ref._outcome()

    # -- recovery ----------------------------------------------------------------------------------
    def recover(self) -> list[AsyncRef]:
        """Claim every run whose owner's lease expired and resume it here."""
        refs: list[AsyncRef] = []
        while True:
            now = time.time()
            rows = self.store.claim_orphans(
                self.owner, now=now, lease_until=now + self.lease, limit=100
            )
            for row in rows:  # a run still driven here (its lease lapsed) keeps its driver
                local = self._active.get(row.run_id)
                refs.append(local if local is not None else self._resume_row(row, recovered=True))
            if len(rows) < 100:
                return refs

    def resume(self, run_id: str) -> AsyncRef:
        """Take over one run (failed, needs attention, or orphaned) and drive it here."""
        local = self._active.get(run_id)
        if local is not None:  # driven here already: a second driver would run it twice
            return local
        _check_not_compensated(self.store.get_run(run_id))
        now = time.time()
        row = self.store.claim(run_id, owner=self.owner, now=now, lease_until=now + self.lease)
        if row is None:
            raise _not_resumable(run_id, self.store.get_run(run_id))
        return self._resume_row(row, recovered=True)

    def _resume_row(self, row: RunRow, recovered: bool) -> AsyncRef:
        history = self.store.get_history(row.run_id)
        run = DurableRun(self.store, self.owner, row.run_id, row.kind, history, self.lost)
        with self._lock:
            ref, relay = self._handle(row.action, row.run_id)
        if row.cancel_requested_at is not None:  # asked of an owner that died: honour it
            error = CancelledError(
                f"run {row.run_id} was cancelled",
                details={"run_id": row.run_id, "reason": "caller"},
            )
            run.finish("cancelled", error=error)
            relay.fail(error)
            return ref
        kind = KINDS.get(row.kind)
        try:
            if kind is None:
                raise LookupError(f"runs of kind {row.kind!r} cannot be resumed by this process")
            kind.resume(self.runtime, row, run, relay)
        except Exception as exc:  # never leave a claimed run without a driver
            reason = _why_not_resumable(exc)
            self.store.needs_attention(row.run_id, reason=reason, at=time.time(), owner=self.owner)
            relay.fail(attention_error(row, reason))
        return ref

    # -- cancel ------------------------------------------------------------------------------------
    def cancel(self, run_id: str) -> bool:
        """Ask for the run to be cancelled, wherever it runs; False if it had already finished."""
        local = self._active.get(run_id)
        if local is not None and local._control is not None:
            local._control.cancel(CancelReason.CALLER)
        requested = self.store.request_cancel(run_id, at=time.time())
        if not requested and self.store.get_run(run_id) is None:
            raise InvalidAsyncRefError(
                f"no run {run_id!r} in the store", details={"run_id": run_id}
            )
        return requested or local is not None

    def cancel_requested(self, run_id: str) -> None:
        """Another process asked to cancel ``run_id``: stop it if it runs here."""
        local = self._active.get(run_id)
        if local is not None and local._control is not None:
            local._control.cancel(CancelReason.CALLER)

    def lost(self, run_id: str) -> None:
        """Another process took ``run_id`` over: stop driving it here."""
        local = self._active.get(run_id)
        if local is not None and local._control is not None:
            local._control.cancel(CancelReason.SHUTDOWN)

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the heartbeat and hand this process's unfinished runs back (leases expired)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._heartbeat.stop()
        if self._unlisten is not None:
            self._unlisten()
        try:
            self.store.release(self.owner)
        except JidoError:
            log.exception("jido could not release the leases of %s", self.owner)
        self.store.close()


class _Watch:
    """A run another process drives, watched here: its handle, and whether to take it over."""

    __slots__ = ("ref", "take_over")

    def __init__(self, ref: AsyncRef, take_over: bool) -> None:
        self.ref = ref
        self.take_over = take_over


class _RemoteCancel:
    """The control of a handle on a run driven elsewhere: a cancel request through the store."""

    __slots__ = ("durable", "run_id")

    def __init__(self, durable: Durable, run_id: str) -> None:
        self.durable = durable
        self.run_id = run_id

    def cancel(self, reason: CancelReason) -> None:
        if reason is CancelReason.SHUTDOWN:
            return
        local = self.durable._active.get(self.run_id)  # taken over here meanwhile
        if local is not None and local._control is not None:
            local._control.cancel(reason)
        self.durable.store.request_cancel(self.run_id, at=time.time())


def _check_not_compensated(row: RunRow | None) -> None:
    """A failed run whose saga undid completed steps cannot go on from those steps."""
    if row is None or row.status != "failed" or not row.error:
        return
    saga = (row.error.get("details") or {}).get("saga")
    if isinstance(saga, list) and any(
        isinstance(r, dict) and r.get("status") == "compensated" for r in saga
    ):
        raise ConfigError(
            f"run {row.run_id} cannot be resumed: its completed steps were compensated "
            "(undone) when it failed; start it again under a new run_id",
            details={"run_id": row.run_id, "status": row.status},
        )


def _why_not_resumable(exc: Exception) -> str:
    """The reason a recorded run cannot be resumed, as ``needs_attention`` shows it."""
    if isinstance(exc, JidoError):
        return exc.message
    if isinstance(exc, LookupError) and not isinstance(exc, KeyError):
        return str(exc)  # the definition's own checks say what changed
    return f"its recorded definition cannot be read ({type(exc).__name__}: {exc})"


def _report_end(call: Call, error: JidoError | None) -> None:
    """End the telemetry of a prepared call that will not run (it joined another, or failed)."""
    if call.tracker is not None:
        call.tracker.run_stop(None, error, 0)


def _forward(source: AsyncRef, target: AsyncRef) -> None:
    """Give ``target`` the outcome of ``source``."""
    error = source.exception()
    if error is not None:
        target._set_error(error)
    else:
        target._set_result(source._value)


def attention_error(row: RunRow, reason: str | None = None) -> JidoError:
    why = reason or row.reason or "unknown"
    return ExecutionError(
        f"run {row.run_id} needs attention: {why}; fix the cause, then resume it "
        "(rt.runs.resume(run_id) or `jido runs resume`)",
        details={"run_id": row.run_id, "status": "needs_attention", "reason": why},
        retryable=False,
    )


def _not_resumable(run_id: str, row: RunRow | None) -> JidoError:
    if row is None:
        return _unknown(run_id)
    return ConfigError(
        f"run {run_id} cannot be resumed: it is {row.status}"
        + (f" (owned by {row.owner})" if row.owner and row.status not in TERMINAL else ""),
        details={"run_id": run_id, "status": row.status},
    )


def _unknown(run_id: str) -> JidoError:
    return InvalidAsyncRefError(f"no run {run_id!r} in the store", details={"run_id": run_id})


def _vanished(run_id: str) -> JidoError:
    return InvalidAsyncRefError(
        f"run {run_id} is no longer in the store (pruned?)", details={"run_id": run_id}
    )


def _name(action: object) -> str:
    name = getattr(action, "name", None)
    return name if isinstance(name, str) and name else type(action).__name__
