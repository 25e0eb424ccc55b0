"""What every table shares: the one ``MetaData`` and the UTC timestamp type.

Invariant: every table the bot reads or writes is declared on ``metadata`` (in a module of this
package) and nowhere else; the Alembic revisions produce exactly these tables.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator

metadata = MetaData()


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that only accepts aware datetimes, stores UTC and always returns aware UTC.

    PostgreSQL hands back ``timestamptz`` in the session time zone; SQLite keeps no zone at all and
    returns naive values. Both come back as UTC-aware datetimes. Storing everything as UTC also keeps
    SQLite's text comparison (``<``) correct.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime (e.g. datetime.now(UTC))")
        utc = value.astimezone(UTC)
        # SQLite's DATETIME format has no zone: store the UTC wall time.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
