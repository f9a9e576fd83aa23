"""The data directory's lock: one node serves from a data directory at a time.

Two servers on one data directory would share the inbox spool (one renaming files the other
still appends to), the keys and an SQLite file whose write lock is held in-process. The
command-line tools (`bibnetz library add`, `bibnetz block`, …) do not take the lock: they
are meant to work beside the running node.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = "serve.lock"


class DataDirInUse(Exception):
    """Another node is serving from this data directory."""


def lock(data_dir: Path) -> int:
    """Take the data directory's lock; the returned descriptor holds it until closed. The
    operating system drops it when the process ends, however it ends."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirInUse(
            f"another bibnetz node is serving from {data_dir}; one data directory serves "
            "one node at a time"
        ) from None
    return fd
