"""Posts the daily digest once a day, at the configured time, in the approvals channel.

The day's digest row in the store is claimed before posting (one post across restarts and
replicas) and the message carries the day in its metadata; a post Slack definitely refused releases
it for the next round, one with no answer keeps it for the ``PostReconciler`` (``adopt`` or
``release``). A bot that was down at the digest time posts it when it comes back, the same day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import time
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock, utcnow
from bot.messaging import Announced, MessageKey, MessageRef
from bot.metrics import Metrics
from bot.notifier.reconcile import PostingStore, posting
from bot.schedule import local_day
from bot.shielded import shielded
from bot.slack.outbound.digest import DailyDigest
from bot.slack.outbound.poster import SlackPoster

log = logging.getLogger(__name__)


class DigestPostStore(PostingStore, Protocol):
    """The store operations the digest poller uses."""

    async def claim_digest(self, day: str, channel: str) -> bool: ...

    async def end_post(self, kind: str, subject_id: str) -> None: ...

    async def record_digest_message(self, day: str, channel: str, ts: str) -> None: ...

    async def release_digest(self, day: str, channel: str) -> None: ...

    async def start_post(
        self, kind: str, subject_id: str, channel: str, *, thread_ts: str | None = None
    ) -> None: ...


@dataclass(frozen=True)
class DigestSchedule:
    """Where the daily digest goes, and from what local time of day (in ``zone``) it is due."""

    channel: str
    at: time
    zone: ZoneInfo


class DigestNotifier:
    name = "digest"
    announces = Announced.DAILY_DIGEST

    def __init__(
        self,
        store: DigestPostStore,
        poster: SlackPoster,
        digest: DailyDigest,
        metrics: Metrics,
        *,
        schedule: DigestSchedule,
        clock: Clock = utcnow,
        interval_seconds: float = 60.0,
    ) -> None:
        self._store = store
        self._poster = poster
        self._digest = digest
        self._metrics = metrics
        self._channel = schedule.channel
        self._at = schedule.at
        self._zone = schedule.zone
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
        return await shielded(self._post(day), f"the digest of {day}")

    async def _post(self, day: str) -> int:
        """Posts the claimed digest of ``day``: a definite failure releases the claim, no answer keeps
        it for the reconciler."""
        subject, kind = f"{self._channel}/{day}", self.announces.value
        async with posting(self._store, self, subject):
            text, blocks = await self._digest.compose()
            await self._store.start_post(kind, subject, self._channel)
            ts = await self._poster.post(self._channel, text, blocks, key=self.message_key(subject))
        await self.adopt(subject, MessageRef(self._channel, ts))
        self._metrics.followups.labels("digest").inc()
        self._done_day = day
        log.info("posted the digest for %s in %s", day, self._channel)
        return 1

    def message_key(self, subject_id: str) -> MessageKey:
        """The metadata of the digest ``<channel>/<day>``: its day (it is looked up in its channel)."""
        return MessageKey(self.announces, subject_id.partition("/")[2])

    async def adopt(self, subject_id: str, ref: MessageRef) -> None:
        """Records the digest's message (also one found again after its answer was lost)."""
        channel, _, day = subject_id.partition("/")
        await self._store.record_digest_message(day, channel, ref.ts)
        await self._store.end_post(self.announces.value, subject_id)

    async def release(self, subject_id: str) -> None:
        """The digest was not posted: the next round posts it."""
        channel, _, day = subject_id.partition("/")
        await self._store.end_post(self.announces.value, subject_id)
        await self._store.release_digest(day, channel)
