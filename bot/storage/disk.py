"""Whether the file system under a SQLite database can take writes: not read-only, not full.

A full disk does not fail every statement: SQLite rewrites pages its write-ahead log already holds,
so a small update (a readiness probe) can pass while every insert fails. The file system is asked
directly instead.
"""

from __future__ import annotations

import os
from pathlib import Path

MIN_FREE_BYTES = 1024 * 1024
"""Below this much free space a write may fail at any time (a WAL frame, a new page, a checkpoint)."""


def disk_problem(database: Path | None) -> str | None:
    """Why the file system holding ``database`` cannot take writes, in plain words; ``None`` when it
    can, when there is no file (PostgreSQL, ``:memory:``) or when it cannot be asked."""
    if database is None:
        return None
    try:
        info = os.statvfs(database.parent)
    except OSError:
        return None  # a missing file is FileIdentity's to report
    if info.f_flag & os.ST_RDONLY:
        return f"the file system of {database} is read-only"
    free = info.f_bavail * info.f_frsize
    if free < MIN_FREE_BYTES:
        return f"the disk of {database} is full ({free} bytes free)"
    return None
