"""Observability: telemetry events, OpenTelemetry spans and metrics, redaction.

Owns the handler registry, ``attach``/``detach`` and the containment of a handler that
raises (``handlers``), the per-run ``Tracker`` the drivers report through
(``telemetry``), the OpenTelemetry bridge, imported lazily and never setting a global
provider (``otel``), and the masking of secrets in values and text (``redact``). May
import ``jido._core`` only.
"""
