"""Actions as LLM tools: JSON schemas per provider dialect (``schema``), tool calls (``convert``).

May import ``jido._workflow`` (instructions, option checks), the runtime and below.
"""
