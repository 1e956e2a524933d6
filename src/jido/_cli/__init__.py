"""The ``jido`` command: argument parsing and commands (``main``), the demo, the live monitor.

The top of the tree: may import anything in jido.
"""
