"""``python -m jido``: the same as the ``jido`` command."""

from jido._cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
