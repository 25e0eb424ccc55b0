"""The audit log: one row per decision attempt from Slack, whatever its outcome; never updated."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select

from bot.storage.records import AuditEntry, OrganizationHistory
from bot.storage.rows import Rows, storable
from bot.storage.schema import DECIDED_ACTIONS, audit_log

AUDIT_ROW = insert(audit_log)
"""The INSERT of one audit row, executed with :func:`audit_values` inside any transaction (built once,
so SQLAlchemy's compiled form of it is reused)."""


def audit_values(entry: AuditEntry, now: datetime) -> dict[str, Any]:
    """The row ``entry`` becomes (at ``entry.at``, or ``now``)."""
    return {
        "at": entry.at or now,
        "slack_user_id": storable(entry.slack_user_id),
        "action": entry.action,
        "approval_id": entry.approval_id,
        "outcome": entry.outcome,
        "comment": storable(entry.comment),
        "detail": storable(entry.detail),
        "slack_user_name": storable(entry.slack_user_name),
        "commerce_user_id": entry.commerce_user_id,
        "commerce_logon_id": storable(entry.commerce_logon_id),
        "organization_id": entry.organization_id,
    }


class AuditRows(Rows):
    async def record_audit(self, entry: AuditEntry) -> int:
        now = self._clock()

        def write(conn: Connection) -> int:
            key = conn.execute(AUDIT_ROW, audit_values(entry, now)).inserted_primary_key
            assert key is not None
            return int(key[0])

        return await self._transactions.write(write)

    async def prune_audit(self, older_than: datetime) -> int:
        """Deletes audit rows written before ``older_than``; how many went."""
        async with self._writer.begin() as conn:
            result = await conn.execute(delete(audit_log).where(audit_log.c.at < older_than))
        return int(result.rowcount or 0)

    async def organization_history(self, organization_id: str, days: int) -> OrganizationHistory:
        """How many of ``organization_id``'s approvals the bot approved and rejected (accepted by
        Commerce) in the last ``days``, and the last rejection's reason."""
        since = self._clock() - timedelta(days=days)
        decided = (
            audit_log.c.organization_id == organization_id,
            audit_log.c.outcome == "ok",
            audit_log.c.at >= since,
        )
        counts = (
            select(audit_log.c.action, func.count())
            .where(*decided, audit_log.c.action.in_(DECIDED_ACTIONS))
            .group_by(audit_log.c.action)
        )
        last = (
            select(audit_log.c.at, audit_log.c.comment)
            .where(*decided, audit_log.c.action == "reject")
            .order_by(audit_log.c.id.desc())
            .limit(1)
        )
        async with self._engine.connect() as conn:
            by_action = {action: int(count) for action, count in (await conn.execute(counts)).all()}
            rejection = (await conn.execute(last)).first()
        return OrganizationHistory(
            days,
            approved=by_action.get("approve", 0),
            rejected=by_action.get("reject", 0),
            last_rejection_at=rejection.at if rejection else None,
            last_rejection_reason=rejection.comment if rejection else None,
        )

    async def audit_report(
        self, *, since: datetime | None = None, approval_id: str | None = None
    ) -> list[AuditEntry]:
        """Every audit row, oldest first; only those written at or after ``since`` and only
        ``approval_id``'s when given (for auditors: ``approvals-bot audit``)."""
        query = select(audit_log).order_by(audit_log.c.id)
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        if approval_id is not None:
            query = query.where(audit_log.c.approval_id == approval_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [audit_entry_of(row) for row in rows]


def audit_entry_of(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        slack_user_id=row.slack_user_id,
        action=row.action,
        approval_id=row.approval_id,
        outcome=row.outcome,
        comment=row.comment,
        detail=row.detail,
        at=row.at,
        id=row.id,
        slack_user_name=row.slack_user_name,
        commerce_user_id=row.commerce_user_id,
        commerce_logon_id=row.commerce_logon_id,
        organization_id=row.organization_id,
    )
