"""Files written so that they are either whole or absent, by any number of processes at once.

:func:`atomic_path` yields a temporary path beside the target, named after the writing host and
process (``<name>.<host>.<pid>.<random>.tmp``); when the block ends without error the file is
flushed to disk and renamed over the target (``os.replace`` is atomic on POSIX), else removed.
:func:`writer_is_dead` tells a temporary file left by a killed process from one another live
process is still writing, so that sweeping never deletes live work.
"""

from __future__ import annotations

import os
import socket
import uuid
from contextlib import contextmanager
from pathlib import Path

#: This host, as written into temporary names (which are split on dots).
HOST = socket.gethostname().replace(".", "-")


@contextmanager
def atomic_path(path):
    """A temporary path to write; renamed over ``path`` when the block succeeds."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{HOST}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def writer_is_dead(tmp) -> bool:
    """Whether the process named in a temporary file's name has exited (this host only)."""
    parts = Path(tmp).name.split(".")
    try:
        host, pid = parts[-4], int(parts[-3])
    except (IndexError, ValueError):
        return False  # not one of ours: leave it
    if host != HOST:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False
