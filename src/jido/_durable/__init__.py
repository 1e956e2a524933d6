"""Durable runs: a runtime with a store journals its runs, resumes them, takes cancels.

Owns what a durable run records to be run again (``definition``: action references,
options, fingerprints), the journal hooks plugged into a run's ``Call`` (``journal``), the
per-runtime manager that starts or joins runs by id, recovers orphans and relays cancels
(``manager``, ``heartbeat``, ``relay``), the registry of resumable kinds (``kinds``: chains
and plans register from ``jido._workflow``) and the public ``rt.runs`` API (``runs``). May
import ``_core``, ``_observe``, ``_action``, ``_store``, ``_run``; it reaches the runtime
only through the object it is given, and is imported only by a runtime that has a store.
"""
