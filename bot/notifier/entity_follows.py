"""Follows entities on bol.com: posts each process of a followed entity that reaches a final state, once.

A round lists page 1 of each follow (newest first) and goes on to further pages only while they show
ids never seen before. Announcing is claimed in the store first (one replica posts) and released
when the post fails; one failing follow is logged and the others go on.
"""

from __future__ import annotations

import logging

from bot.bol.client import BolClient
from bot.bol.models import ENTITY_PAGE_SIZE, ProcessStatus
from bot.metrics import Metrics
from bot.notifier.failures import NotifierRoundIncomplete, describe
from bot.slack.outbound.blocks.process_status import process_status_message
from bot.slack.outbound.poster import SlackPoster
from bot.storage.records import Follow
from bot.storage.store import Store

log = logging.getLogger(__name__)

MAX_PAGES_PER_ROUND = 20


class EntityFollowNotifier:
    name = "entity_follows"

    def __init__(
        self,
        bol: BolClient,
        store: Store,
        poster: SlackPoster,
        metrics: Metrics,
        *,
        interval_seconds: float = 15.0,
    ) -> None:
        self._bol = bol
        self._store = store
        self._poster = poster
        self._metrics = metrics
        self.interval_seconds = interval_seconds

    async def poll_once(self) -> int:
        posted = 0
        failed = 0
        for follow in await self._store.follows():
            try:
                posted += await self._poll(follow)
            except Exception as error:
                failed += 1
                log.warning(
                    "could not follow %s %s: %s", follow.entity_id, follow.event_type, describe(error)
                )
        if failed:
            raise NotifierRoundIncomplete(f"{failed} follow(s) failed this round")
        return posted

    async def _poll(self, follow: Follow) -> int:
        listed: dict[str, ProcessStatus] = {}
        for page in range(1, MAX_PAGES_PER_ROUND + 1):
            statuses = await self._bol.get_by_entity(follow.entity_id, follow.event_type, page)
            for listed_status in statuses:
                listed.setdefault(listed_status.process_status_id, listed_status)
            seen = [(s.process_status_id, s.state.value) for s in statuses]
            new = await self._store.note_follow_processes(follow, seen)
            if not new or len(statuses) < ENTITY_PAGE_SIZE:
                break
        if not follow.baselined:
            await self._store.mark_follow_baselined(follow)
        posted = 0
        for process_id in await self._store.follow_announcements_due(follow):
            status = listed.get(process_id)
            if status is None or not await self._store.claim_follow_announcement(follow, process_id):
                continue
            try:
                ts = await self._poster.post(follow.channel, *process_status_message(status))
            except BaseException:
                await self._store.release_follow_announcement(follow, process_id)
                raise
            await self._store.record_follow_announcement(follow, process_id, ts)
            self._metrics.process_notifications.labels(status.state.value).inc()
            posted += 1
        return posted
