"""Allows ``python -m usguide``."""

from usguide.cli import main

raise SystemExit(main())
