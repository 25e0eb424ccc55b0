"""Direct-message copies of approval cards: where each went, so every copy follows the card.

Exactly-once rests on the primary key (approval, DM channel): a copy recorded twice is one row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.messaging import MessageRef
from bot.storage.rows import Rows
from bot.storage.schema import card_copies


class CardCopyRows(Rows):
    async def add_card_copy(self, approval_id: str, ref: MessageRef) -> None:
        """Records a copy of ``approval_id``'s card at ``ref`` (once)."""
        try:
            async with self._writer.begin() as conn:
                await conn.execute(
                    card_copies.insert().values(
                        approval_id=approval_id, channel=ref.channel, ts=ref.ts, posted_at=self._clock()
                    )
                )
        except IntegrityError:
            return

    async def card_copies_of(self, approval_id: str) -> list[MessageRef]:
        """Every copy of ``approval_id``'s card, in DM channel order."""
        query = (
            select(card_copies.c.channel, card_copies.c.ts)
            .where(card_copies.c.approval_id == approval_id)
            .order_by(card_copies.c.channel)
        )
        rows = await self._transactions.select(query)  # on every click: one round trip on PostgreSQL
        return [MessageRef(str(row.channel), str(row.ts)) for row in rows]

    async def prune_card_copies(self, older_than: datetime) -> int:
        """Deletes copies posted before ``older_than``; how many went."""
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(card_copies).where(card_copies.c.posted_at < older_than))
        return int(result.rowcount or 0)
