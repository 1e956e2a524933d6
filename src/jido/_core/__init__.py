"""The vocabulary every other part speaks: errors, options, retry policy, cancellation.

Owns the error tree (``errors``), run options and their validation (``options``), the pure
retry/backoff policy (``policy``, no I/O), the one cancellation token (``cancel``), what a
running action sees of itself (``context``) and the normalization of params and context
(``normalize``), and how durations meet the clock (``clock``). Imports nothing from jido:
everything else imports it.
"""
