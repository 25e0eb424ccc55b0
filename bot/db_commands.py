"""``approvals-bot db upgrade|current|history|backup``: where the database stands, and its upkeep.

Each command takes the ``DATABASE_URL`` and prints plain lines; a refusal is one line on stderr and
a non-zero exit, never a traceback. Only ``upgrade`` changes the schema (as starting the bot does).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.error_text import one_line
from bot.storage.backup import BackupRefused, back_up_sqlite, sqlite_database
from bot.storage.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine, safe_url
from bot.storage.migrations import SchemaError, Standing, history, migrate, where

EXIT_REFUSED = 1


def database_refusal(command: str, database_url: str, error: BaseException) -> str:
    """The one line saying why ``approvals-bot <command>`` could not use the database: its URL with
    the password masked and the error's first line (a busy SQLite file in plain words)."""
    cause = one_line(error)
    if "database is locked" in cause:
        cause = (
            f"it is busy: another process held its write lock for {SQLITE_BUSY_TIMEOUT_MS // 1000} s "
            "(SQLite lets one process write at a time); try again"
        )
    return f"approvals-bot {command}: cannot use the database {safe_url(database_url)}: {cause}"


async def db(database_url: str, args: argparse.Namespace) -> int:
    if args.db_command == "backup":
        return backup(database_url, args.path)
    engine = create_engine(database_url)
    try:
        if args.db_command == "upgrade":
            return await _upgrade(engine, database_url)
        standing = await where(engine)
    except (SQLAlchemyError, OSError) as error:
        print(database_refusal(f"db {args.db_command}", database_url, error), file=sys.stderr)
        return EXIT_REFUSED
    finally:
        await engine.dispose()
    if args.db_command == "current":
        print(f"{safe_url(database_url)}: {describe(standing)}")
    else:
        for revision in history():
            mark = ">" if revision.revision == standing.revision else " "
            newest = " (newest)" if revision.revision == standing.head else ""
            print(f"{mark} {revision.revision}{newest}  {revision.description}")
    return 0


async def _upgrade(engine: AsyncEngine, database_url: str) -> int:
    before = await where(engine)
    try:
        revision = await migrate(engine)
    except SchemaError as error:
        print(f"approvals-bot db upgrade: {error}", file=sys.stderr)
        return EXIT_REFUSED
    if before.revision == revision:
        print(f"{safe_url(database_url)}: already at revision {revision} (the newest)")
    else:
        print(f"{safe_url(database_url)}: upgraded from {_name(before)} to revision {revision} (the newest)")
    return 0


def _name(standing: Standing) -> str:
    if standing.legacy_version is not None:
        return f"schema version {standing.legacy_version} (before Alembic)"
    return f"revision {standing.revision}" if standing.revision else "an empty database"


def describe(standing: Standing) -> str:
    """Where the database stands, and what to do about it, in one line."""
    if standing.legacy_version is not None:
        return (
            f"schema version {standing.legacy_version} of the release before Alembic; the next "
            "`approvals-bot db upgrade` (or start) carries it over"
        )
    if standing.revision is None:
        return "no schema yet; `approvals-bot db upgrade` (or starting the bot) creates it"
    if standing.at_head:
        return f"revision {standing.revision} (the newest)"
    if standing.revision in {r.revision for r in history()}:
        return f"revision {standing.revision}; the newest is {standing.head}: run `approvals-bot db upgrade`"
    return f"revision {standing.revision}, which this bot does not know (a newer bot's?): upgrade the bot"


def backup(database_url: str, target: Path) -> int:
    """Copies a SQLite database to ``target`` and says how to restore it; for PostgreSQL, says how to
    use ``pg_dump`` instead (the bot makes no PostgreSQL backups)."""
    source = sqlite_database(database_url)
    if source is None:
        print(
            "approvals-bot db backup: DATABASE_URL is PostgreSQL; back it up with pg_dump, e.g.\n"
            f"  pg_dump --format=custom --file={target} '{safe_url(database_url)}'\n"
            "Restore the whole database (every table, alembic_version included) into an empty one:\n"
            f"  pg_restore --no-owner --dbname='<empty database URL>' {target}",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    try:
        size = back_up_sqlite(source, target)
    except BackupRefused as refused:
        print(f"approvals-bot db backup: no backup made: {refused}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"backed up {source} to {target} ({size} bytes), consistent as of now.")
    print("To restore: stop the bot, remove", f"{source}-wal and {source}-shm if present,")
    print(f"copy {target} to {source}, and start the bot (it upgrades an older copy's schema).")
    return 0
