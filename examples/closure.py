"""Closures: an action with context and options bound, called later with params.

Run: .venv/bin/python examples/closure.py
"""

from __future__ import annotations

import asyncio
from typing import Any

import jido
from jido.workflow import async_closure, closure


@jido.action(description="Greet someone")
def greet(name: str, context: dict[str, Any]) -> dict[str, Any]:
    return {"greeting": f"{context['greeting']}, {name}!"}


def main() -> None:
    hello = closure(greet, {"greeting": "Hello"}, timeout=1.0, max_retries=0)
    print(hello({"name": "Ada"}))
    print(asyncio.run(hello.arun({"name": "Grace"})))

    # The async variant returns handles at once.
    start = async_closure(greet, {"greeting": "Hi"})
    refs = [start({"name": n}) for n in ("Alan", "Barbara", "Edsger")]
    print([jido.await_(ref)["greeting"] for ref in refs])

    # Mistakes are caught when the closure is made, not at the first call.
    try:
        closure("greet")
    except jido.InvalidActionError as e:
        print(f"{e.type}: {e.message}")
    try:
        closure(greet, retries=3)  # type: ignore[call-arg]  # a typo mypy catches too
    except jido.ConfigError as e:
        print(f"{e.type}: {e.message}")


if __name__ == "__main__":
    main()
