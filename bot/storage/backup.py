"""A consistent copy of a live SQLite database, with SQLite's online backup API.

Invariant: the copy is one snapshot of the database (every transaction committed before the copy
began, none after it started), taken while the bot keeps writing: in WAL mode the copy's read
transaction never blocks a writer. The copy is a single file (no ``-wal`` beside it).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.storage.engine import SQLITE_BUSY_TIMEOUT_MS
from bot.storage.sqlite_files import sqlite_file


class BackupRefused(Exception):
    """Why no backup was made, in plain words."""


def sqlite_database(database_url: str) -> Path | None:
    """The file a SQLite ``DATABASE_URL`` names; ``None`` for PostgreSQL (and in-memory SQLite)."""
    return sqlite_file(make_url(database_url))


def back_up_sqlite(source: Path, target: Path) -> int:
    """Copies the SQLite database ``source`` to the new file ``target``; returns its size in bytes.

    Raises :class:`BackupRefused` when ``source`` is not there, ``target`` exists already or the
    copy fails its integrity check (the half-made file is removed).
    """
    if not source.is_file():
        raise BackupRefused(f"there is no database file {source}")
    if target.exists():
        raise BackupRefused(f"{target} exists already: name a new file")
    if not target.parent.is_dir():
        raise BackupRefused(f"the directory {target.parent} does not exist")
    try:
        with (
            closing(sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)) as live,
            closing(sqlite3.connect(target)) as copy,
        ):
            live.backup(copy)  # all pages in one step: one read transaction, one snapshot
            copy.execute("PRAGMA journal_mode = DELETE")  # the copy stands alone, no -wal file
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as error:
        target.unlink(missing_ok=True)
        raise BackupRefused(f"the copy failed: {error}") from None
    if verdict != "ok":
        target.unlink(missing_ok=True)
        raise BackupRefused(f"the copy failed its integrity check: {verdict}")
    return target.stat().st_size
