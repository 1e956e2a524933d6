"""Serving actions to agents over the Model Context Protocol (``jido.mcp``, ``jido mcp serve``).

Owns: an action's MCP tool definition (schemas, annotations), the low-level SDK server
whose ``tools/call`` runs each call through jido (validation, timeout, retries,
cancellation, telemetry), progress notifications routed from jido's telemetry, the
stdio and streamable-HTTP transports with bearer-token checking, and the CLI command.
Also holds :mod:`jido._mcp._internal`, the one module through which ``_mcp`` and
``_adapters`` reach jido's private names.

May import: the public ``jido`` API, :mod:`jido._mcp._internal`, the standard library,
pydantic, and (lazily, from code that needs them) the ``mcp`` SDK, anyio, Starlette
and uvicorn, which come with ``jido[mcp]``.
"""
