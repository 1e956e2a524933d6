"""Engines: where an attempt executes, each behind the interface in ``jido._run.engine``.

Owns the interruptible worker-thread pool (``threads``), the supervised pool of killable
child processes (``processes``; one child seen from the parent in ``children``, the
loop inside it in ``child``, the forkserver's preload in ``warm``), what travels to
another process and how it runs there (``remote``), and
the Ray cluster engine (``ray/``, imported only when a runtime asks for it). A new engine
is one module here implementing ``Engine.start`` and an ``AttemptHandle``; it may import
``jido._core``, ``jido._observe``, ``jido._action`` and ``jido._run``, nothing above.
"""
