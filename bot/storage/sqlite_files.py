"""SQLite files: which file a URL names, whether this process can write it, and whether it is still
the file first opened (a deleted or replaced file takes every later write with it).

Invariant: nothing here opens a connection; PostgreSQL and in-memory URLs are never a problem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError


def sqlite_file(url: URL) -> Path | None:
    """The database file of a file-backed SQLite URL; ``None`` for other databases and ``:memory:``."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database).expanduser()


@dataclass(frozen=True)
class FileIdentity:
    """Which file a SQLite database is (device and inode), to notice it being deleted or replaced."""

    path: Path | None
    device_inode: tuple[int, int] | None

    @classmethod
    def of(cls, database: str | None) -> FileIdentity:
        """The identity of the file now; an empty one for PostgreSQL and in-memory databases."""
        if not database or database == ":memory:" or database.startswith("file:"):
            return cls(None, None)
        path = Path(database).expanduser().absolute()
        try:
            stat = path.stat()
        except OSError:
            return cls(path, None)
        return cls(path, (stat.st_dev, stat.st_ino))

    def problem(self) -> str | None:
        """``None`` while the path still names the file first seen; else what happened to it."""
        if self.path is None or self.device_inode is None:
            return None
        now = FileIdentity.of(str(self.path))
        if now.device_inode is None:
            return f"the database file {self.path} is gone"
        if now.device_inode != self.device_inode:
            return f"the database file {self.path} was replaced by another file"
        return None


def ensure_sqlite_parent(url: URL) -> None:
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def sqlite_write_problem(database_url: str) -> str | None:
    """Why this process cannot create or write the SQLite file ``database_url`` names, in plain words.

    ``None`` when it can, and for PostgreSQL and in-memory databases. SQLite needs the directory as
    well as the file: it keeps its WAL and shared-memory files next to the database. Missing
    directories are created only under the working directory.
    """
    try:
        path = sqlite_file(make_url(database_url))
    except ArgumentError:
        return None  # not a URL: opening the store reports it
    if path is None:
        return None
    try:
        if path.exists():
            if path.is_dir():
                return f"{path} is a directory, not a database file"
            if not os.access(path, os.W_OK):
                return f"the database file {path} is not writable"
        existing = path.parent
        while not existing.exists():
            existing = existing.parent
    except OSError as error:
        return f"cannot look into {path.parent}: {error.strerror}"
    if not existing.is_dir():
        return f"{existing} is not a directory"
    if existing != path.parent and not path.parent.resolve().is_relative_to(Path.cwd().resolve()):
        # Creating a tree elsewhere (a typo in DATABASE_URL) would keep the data where nobody looks.
        return f"the directory {path.parent} does not exist (only directories under {Path.cwd()} are created)"
    if not os.access(existing, os.W_OK | os.X_OK):
        if existing == path.parent:
            return f"the directory {existing} is not writable"
        return f"cannot create {path.parent}: {existing} is not writable"
    return None
