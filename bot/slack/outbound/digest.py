"""Gathers the daily digest from the store (and card links from Slack); posting it is the poller's job."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError

from bot.clock import Clock, utcnow
from bot.schedule import local_day, local_midnight
from bot.slack.outbound.blocks.digest import DecidedBy, FailedProcess, daily_digest
from bot.slack.outbound.blocks.followups import SUMMARY_LINES, Waiting
from bot.slack.outbound.blocks.types import Message
from bot.slack.outbound.poster import SlackPoster, slack_error_code
from bot.storage.records import AuditEntry, OpenApproval, Watch

log = logging.getLogger(__name__)


class DigestStore(Protocol):
    """The store operations the daily digest reads."""

    async def decisions_between(self, start: datetime, end: datetime) -> list[AuditEntry]: ...

    async def open_approvals(self) -> list[OpenApproval]: ...

    async def watches_finished_between(
        self, start: datetime, end: datetime, states: tuple[str, ...]
    ) -> list[Watch]: ...


FAILED_STATES = ("FAILURE", "TIMEOUT")
FAILURES_SINCE = timedelta(days=1)


class DailyDigest:
    def __init__(
        self, store: DigestStore, poster: SlackPoster, *, zone: ZoneInfo, clock: Clock = utcnow
    ) -> None:
        self._store = store
        self._poster = poster
        self._zone = zone
        self._clock = clock

    async def compose(self) -> Message:
        """Today's digest as of now (days are counted in the digest's time zone)."""
        now = self._clock()
        today = local_day(now, self._zone)
        open_approvals = await self._store.open_approvals()
        oldest = []
        for approval in open_approvals[:SUMMARY_LINES]:
            link = None
            if approval.thread_ts:
                try:
                    link = await self._poster.permalink(approval.channel, approval.thread_ts)
                except SlackApiError as error:
                    log.info("no link to approval %s: %s", approval.approval_id, slack_error_code(error))
            oldest.append(Waiting(approval.approval_id, now - approval.posted_at, link))
        yesterday = await self._store.decisions_between(
            local_midnight(today - timedelta(days=1), self._zone), local_midnight(today, self._zone)
        )
        approved = Counter(e.slack_user_id for e in yesterday if e.action == "approve")
        rejected = Counter(e.slack_user_id for e in yesterday if e.action == "reject")
        deciders = sorted(set(approved) | set(rejected), key=lambda u: (-(approved[u] + rejected[u]), u))
        failed = await self._store.watches_finished_between(now - FAILURES_SINCE, now, FAILED_STATES)
        return daily_digest(
            today,
            pending=len(open_approvals),
            oldest=oldest,
            decided=[DecidedBy(u, approved[u], rejected[u]) for u in deciders],
            failed=[FailedProcess(w.process_status_id, w.last_state or "?", w.slack_user_id) for w in failed],
        )
