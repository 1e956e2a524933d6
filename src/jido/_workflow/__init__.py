"""Composition: instructions, chains, plans (DAGs), closures and sagas.

A chain or plan runs as one internal action (``composite``; a sync entry point drives it
in the caller's thread, ``here``), so it nests, times out and cancels like a single
action; its steps are ordinary nested runs. May import the runtime and everything below
it.
"""
