"""Running one action: the drivers that take a validated call through its attempts.

Owns the validated ``Call`` (``call``), one attempt in this thread or task (``attempt``),
the three drivers: inline (``inline``), asyncio (``aio``, with the runtime's loop thread)
and event-driven on an engine (``driver``), the small interface engines implement
(``engine``, ``outcome``), the run handle (``ref``), the timer thread (``timers``) and
compensation. May import ``jido._core``, ``jido._observe`` and ``jido._action``; never an
engine or the runtime (it reaches the runtime only through the ``Call`` it is given).
"""
