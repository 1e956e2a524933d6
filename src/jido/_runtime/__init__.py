"""The composition root: the runtime builds the engines, owns every worker, starts runs.

Owns ``Runtime`` (``runtime``: choosing a driver and an engine per call, the default
runtime, shutdown), global defaults and run ids (``config``) and the module-level API
(``api``: ``jido.run`` and friends). May import everything below it (``_core``,
``_observe``, ``_action``, ``_run``, ``_engines``); nothing below imports it.
"""
