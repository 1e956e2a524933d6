"""The Ray engine: driver side (``driver``), connecting (``connect``), worker side (``worker``).

Imported only when a runtime is created with ``jido.engines.Ray(...)``: it needs Ray.
"""
