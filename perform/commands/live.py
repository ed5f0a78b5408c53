"""`perform live`."""

from __future__ import annotations

import argparse

from perform.errors import PerformError


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise PerformError("not implemented yet")
