"""The Alembic revisions produce exactly the declared tables (``bot.storage.schema``), on both databases."""

# The fixtures are imported from tests.pg, so using them as test parameters "redefines" the names.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, MetaData, String, inspect

from bot.storage.engine import create_engine
from bot.storage.migrations import migrate
from bot.storage.schema import metadata
from tests.pg import database_url, fresh_postgres_url, postgres_url, sqlite_url  # noqa: F401


def differences(database_url: str, declared: MetaData = metadata) -> tuple[list[Any], set[str]]:
    """What Alembic's autogenerate would change to reach the declared schema, after the revisions ran;
    and the tables there are."""

    def compare(conn: Connection) -> tuple[list[Any], set[str]]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, declared), set(inspect(conn).get_table_names())

    async def main() -> tuple[list[Any], set[str]]:
        engine = create_engine(database_url)
        try:
            await migrate(engine)
            async with engine.connect() as conn:
                return await conn.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_the_revisions_create_exactly_the_declared_schema(database_url: str) -> None:
    diff, tables = differences(database_url)
    assert diff == []
    assert tables == set(metadata.tables) | {"alembic_version"}


def test_a_declared_column_without_a_revision_is_noticed(database_url: str) -> None:
    declared = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(declared)
    declared.tables["approval_cards"].append_column(Column("not_in_any_revision", String(10)))
    diff, _ = differences(database_url, declared)
    assert [(entry[0], entry[2], entry[3].name) for entry in diff] == [
        ("add_column", "approval_cards", "not_in_any_revision")
    ]
