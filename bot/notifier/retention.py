"""Prunes what no one needs any more: closed cards, finished watches, done claims, votes, old audit rows.

Cards, watches and claims go ``keep_for`` after they ended, votes and submitted selections
``keep_for`` after they were made; audit rows are kept unless ``keep_audit_for`` is set. The
cut-offs come from the store's clock.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

log = logging.getLogger(__name__)


class RetentionStore(Protocol):
    """The store operations the retention pruner uses."""

    def now(self) -> datetime: ...

    async def prune_audit(self, older_than: datetime) -> int: ...

    async def prune_closed_cards(self, older_than: datetime) -> int: ...

    async def prune_done_decisions(self, older_than: datetime) -> int: ...

    async def prune_finished_watches(self, older_than: datetime) -> int: ...

    async def prune_votes(self, older_than: datetime) -> int: ...

    async def prune_card_copies(self, older_than: datetime) -> int: ...

    async def prune_bulk_submissions(self, older_than: datetime) -> int: ...


PRUNE_INTERVAL_SECONDS = 3600.0


class RetentionPruner:
    name = "retention"

    def __init__(
        self,
        store: RetentionStore,
        *,
        keep_for: timedelta,
        keep_audit_for: timedelta | None = None,
        interval_seconds: float = PRUNE_INTERVAL_SECONDS,
    ) -> None:
        self._store = store
        self._keep_for = keep_for
        self._keep_audit_for = keep_audit_for
        self.interval_seconds = interval_seconds

    async def poll_once(self) -> int:
        """Prunes once; posts nothing (returns 0)."""
        now = self._store.now()
        pruned = {
            "cards": await self._store.prune_closed_cards(now - self._keep_for),
            "watches": await self._store.prune_finished_watches(now - self._keep_for),
            "claims": await self._store.prune_done_decisions(now - self._keep_for),
            "votes": await self._store.prune_votes(now - self._keep_for),
            "card copies": await self._store.prune_card_copies(now - self._keep_for),
            "submitted selections": await self._store.prune_bulk_submissions(now - self._keep_for),
        }
        if self._keep_audit_for is not None:
            pruned["audit rows"] = await self._store.prune_audit(now - self._keep_audit_for)
        if any(pruned.values()):
            log.info("pruned %s", ", ".join(f"{count} {what}" for what, count in pruned.items() if count))
        return 0
