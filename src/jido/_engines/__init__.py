"""Engines: where an attempt executes, each behind the interface in ``jido._run.engine``.

Owns the interruptible worker-thread pool (``threads``), killable child processes
(``processes``), what travels to another process and how it runs there (``remote``), and
the Ray cluster engine (``ray/``, imported only when a runtime asks for it). A new engine
is one module here implementing ``Engine.start`` and an ``AttemptHandle``; it may import
``jido._core``, ``jido._observe``, ``jido._action`` and ``jido._run``, nothing above.
"""
