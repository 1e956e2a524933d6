"""Actions as the tools of agent frameworks: pydantic-ai, the OpenAI Agents SDK, LangChain.

Owns one module per framework (each imports its framework at module level, so it is
imported only when that adapter is used) and :mod:`common`, the framework-free part:
an action bound to its run options, run through jido on each call, and the texts a
model reads for a failure. Tool definitions and error bodies come from :mod:`jido._mcp`
(shared with the MCP server).

May import: the public ``jido`` API, :mod:`jido._mcp._internal`, :mod:`jido._mcp.tools`,
:mod:`jido._mcp.results`, and the framework its module adapts to.
"""
