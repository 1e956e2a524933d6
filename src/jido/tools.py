"""``jido.tools``: actions as LLM tools (function calling).

- :func:`to_tool`: a tool definition for OpenAI, Anthropic or Gemini, from the action's
  pydantic schema, optionally strict;
- :func:`parameters_schema`: only the JSON schema of the params;
- :func:`execute_tool` / :func:`aexecute_tool`: run a tool call from the provider's
  arguments and return JSON, errors included (never raised for the model's mistakes).

See ``docs/workflows.md`` (Tools).
"""

from jido._tools.convert import (
    DIALECTS,
    Dialect,
    aexecute_tool,
    execute_tool,
    parameters_schema,
    to_tool,
)
from jido._tools.schema import GEMINI_RECURSION_DEPTH

__all__ = [
    "DIALECTS",
    "GEMINI_RECURSION_DEPTH",
    "Dialect",
    "aexecute_tool",
    "execute_tool",
    "parameters_schema",
    "to_tool",
]
