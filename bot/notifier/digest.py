"""Posts the daily digest once a day, at the configured time, in the approvals channel.

The day's digest row in the store is claimed before posting (one post across restarts and
replicas); a failed post releases it for the next round. A bot that was down at the digest time
posts it when it comes back, the same day.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import time
from zoneinfo import ZoneInfo

from bot.metrics import Metrics
from bot.schedule import local_day
from bot.slack.outbound.digest import DailyDigest
from bot.slack.outbound.poster import SlackPoster
from bot.storage.db import utcnow
from bot.storage.rows import Clock
from bot.storage.store import Store

log = logging.getLogger(__name__)


class DigestNotifier:
    name = "digest"

    def __init__(
        self,
        store: Store,
        poster: SlackPoster,
        digest: DailyDigest,
        metrics: Metrics,
        *,
        channel: str,
        at: time,
        zone: ZoneInfo,
        clock: Clock = utcnow,
        interval_seconds: float = 60.0,
    ) -> None:
        self._store = store
        self._poster = poster
        self._digest = digest
        self._metrics = metrics
        self._channel = channel
        self._at = at
        self._zone = zone
        self._clock = clock
        self._done_day: str | None = None
        self.interval_seconds = interval_seconds

    async def poll_once(self) -> int:
        """Posts today's digest if it is time and nobody has; returns 1 when this round posted it."""
        now = self._clock()
        if now.astimezone(self._zone).time() < self._at:
            return 0
        day = local_day(now, self._zone).isoformat()
        if day == self._done_day or not await self._store.claim_digest(day, self._channel):
            self._done_day = day
            return 0
        # A shutdown must not cut the post off between Slack and the store (that would post it twice).
        return await asyncio.shield(self._post(day))

    async def _post(self, day: str) -> int:
        """Posts the claimed digest of ``day``; a failed post releases the claim."""
        try:
            text, blocks = await self._digest.compose()
            ts = await self._poster.post(self._channel, text, blocks)
        except BaseException:
            await self._store.release_digest(day, self._channel)
            raise
        await self._store.record_digest_message(day, self._channel, ts)
        self._metrics.followups.labels("digest").inc()
        self._done_day = day
        log.info("posted the digest for %s in %s", day, self._channel)
        return 1
