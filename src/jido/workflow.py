"""``jido.workflow``: the seed's ``Jido.Workflow`` entry points under their original module name."""

from jido._private.api import arun, await_, cancel, run, run_async

__all__ = ["arun", "await_", "cancel", "run", "run_async"]
