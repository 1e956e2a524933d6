"""``jido.adapters``: actions as the tools of agent frameworks.

- :mod:`jido.adapters.pydantic_ai`: ``toolset(actions, **run_defaults)``, a pydantic-ai
  toolset (``pip install "jido[pydantic-ai]"``);
- :mod:`jido.adapters.openai_agents`: ``tools(actions, **run_defaults)``, a list of
  ``FunctionTool`` for the OpenAI Agents SDK (``pip install "jido[openai-agents]"``);
- :mod:`jido.adapters.langchain`: ``tools(actions, **run_defaults)``, a list of
  ``StructuredTool`` (``pip install "jido[langchain]"``).

Every call is a jido run with the same guarantees as anywhere else: validation,
timeouts that stop sync work too, retries, and cancellation (also when the framework
cancels the task awaiting the tool). A model's invalid arguments come back as the
framework's "fix your arguments" signal; other failures as its tool-error result,
never as an exception that ends the agent's run.
"""

__all__: list[str] = []
