"""The bot's persistent state behind one async API, for SQLite and PostgreSQL alike.

Every "exactly once" guarantee rests on a primary key: a second INSERT fails with IntegrityError in
whichever task or process comes second, never on a read-then-write check. Each table has its own
module (``cards``, ``decisions``, ``audit``, ``watches``) with the rules that govern its rows; ``Store``
is the one facade the rest of the bot uses.
"""

from __future__ import annotations

import logging
import socket
import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.audit import AuditRows
from bot.storage.batches import BatchRows
from bot.storage.cards import CardRows
from bot.storage.db import create_engine, migrate, safe_url, utcnow, writer
from bot.storage.decisions import DecisionRows
from bot.storage.digests import DigestRows
from bot.storage.follows import FollowRows
from bot.storage.followups import FollowupRows
from bot.storage.rows import Clock, Writer
from bot.storage.watches import WatchRows

log = logging.getLogger(__name__)


class Store(CardRows, DecisionRows, AuditRows, WatchRows, BatchRows, FollowRows, FollowupRows, DigestRows):
    def __init__(self, engine: AsyncEngine, *, clock: Clock = utcnow, replica: str | None = None) -> None:
        """``replica`` names this bot process's replica (default: the host name); the process gets an
        id of its own, ``<replica>:<boot>``, for the decision claims it takes."""
        self._replica = replica or socket.gethostname()
        self._instance_id = f"{self._replica}:{uuid.uuid4().hex[:12]}"
        self._engine = engine
        self._writer = Writer(writer(engine), one_at_a_time=engine.dialect.name == "sqlite")
        self._clock = clock

    @classmethod
    async def open(cls, database_url: str, *, clock: Clock = utcnow, replica: str | None = None) -> Store:
        """Creates the engine and migrates the schema (safe to call from several processes at once)."""
        engine = create_engine(database_url)
        try:
            version = await migrate(engine)
        except BaseException:
            await engine.dispose()
            raise
        log.info("database %s ready (schema version %d)", safe_url(database_url), version)
        return cls(engine, clock=clock, replica=replica)

    def now(self) -> datetime:
        """The store's clock: the time its timing rules and timestamps use."""
        return self._clock()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def close(self) -> None:
        await self._engine.dispose()

    async def ping(self) -> bool:
        try:
            async with self._engine.connect() as conn:
                return (await conn.execute(text("SELECT 1"))).scalar() == 1
        except Exception as error:
            log.warning("database ping failed: %s: %s", type(error).__name__, error)
            return False
