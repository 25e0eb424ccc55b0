"""Posts the card of a new batch within a second of its creation, off the process-status round.

Batches come in through the API and through ``approvals-bot watch`` (another process, straight into
the database), so the card is not posted from the request: the request answers at once, the CLI has
no Slack client, and with several replicas the store's claim decides who posts. This poller asks
the store every ``interval_seconds`` for batches without a card (one indexed query) and posts them;
the process-status round, which may be minutes apart, only moves cards that exist.
"""

from __future__ import annotations

from bot.notifier.process_batches import BatchProgress

BATCH_CARD_INTERVAL_SECONDS = 1.0


class BatchCards:
    name = "batch_cards"

    def __init__(
        self, progress: BatchProgress, *, interval_seconds: float = BATCH_CARD_INTERVAL_SECONDS
    ) -> None:
        self._progress = progress
        self.interval_seconds = interval_seconds

    async def poll_once(self) -> int:
        """Posts the cards of new batches; returns how many."""
        return await self._progress.post_new_cards()
