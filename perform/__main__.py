"""Allows `python -m perform`."""

from perform.cli import entry

entry()
