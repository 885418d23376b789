"""Allows ``python -m usguide``."""

from usguide.cli import main

if __name__ == "__main__":  # worker processes started by "spawn" re-import this module
    raise SystemExit(main())
