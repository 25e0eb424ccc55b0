"""Identity links: which Commerce user a Slack user is. One row per Slack user; a new link replaces
the old one (an operator correcting a link), and unlinking deletes the row.

Invariant: one Slack user per Commerce user, held by a unique index (never by a read before the
write), so two links to one Commerce user made at the same moment are never both stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.storage.records import IdentityLink
from bot.storage.rows import Rows
from bot.storage.schema import identity_links


class CommerceUserLinked(Exception):
    """The Commerce user is linked to another Slack user (the unique index refused the link)."""

    def __init__(self, holder: IdentityLink) -> None:
        self.holder = holder
        super().__init__(f"{holder.commerce_logon_id} is already linked to {holder.slack_user_id}")


class IdentityLinkRows(Rows):
    async def link_identity(self, link: IdentityLink) -> IdentityLink | None:
        """Stores ``link`` for its Slack user, replacing any link they had; the replaced link, if any.
        :class:`CommerceUserLinked` when another Slack user holds that Commerce user.

        Two links written at once for one Slack user (two clicks auto-linking): the primary key lets
        one INSERT win and the other becomes an UPDATE; the later write stays. Two links to one
        Commerce user: the unique index lets one win, the other is refused."""
        try:
            return await self._write_link(link)
        except IntegrityError:
            holder = await self._holder_of(link)
            if holder is not None:
                raise CommerceUserLinked(holder) from None
        try:
            return await self._write_link(link)
        except IntegrityError:
            holder = await self._holder_of(link)
            if holder is None:
                raise
            raise CommerceUserLinked(holder) from None

    async def _holder_of(self, link: IdentityLink) -> IdentityLink | None:
        """Another Slack user's link to ``link``'s Commerce user, if there is one."""
        links = await self.identity_links_to(link.commerce_user_id)
        return next((held for held in links if held.slack_user_id != link.slack_user_id), None)

    async def _write_link(self, link: IdentityLink) -> IdentityLink | None:
        values = {
            "commerce_logon_id": link.commerce_logon_id,
            "commerce_user_id": link.commerce_user_id,
            "linked_by": link.linked_by,
            "linked_at": link.linked_at or self._clock(),
        }
        async with self._writer.begin() as conn:
            old = (
                await conn.execute(
                    select(identity_links).where(identity_links.c.slack_user_id == link.slack_user_id)
                )
            ).first()
            if old is None:
                await conn.execute(insert(identity_links).values(slack_user_id=link.slack_user_id, **values))
                return None
            await conn.execute(
                update(identity_links)
                .where(identity_links.c.slack_user_id == link.slack_user_id)
                .values(**values)
            )
            return link_of(old)

    async def unlink_identity(self, slack_user_id: str) -> IdentityLink | None:
        """Deletes the Slack user's link; the link that was deleted, ``None`` when there was none."""
        async with self._writer.begin() as conn:
            old = (
                await conn.execute(
                    select(identity_links).where(identity_links.c.slack_user_id == slack_user_id)
                )
            ).first()
            if old is None:
                return None
            await conn.execute(delete(identity_links).where(identity_links.c.slack_user_id == slack_user_id))
            return link_of(old)

    async def identity_link(self, slack_user_id: str) -> IdentityLink | None:
        """The Slack user's link; ``None`` when they are not linked."""
        return await self._transactions.read(lambda conn: link_in(conn, slack_user_id))

    async def identity_links_to(self, commerce_user_id: str) -> list[IdentityLink]:
        """The links to one Commerce user, by Slack user id (at most one: the unique index)."""
        query = (
            select(identity_links)
            .where(identity_links.c.commerce_user_id == commerce_user_id)
            .order_by(identity_links.c.slack_user_id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [link_of(row) for row in rows]

    async def identity_links(self) -> list[IdentityLink]:
        """Every link, by Slack user id."""
        query = select(identity_links).order_by(identity_links.c.slack_user_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [link_of(row) for row in rows]


_LINK_OF = select(identity_links).where(identity_links.c.slack_user_id == bindparam("slack_user_id"))
"""Built once (a bound parameter): read on every click, its compiled form is reused."""


def link_in(conn: Connection, slack_user_id: str) -> IdentityLink | None:
    """The Slack user's link, read inside any transaction."""
    row = conn.execute(_LINK_OF, {"slack_user_id": slack_user_id}).first()
    return None if row is None else link_of(row)


def link_of(row: Any) -> IdentityLink:
    return IdentityLink(
        slack_user_id=row.slack_user_id,
        commerce_logon_id=row.commerce_logon_id,
        commerce_user_id=row.commerce_user_id,
        linked_by=row.linked_by,
        linked_at=row.linked_at,
    )
