"""Follows entities on bol.com: posts each process of a followed entity that reaches a final state, once.

A round lists page 1 of each follow (newest first) and goes on to further pages only while they show
ids never seen before. Announcing is claimed in the store first (one replica posts), the message
carries the process id in its metadata; a post Slack definitely refused releases the claim, one with
no answer keeps it for the ``PostReconciler`` (``adopt`` or ``release``). One failing follow is
logged and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from bot.bol.client import BolClient
from bot.bol.models import ENTITY_PAGE_SIZE, ProcessStatus
from bot.messaging import Announced, MessageKey, MessageRef
from bot.metrics import Metrics
from bot.notifier.failures import NotifierRoundIncomplete, describe
from bot.notifier.reconcile import PostingStore, posting
from bot.slack.outbound.blocks.process_status import process_status_message
from bot.slack.outbound.poster import SlackPoster
from bot.storage.follows import followed_process_of, followed_process_subject
from bot.storage.records import Follow

log = logging.getLogger(__name__)


class FollowStore(PostingStore, Protocol):
    """The store operations the follow notifier uses."""

    async def claim_follow_announcement(self, follow: Follow, process_status_id: str) -> bool: ...

    async def end_post(self, kind: str, subject_id: str) -> None: ...

    async def follow_announcements_due(self, follow: Follow) -> list[str]: ...

    async def follows(self) -> list[Follow]: ...

    async def mark_follow_baselined(self, follow: Follow) -> None: ...

    async def note_follow_processes(self, follow: Follow, seen: Sequence[tuple[str, str]]) -> list[str]: ...

    async def record_followed_process_message(
        self, channel: str, process_status_id: str, ts: str
    ) -> None: ...

    async def release_followed_process(self, channel: str, process_status_id: str) -> None: ...

    async def start_post(
        self, kind: str, subject_id: str, channel: str, *, thread_ts: str | None = None
    ) -> None: ...


MAX_PAGES_PER_ROUND = 20


class EntityFollowNotifier:
    name = "entity_follows"
    announces = Announced.FOLLOWED_PROCESS

    def __init__(
        self,
        bol: BolClient,
        store: FollowStore,
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
            await self._announce(follow, status)
            self._metrics.process_notifications.labels(status.state.value).inc()
            posted += 1
        return posted

    async def _announce(self, follow: Follow, status: ProcessStatus) -> None:
        """Posts the claimed announcement: a definite failure releases the claim, no answer keeps it."""
        subject = followed_process_subject(follow.channel, status.process_status_id)
        kind = self.announces.value
        async with posting(self._store, self, subject):
            await self._store.start_post(kind, subject, follow.channel)
            ts = await self._poster.post(
                follow.channel, *process_status_message(status), key=self.message_key(subject)
            )
        await self.adopt(subject, MessageRef(follow.channel, ts))

    def message_key(self, subject_id: str) -> MessageKey:
        """The metadata of the announcement: the process id (the channel is where it is looked up)."""
        return MessageKey(self.announces, followed_process_of(subject_id)[1])

    async def adopt(self, subject_id: str, ref: MessageRef) -> None:
        """Records the announcement (also one found again after its answer was lost)."""
        channel, process_id = followed_process_of(subject_id)
        await self._store.record_followed_process_message(channel, process_id, ref.ts)
        await self._store.end_post(self.announces.value, subject_id)

    async def release(self, subject_id: str) -> None:
        """The announcement was not posted: the next round posts it."""
        channel, process_id = followed_process_of(subject_id)
        await self._store.end_post(self.announces.value, subject_id)
        await self._store.release_followed_process(channel, process_id)
