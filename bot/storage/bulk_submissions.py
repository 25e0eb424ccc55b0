"""Submitted selections (Approve / Reject selected): one row per confirmation view, inserted before the
selection is decided. Inserting it is the right to decide that submission: of two replicas given the
same submission at once (or one given it twice), exactly one runs it and sends its summary.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete

from bot.storage.rows import Rows, insert_unless_present
from bot.storage.schema import bulk_submissions


class BulkSubmissionRows(Rows):
    async def claim_bulk_submission(self, view_id: str, slack_user_id: str) -> bool:
        """Claims the submission of the confirmation ``view_id``; False when it was claimed before."""
        row = {"view_id": view_id, "slack_user_id": slack_user_id, "submitted_at": self._clock()}

        def claim(conn: Connection) -> bool:
            return insert_unless_present(conn, bulk_submissions, row)

        return await self._transactions.write(claim)

    async def prune_bulk_submissions(self, older_than: datetime) -> int:
        """Deletes submissions made before ``older_than`` (a confirmation is submitted within
        minutes, never days later); how many."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(bulk_submissions).where(bulk_submissions.c.submitted_at < older_than)
            )
        return int(result.rowcount or 0)
