"""The durable runs suite (a package, so that its conftest shadows no other).

Its modules are imported as ``durable.<name>`` in every process (tests, children, Ray
workers): ``tests`` is on their path.
"""
