"""The action model: what an action is, checked when it is defined.

Owns ``Action`` and the compiled ``ActionSpec`` every driver runs (``action``), the
decorator form for plain typed functions (``function``), pydantic schemas and their
validation (``schema``), and actions by reference, ``module:qualname`` (``refs``). May
import ``jido._core`` and ``jido._observe``.
"""
