"""Allows `python -m perform`."""

from perform.cli import main

raise SystemExit(main())
