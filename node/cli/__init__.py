"""The ``bibnetz`` command line: run a node and manage its libraries, measures and accounts."""

from node.cli import (  # noqa: F401  (importing registers the commands)
    database,
    federation,
    index,
    library,
    measures,
    peers,
    serve,
    users,
)
from node.cli.base import main

__all__ = ["main"]
