"""The databases release 77cc4db left (``tests/fixtures/``), restored for a test, and read whole.

``tests/fixtures/make_upgrade_fixtures.py`` says how they were made and what is in them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, make_url, select

from tests.pg import find_pg_bin

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SQLITE_FIXTURE = FIXTURES / "release-77cc4db.sqlite"
POSTGRES_FIXTURE = FIXTURES / "release-77cc4db.pg.sql"
PENDING_APPROVAL = "10003"
PENDING_CARD_TS = "1764579600.000100"

ROWS_IN_FIXTURE = {
    "approval_cards": 8,
    "decision_claims": 3,
    "approval_votes": 1,
    "approval_followups": 3,
    "daily_digests": 1,
    "audit_log": 5,
    "identity_links": 2,
    "process_batches": 3,
    "batch_processes": 5,
    "entity_follows": 1,
    "entity_follow_processes": 2,
    "bot_instances": 1,
    "post_attempts": 1,
}
"""What the fixture holds, table by table (``process_watches`` is there, empty)."""


def restore_sqlite(directory: Path) -> str:
    """A copy of the SQLite fixture in ``directory``; its URL."""
    copy = directory / "release.db"
    shutil.copyfile(SQLITE_FIXTURE, copy)
    return f"sqlite:///{copy}"


def restore_postgres(empty_database_url: str) -> str:
    """The PostgreSQL dump restored into the empty database (with ``psql``, as an operator would)."""
    bin_dir = find_pg_bin()
    psql = shutil.which("psql") or (str(bin_dir / "psql") if bin_dir else "psql")
    url = make_url(empty_database_url)
    where = ["-h", str(url.host), "-p", str(url.port), "-U", str(url.username), "-d", str(url.database)]
    done = subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", *where, "-f", str(POSTGRES_FIXTURE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return empty_database_url


def every_row(database_url: str) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows as the database has them (its own types), ordered by primary key."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        tables = MetaData()
        tables.reflect(engine)
        with engine.connect() as conn:
            return {
                name: [
                    dict(row._mapping)
                    for row in conn.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for name, table in tables.tables.items()
            }
    finally:
        engine.dispose()


DROPPED = {"schema_version", "process_watches"}
"""Tables the upgrade drops: the old numbering's record and the table emptied long ago."""


def assert_every_row_kept(
    before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]
) -> None:
    """Every row of every table the release had is there after the upgrade, value for value; columns
    and tables added since are empty (NULL)."""
    for name, rows in before.items():
        if name in DROPPED:
            continue
        assert len(after[name]) == len(rows), name
        for old, new in zip(rows, after[name], strict=True):
            assert {column: new[column] for column in old} == old, name
            assert all(new[column] is None for column in set(new) - set(old)), name
    for name in set(after) - set(before) - {"alembic_version"}:
        assert after[name] == [], name
