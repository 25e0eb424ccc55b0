"""The real bot (``tests.bot_runner.RunningBot``: aiohttp + Bolt + notifier) as a ``Remote`` host.

Timings of polls are taken inside the bot's process; rows the bench only needs as a starting point
(cards already posted, watches) are seeded in bulk straight into the store's tables.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, text

from bench.baselines import SIGNING_SECRET
from bench.emulated import BOT_TOKEN, CHANNEL
from bench.remote import ProcessFigures
from bot.settings import Settings
from bot.storage.records import CardState
from bot.storage.schema import approval_cards, batch_processes, post_attempts, process_batches
from bot.storage.watches import single_watch_batch
from tests.bot_runner import RunningBot

APPROVER = "U_BENCH"
SEED_CHUNK = 5000


class BotHost(ProcessFigures):
    def __init__(self, addresses: dict[str, str], database: str, **settings: Any) -> None:
        """``database``: a SQLite file's path, or a database URL (PostgreSQL)."""
        values: dict[str, Any] = {
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_post_interval_seconds": 0,
            "approvals_channel": CHANNEL,
            "process_status_channel": CHANNEL,
            "approvers": APPROVER,
            "notifier_enabled": False,
            "approvals_backlog_limit": 10_000_000,  # the figures are about cards, not one summary
            "database_url": database if "://" in database else f"sqlite:///{database}",
            "port": 0,
            **addresses,
            **settings,
        }
        self.bot = RunningBot(Settings(_env_file=None, **values))

    def close(self) -> None:
        self.bot.stop()

    def profiled_loop(self) -> asyncio.AbstractEventLoop:
        return self.bot.loop

    def port(self) -> int:
        return self.bot.port

    # -- approvals ---------------------------------------------------------------------------------
    def poll_approvals(self) -> tuple[float, int]:
        """One approvals poll (listing, store lookup, offer; no posting): (ms, cards queued)."""
        started = time.perf_counter()
        self.bot.call(self.bot.runtime.poller("approvals").poll_once(), timeout=600)
        elapsed = (time.perf_counter() - started) * 1000
        return elapsed, len(self.bot.runtime.poller("announcements"))  # type: ignore[arg-type]

    def announce(self) -> tuple[float, int]:
        """The announcer posts its queue: (ms, cards posted)."""
        started = time.perf_counter()
        posted = self.bot.call(self.bot.runtime.poller("announcements").poll_once(), timeout=3600)
        return (time.perf_counter() - started) * 1000, posted

    def seed_cards(self, approval_ids: list[str]) -> None:
        """Cards already posted (state PENDING) for these approvals, as after earlier rounds."""
        now = datetime.now(UTC)
        rows = [
            {
                "approval_id": approval_id,
                "kind": "order",
                "state": CardState.PENDING.value,
                "channel": CHANNEL,
                "ts": f"1600000000.{n:06d}",
                "posted_at": now,
                "updated_at": now,
            }
            for n, approval_id in enumerate(approval_ids)
        ]
        self._seed(approval_cards, rows)

    # -- process statuses ----------------------------------------------------------------------------
    def seed_watches(self, process_ids: list[str]) -> None:
        """Active single watches (batches of one), as ``/process-status watch`` leaves them."""
        now = datetime.now(UTC)
        batch_ids = [uuid.uuid4().hex for _ in process_ids]
        batches = [
            {
                **single_watch_batch(b, i, CHANNEL, APPROVER),
                "created_at": now,
                "changes": 0,
                "shown_changes": 0,
            }
            for b, i in zip(batch_ids, process_ids, strict=True)
        ]
        members = [
            {"batch_id": b, "process_status_id": i, "channel": CHANNEL, "state": "PENDING", "stuck": False}
            for b, i in zip(batch_ids, process_ids, strict=True)
        ]
        self._seed(process_batches, batches)
        self._seed(batch_processes, members)

    def seed_batches(self, process_ids: list[str], card_timestamps: list[str]) -> None:
        """Active batches, one per posted card in ``card_timestamps``, sharing the processes evenly
        (notify failures: a success gets no thread reply), as handed in over the API."""
        now = datetime.now(UTC)
        batches, members = [], []
        per_batch = -(-len(process_ids) // len(card_timestamps))
        for ts, start in zip(card_timestamps, range(0, len(process_ids), per_batch), strict=False):
            batch_id = uuid.uuid4().hex
            batches.append(
                {
                    "batch_id": batch_id,
                    "request_key": batch_id,
                    "channel": CHANNEL,
                    "notify": "failures",
                    "requested_by": APPROVER,
                    "created_at": now,
                    "card_ts": ts,
                    "changes": 0,
                    "shown_changes": 0,
                }
            )
            members += [
                {"batch_id": batch_id, "process_status_id": i, "channel": CHANNEL, "state": "PENDING"}
                | {"stuck": False}
                for i in process_ids[start : start + per_batch]
            ]
        self._seed(process_batches, batches)
        self._seed(batch_processes, members)

    def forget_processes(self) -> None:
        """Empties the process tables (a PostgreSQL database is shared by the sizes of one run)."""

        async def delete_rows() -> None:
            async with self.bot.runtime.store.engine.begin() as conn:
                for table in (batch_processes, process_batches, post_attempts):
                    await conn.execute(delete(table))

        self.bot.call(delete_rows(), timeout=600)

    def poll_processes(self) -> tuple[float, int]:
        """One process-status poll: (ms, messages posted)."""
        started = time.perf_counter()
        poller = self.bot.runtime.poller("process_status")
        posted = self.bot.call(poller.poll_once(), timeout=600)
        return (time.perf_counter() - started) * 1000, posted

    def _seed(self, table: Any, rows: list[dict[str, Any]]) -> None:
        """Inserts ``rows`` in bulk; on PostgreSQL then analyzes the table, as autovacuum does within a
        minute of such a load (without statistics the planner takes 100,000 rows for a few dozen and
        sorts every page of a poll where it would read the index in order)."""

        async def insert_rows() -> None:
            engine = self.bot.runtime.store.engine
            async with engine.begin() as conn:
                for start in range(0, len(rows), SEED_CHUNK):
                    await conn.execute(insert(table), rows[start : start + SEED_CHUNK])
            if engine.dialect.name == "postgresql":
                async with engine.begin() as conn:  # committed: statistics of a rolled back ANALYZE go
                    await conn.execute(text(f"ANALYZE {table.name}"))

        self.bot.call(insert_rows(), timeout=600)
