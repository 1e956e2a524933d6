"""Instructions: every way of writing "an action with its params, context and options".

Run: .venv/bin/python examples/instructions.py
"""

from __future__ import annotations

from typing import Any

import jido
from jido.workflow import Instruction, check_allowed, normalize


@jido.action(description="Send an email")
def send_email(to: str, subject: str, context: dict[str, Any]) -> dict[str, Any]:
    return {"sent_to": to, "by": context["tenant"]}


@jido.action(description="Delete every record (dangerous)")
def drop_everything() -> dict[str, Any]:
    return {"dropped": True}


def main() -> None:
    # Every accepted form; the shared context is merged into each (and wins).
    steps = normalize(
        [
            send_email,
            (send_email, {"to": "ada@example.org"}),
            (send_email, {"to": "bob@example.org"}, {"trace": "t-1"}),
            (send_email, {"to": "cy@example.org"}, {}, {"timeout": 2.0, "max_retries": 0}),
            Instruction(send_email, {"to": "di@example.org", "subject": "Hi"}),
        ],
        context={"tenant": "acme"},
    )
    for step in steps:
        print(step)

    # An instruction is an immutable value that can run itself.
    hello = steps[4]
    print("run:", hello.run())

    # Malformed input says where and what.
    try:
        normalize([send_email, (send_email, {"to": "x"}), "send_email"])
    except jido.ValidationError as e:
        print("error:", e.message, e.details)

    # Allow-lists: refuse plans that use actions you did not allow.
    try:
        check_allowed([send_email, drop_everything], allowed=[send_email])
    except jido.ConfigError as e:
        print("refused:", e.message, e.details)


if __name__ == "__main__":
    main()
