"""The ``bibnetz`` command line: run a node and manage its libraries, measures and accounts."""

from node.cli import database, federation, library, measures, serve, users  # noqa: F401  (register)
from node.cli.base import main

__all__ = ["main"]
