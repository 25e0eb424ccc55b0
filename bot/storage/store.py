"""The bot's persistent state behind one async API, for SQLite and PostgreSQL alike.

Every "exactly once" guarantee rests on a primary key: a second INSERT fails with IntegrityError in
whichever task or process comes second, never on a read-then-write check. Each table has its own
module (``cards``, ``decisions``, ``audit``, ``watches``) with the rules that govern its rows; ``Store``
is the one facade the rest of the bot uses.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock, utcnow
from bot.error_text import one_line
from bot.storage.audit import AuditRows
from bot.storage.batches import BatchRows
from bot.storage.bulk_submissions import BulkSubmissionRows
from bot.storage.card_copies import CardCopyRows
from bot.storage.cards import CardRows
from bot.storage.decisions import DecisionRows
from bot.storage.digests import DigestRows
from bot.storage.disk import disk_problem
from bot.storage.engine import SQLITE_BUSY_TIMEOUT_MS, create_engine, safe_url, writer
from bot.storage.follows import FollowRows
from bot.storage.followups import FollowupRows
from bot.storage.identity_links import IdentityLinkRows
from bot.storage.migrations import migrate
from bot.storage.post_attempts import PostAttemptRows
from bot.storage.rows import Writer
from bot.storage.snoozes import SnoozeRows
from bot.storage.sqlite_files import FileIdentity
from bot.storage.time_limit import TimeLimit, limit_every_call
from bot.storage.transactions import Transactions
from bot.storage.votes import VoteRows
from bot.storage.watches import WatchRows

log = logging.getLogger(__name__)

CLOSE_MARGIN_SECONDS = 5.0
"""What ``close`` gives the SQLite calls left to end beyond the busy timeout, before it closes anyway."""


@limit_every_call
class Store(
    CardRows,
    DecisionRows,
    WatchRows,
    PostAttemptRows,
    AuditRows,
    BatchRows,
    FollowRows,
    FollowupRows,
    DigestRows,
    IdentityLinkRows,
    VoteRows,
    CardCopyRows,
    SnoozeRows,
    BulkSubmissionRows,
):
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock = utcnow,
        replica: str | None = None,
        time_limit_seconds: float | None = None,
    ) -> None:
        """``replica`` names this bot process's replica (default: the host name); the process gets an
        id of its own, ``<replica>:<boot>``, for the decision claims it takes."""
        self._replica = replica or socket.gethostname()
        self._instance_id = f"{self._replica}:{uuid.uuid4().hex[:12]}"
        self._engine = engine
        self._time_limit = TimeLimit(time_limit_seconds, cancels=engine.dialect.name != "sqlite")
        self._writer = Writer(writer(engine), one_at_a_time=engine.dialect.name == "sqlite")
        self._transactions = Transactions(engine, self._writer)
        self._clock = clock
        self._file = FileIdentity.of(engine.url.database if engine.dialect.name == "sqlite" else None)

    @classmethod
    async def open(
        cls,
        database_url: str,
        *,
        clock: Clock = utcnow,
        replica: str | None = None,
        time_limit_seconds: float | None = None,
    ) -> Store:
        """Creates the engine and migrates the schema (safe to call from several processes at once).

        ``time_limit_seconds`` bounds every later store call and the connection set-up (connect,
        pool checkout); ``None``: no limit.
        """
        engine = create_engine(database_url, time_limit_seconds=time_limit_seconds)
        try:
            revision = await migrate(engine)
        except BaseException:
            await engine.dispose()
            raise
        log.info("database %s ready (schema revision %s)", safe_url(database_url), revision)
        return cls(engine, clock=clock, replica=replica, time_limit_seconds=time_limit_seconds)

    def now(self) -> datetime:
        """The store's clock: the time its timing rules and timestamps use."""
        return self._clock()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def close(self) -> None:
        """Closes the engine, once the calls their callers abandoned have ended (on SQLite; a disk that
        stopped answering is given the busy timeout and a margin, then left behind)."""
        if not await self._time_limit.settle(SQLITE_BUSY_TIMEOUT_MS / 1000 + CLOSE_MARGIN_SECONDS):
            log.warning("closing the database with store calls still running (the disk did not answer)")
        await asyncio.to_thread(self._transactions.close)  # waits for transactions under way
        await self._engine.dispose()

    async def ping(self) -> bool:
        """Whether the store can be written: a real write, committed, and for SQLite the file on disk
        still the one this process opened (a deleted or replaced file takes every later write with it)
        on a file system that is neither read-only nor full.
        """
        problem = self._file.problem() or disk_problem(self._file.path)
        if problem is not None:
            log.warning("database not ready: %s", problem)
            return False
        try:
            await self._time_limit.run(self._write_something(), what="ping")
        except Exception as error:
            log.warning("database not ready: %s", one_line(error))
            return False
        return True

    async def _write_something(self) -> None:
        async with self._writer.begin() as conn:
            # Rewrites Alembic's version row with its own value: a write on every database,
            # refused by a read-only one (file, mount, transaction mode or standby).
            await conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
