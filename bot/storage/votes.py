"""Two-person rule votes: one row per (approval, approver); a vote and its audit row are one transaction.

Exactly-once rests on the primary key: of any number of clicks by one approver, on any replica, one
INSERT wins and the rest learn they already voted. Votes are counted in a transaction after the
vote's own commit, so of two approvers voting at once the later count sees both votes (never both
counts only their own). A vote keeps the Commerce user its voter was linked to when it was cast, so
moving a link later never turns one person's vote into another's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from bot.storage.audit import AUDIT_ROW, audit_values
from bot.storage.records import AuditEntry, Vote
from bot.storage.rows import Rows
from bot.storage.schema import approval_votes


class VoteRows(Rows):
    async def cast_vote(self, approval_id: str, vote: Vote, entry: AuditEntry) -> bool:
        """Records ``vote`` with its audit row; False (nothing written) when its Slack user had already
        voted."""
        now = self._clock()
        try:
            async with self._writer.begin() as conn:
                await conn.execute(
                    insert(approval_votes).values(
                        approval_id=approval_id,
                        slack_user_id=vote.slack_user_id,
                        commerce_user_id=vote.commerce_user_id,
                        voted_at=now,
                    )
                )
                await conn.execute(AUDIT_ROW, audit_values(entry, now))
        except IntegrityError:
            return False
        return True

    async def voters(self, approval_id: str) -> list[str]:
        """Who voted to approve ``approval_id``, first vote first."""
        query = (
            select(approval_votes.c.slack_user_id)
            .where(approval_votes.c.approval_id == approval_id)
            .order_by(approval_votes.c.voted_at, approval_votes.c.slack_user_id)
        )
        async with self._engine.connect() as conn:
            return [str(row.slack_user_id) for row in (await conn.execute(query)).all()]

    async def votes(self, approval_id: str) -> list[Vote]:
        """The votes to approve ``approval_id``, first vote first."""
        query = (
            select(approval_votes.c.slack_user_id, approval_votes.c.commerce_user_id)
            .where(approval_votes.c.approval_id == approval_id)
            .order_by(approval_votes.c.voted_at, approval_votes.c.slack_user_id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Vote(str(row.slack_user_id), row.commerce_user_id) for row in rows]

    async def drop_vote(self, approval_id: str, slack_user_id: str, entry: AuditEntry) -> bool:
        """Deletes ``slack_user_id``'s vote with an audit row saying why; False when there was none."""
        now = self._clock()
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(approval_votes).where(
                    approval_votes.c.approval_id == approval_id,
                    approval_votes.c.slack_user_id == slack_user_id,
                )
            )
            if not result.rowcount:
                return False
            await conn.execute(AUDIT_ROW, audit_values(entry, now))
        return True

    async def prune_votes(self, older_than: datetime) -> int:
        """Deletes votes cast before ``older_than``; how many went."""
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(approval_votes).where(approval_votes.c.voted_at < older_than))
        return int(result.rowcount or 0)
