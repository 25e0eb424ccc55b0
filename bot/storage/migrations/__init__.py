"""Schema migrations: the Alembic revisions in ``versions/``, run at start and by ``approvals-bot db``.

* :func:`migrate` brings a database to the newest revision in one transaction, serialised between
  processes (``BEGIN IMMEDIATE`` on SQLite, ``pg_advisory_xact_lock`` on PostgreSQL), so replicas
  starting together migrate once.
* A database made before Alembic (its own ``schema_version`` table, at a version in
  ``LEGACY_VERSIONS``) is stamped at the matching revision first, in the same transaction: nothing
  runs twice.
* :func:`where` and :func:`history` say where a database stands and which revisions exist.

Alembic is configured here, in code: the revisions ship inside the package, no ``alembic.ini`` is
read at run time. Alembic itself (with Mako) is imported only when a database is not at the newest
revision, or by ``approvals-bot db``: a start on an up-to-date database reads ``alembic_version``
and compares it with the head named in the revision files (:func:`declared_head`), which is most of
the starts and saves the import of about 70 modules.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.engine import writer

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

# Any fixed 64-bit key works; it only has to be the same in every process of this bot.
MIGRATION_LOCK_KEY = 0x6170_7072_6F76_616C  # "approval"
LEGACY_TABLE = "schema_version"
LEGACY_VERSIONS = {11: "0001", 12: "0002", 13: "0003", 14: "0004"}
"""The old numbering's versions a database may be at, and the revision each one is the same as."""


class SchemaError(RuntimeError):
    """The database's schema is one this bot cannot bring to its own (too old, or newer)."""


@dataclass(frozen=True)
class Revision:
    revision: str
    down_revision: str | None
    description: str


@dataclass(frozen=True)
class Standing:
    """Where a database stands: its revision (``None``: none yet), and the old numbering's version
    for a database made before Alembic that was not carried over yet."""

    revision: str | None
    head: str
    legacy_version: int | None = None

    @property
    def at_head(self) -> bool:
        return self.revision == self.head


VERSIONS = Path(__file__).parent / "versions"
VERSION_TABLE = "alembic_version"
_REVISION = re.compile(r"^revision = \"([^\"]+)\"$", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision = (?:None|\"([^\"]+)\")$", re.MULTILINE)


@cache
def declared_head() -> str | None:
    """The newest revision as the revision files declare it (``revision = "..."``, ``down_revision =
    ...``), read as text without importing Alembic or the revisions; ``None`` when a file does not
    declare both plainly or the revisions do not end in exactly one head (then only Alembic can say).
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in VERSIONS.glob("[0-9]*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        if down.group(1) is not None:
            parents.add(down.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _recorded_revision(conn: Connection) -> str | None:
    """The revision ``alembic_version`` holds, or ``None`` (no table, no row, several rows)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return str(rows[0]) if len(rows) == 1 else None


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the revisions in this package, on ``connection`` when given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision this bot knows."""
    newest = _scripts().get_current_head()
    assert newest is not None, "no revisions in bot/storage/migrations/versions"
    return newest


def history() -> list[Revision]:
    """Every revision, newest first."""
    return [
        Revision(
            script.revision,
            script.down_revision if isinstance(script.down_revision, str) else None,
            (script.doc or "").strip().splitlines()[0] if script.doc else "",
        )
        for script in _scripts().walk_revisions()
    ]


def _standing(conn: Connection) -> Standing:
    from alembic.runtime.migration import MigrationContext

    tables = set(inspect(conn).get_table_names())
    revision = MigrationContext.configure(conn).get_current_revision()
    legacy = None
    if revision is None and LEGACY_TABLE in tables:
        legacy = int(conn.execute(text("SELECT max(version) FROM schema_version")).scalar() or 0)
    return Standing(revision, head(), legacy)


def _carry_over(conn: Connection, standing: Standing) -> str | None:
    """Stamps a database made before Alembic at the revision its old version is the same as; the
    database's revision now."""
    if standing.legacy_version is None:
        return standing.revision
    revision = LEGACY_VERSIONS.get(standing.legacy_version)
    if revision is None:
        known = ", ".join(str(v) for v in sorted(LEGACY_VERSIONS))
        raise SchemaError(
            f"the database is at version {standing.legacy_version} of the old numbering; this bot "
            f"carries over version {known} only: start the release before Alembic (commit 77cc4db) "
            "on it once, then this one"
        )
    log.info(
        "database made before Alembic (schema version %d): stamping it at revision %s",
        standing.legacy_version,
        revision,
    )
    from alembic import command

    command.stamp(alembic_config(conn), revision)
    return revision


def _migrate_sync(conn: Connection) -> str:
    if conn.dialect.name == "postgresql":
        # Held until this transaction ends; a second process waits here, then finds nothing to do.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    newest = declared_head()
    if newest is not None and _recorded_revision(conn) == newest:
        return newest  # the usual start: nothing to do, and no need for Alembic
    from alembic import command
    from alembic.util.exc import CommandError

    standing = _standing(conn)
    revision = _carry_over(conn, standing)
    if standing.at_head:
        return standing.head
    log.info("upgrading the database schema from %s to revision %s", revision or "nothing", standing.head)
    try:
        command.upgrade(alembic_config(conn), "head")
    except CommandError as error:
        raise SchemaError(
            f"database schema is at revision {standing.revision}, which this bot does not know "
            f"(its newest is {standing.head}): upgrade the bot ({error})"
        ) from None
    return standing.head


async def migrate(engine: AsyncEngine) -> str:
    """Creates or upgrades the schema in one transaction; safe to run from several processes at once.

    Returns the revision the database is at now (the newest). Raises :class:`SchemaError` when the
    database is at a revision this bot does not know (a newer bot's) or at an old version it cannot
    carry over.
    """
    async with writer(engine).begin() as conn:
        return await conn.run_sync(_migrate_sync)


async def where(engine: AsyncEngine) -> Standing:
    """Where the database stands, read without changing anything."""
    async with engine.connect() as conn:
        return await conn.run_sync(_standing)
