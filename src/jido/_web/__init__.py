"""The web view of durable runs: ``jido web`` (the ``jido[web]`` extra).

This package owns the ASGI app that serves one static page (HTML, CSS and vanilla JS
shipped in :mod:`.static`, no build step, no CDN) and its JSON API over a durable store:
the runs list and a run's history (:mod:`.present`, :mod:`.query`), live updates as
Server-Sent Events from the store's change feed (:mod:`.feed`), the token, host and CSRF
checks (:mod:`.security`), the actions it offers behind a small injectable interface
(:mod:`.actions`) and the ``jido web`` command (:mod:`.cli`). It sits at the top of the
tree, beside the CLI: it may import the standard library, Starlette and uvicorn (only
when the app is built or served), the public ``jido`` names, the store
(:mod:`jido._store`) and the redaction telemetry uses; nothing imports it but the CLI.
"""

from __future__ import annotations
