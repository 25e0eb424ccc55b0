"""The process-status core: watches, batches and follows, for every entry point alike.

The ``/process-status`` command, the ingest API and ``approvals-bot watch`` each turn their input into
a call here and their answer from what comes back; none of them touches the store. Ownership holds
here: a requester cancels only the batch watches and follows it asked for, and a batch watch never
cancels a person's single watch. Follows are capped (each costs one bol.com call a round): in total,
and per requester where the entry point gives a cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.services.process_batches import FollowRequest, WatchRequest
from bot.storage.records import BatchCreated, BatchView, Follow, Notify


class ProcessStatusStore(Protocol):
    """The store operations the core uses (``bot.storage.store.Store`` has them)."""

    async def create_batch(
        self, ids: Sequence[str], channel: str, *, label: str | None, notify: Notify, requested_by: str
    ) -> BatchCreated: ...

    async def batch_view(self, batch_id: str, *, failures: int = 5) -> BatchView | None: ...

    async def recent_batches(self, limit: int = 10) -> list[BatchView]: ...

    async def add_watch(self, process_status_id: str, channel: str, slack_user_id: str) -> bool: ...

    async def remove_watch(self, process_status_id: str, channel: str) -> bool: ...

    async def remove_batch_process(
        self, process_status_id: str, *, requested_by: str | None = None
    ) -> int: ...

    async def add_follow(self, entity_id: str, event_type: str, channel: str, requested_by: str) -> bool: ...

    async def remove_follow(
        self, entity_id: str, event_type: str, channel: str, *, requested_by: str | None = None
    ) -> bool: ...

    async def follow_counts(self, requested_by: str) -> tuple[int, int]: ...

    async def follows(self) -> list[Follow]: ...


class FollowCapReached(Exception):
    """A new follow would pass a cap; nothing was stored."""

    def __init__(self, cap: int, *, total: bool) -> None:
        whose = "all callers together" if total else "one caller"
        super().__init__(f"at most {cap} follows for {whose}")
        self.cap = cap
        self.total = total


@dataclass(frozen=True)
class Followed:
    """``follows`` is how many the requester holds now, ``cap`` its limit (``None``: only the total)."""

    entity_id: str
    event_type: str
    channel: str
    created: bool
    follows: int
    cap: int | None
    total_cap: int


class ProcessStatusService:
    def __init__(
        self, store: ProcessStatusStore, *, default_channel: str, default_notify: Notify, follows_total: int
    ) -> None:
        self._store = store
        self.default_channel = default_channel
        self._default_notify = default_notify
        self._follows_total = follows_total

    # -- single watches (a person's, from Slack) ---------------------------------------------------
    async def watch(self, process_status_id: str, channel: str, requested_by: str) -> bool:
        """Starts a single watch; False when the process is already watched in ``channel``."""
        return await self._store.add_watch(process_status_id, channel, requested_by)

    async def unwatch(self, process_status_id: str, channels: Sequence[str]) -> str | None:
        """Stops the single watch in the first of ``channels`` that has one; the channel, or ``None``."""
        for channel in dict.fromkeys(channels):
            if await self._store.remove_watch(process_status_id, channel):
                return channel
        return None

    # -- batches (the API, the CLI) ----------------------------------------------------------------
    async def ingest(self, request: WatchRequest, *, requested_by: str) -> BatchCreated:
        """Watches ``request``'s ids as one batch; a repeated request finds the batch it created."""
        return await self._store.create_batch(
            request.ids,
            request.channel or self.default_channel,
            label=request.label,
            notify=request.notify or self._default_notify,
            requested_by=requested_by,
        )

    async def cancel(self, process_status_id: str, *, requested_by: str) -> int:
        """Stops the unfinished watches of the id in ``requested_by``'s batches; how many ended."""
        return await self._store.remove_batch_process(process_status_id, requested_by=requested_by)

    async def batch(self, batch_id: str, *, requested_by: str | None, failures: int) -> BatchView | None:
        """The batch, when it exists and (given ``requested_by``) is that requester's; else ``None``."""
        view = await self._store.batch_view(batch_id, failures=failures)
        if view is None or (requested_by is not None and view.batch.requested_by != requested_by):
            return None
        return view

    async def recent_batches(self) -> list[BatchView]:
        return await self._store.recent_batches()

    # -- follows -----------------------------------------------------------------------------------
    async def follow(self, request: FollowRequest, *, requested_by: str, cap: int | None) -> Followed:
        """Follows the entity's event type in the request's channel; raises ``FollowCapReached``
        (storing nothing) when a new follow would pass ``cap`` for the requester or the total cap."""
        channel = request.channel or self.default_channel
        mine, total = await self._store.follow_counts(requested_by)
        full = None
        if cap is not None and mine >= cap:
            full = FollowCapReached(cap, total=False)
        elif total >= self._follows_total:
            full = FollowCapReached(self._follows_total, total=True)
        if full is not None and not await self._followed(request, channel):
            raise full
        created = full is None and await self._store.add_follow(
            request.entity_id, request.event_type, channel, requested_by
        )
        return Followed(
            request.entity_id,
            request.event_type,
            channel,
            created=created,
            follows=mine + int(created),
            cap=cap,
            total_cap=self._follows_total,
        )

    async def _followed(self, request: FollowRequest, channel: str) -> bool:
        key = (request.entity_id, request.event_type, channel)
        return any((f.entity_id, f.event_type, f.channel) == key for f in await self._store.follows())

    async def unfollow(
        self, request: FollowRequest, channels: Sequence[str], *, requested_by: str | None
    ) -> str | None:
        """Stops the follow in the first of ``channels`` that has one (of ``requested_by`` when given);
        the channel, or ``None``."""
        for channel in dict.fromkeys(channels):
            removed = await self._store.remove_follow(
                request.entity_id, request.event_type, channel, requested_by=requested_by
            )
            if removed:
                return channel
        return None
