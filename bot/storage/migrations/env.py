"""Alembic's environment: runs the revisions on the connection the bot hands over.

The bot (``bot.storage.migrations``) passes its connection, already inside the transaction that
holds the migration lock, as ``config.attributes["connection"]``; the revisions then run in that
transaction. Without one (a developer's ``alembic revision --autogenerate`` with the repository's
``alembic.ini``), a connection to ``sqlalchemy.url`` is opened here.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from bot.storage.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters most things by copying the table: let op.batch_alter_table do it.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite://")
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    _run_online()
