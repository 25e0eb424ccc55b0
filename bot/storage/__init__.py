"""Persistence: SQLite by default, PostgreSQL via DATABASE_URL, one code path (SQLAlchemy Core, async)."""
