"""The vocabulary every other part speaks: errors, options, retry policy, cancellation.

Owns the error tree (``errors``), run options and their validation (``options``), the pure
retry/backoff policy (``policy``, no I/O), the one cancellation token (``cancel``), what a
running action sees of itself (``context``), the normalization of params and context
(``normalize``), how durations meet the clock (``clock``) and the one way to show an
outside value or exception text in a message (``safe``: never raises, bounded). Imports
nothing from jido: everything else imports it.
"""
