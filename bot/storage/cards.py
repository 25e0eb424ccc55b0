"""Approval card rows: one per approval, claimed before posting so a card is posted once.

A card goes POSTING (claimed) -> PENDING (posted) -> APPROVED | REJECTED | DECIDED_ELSEWHERE. A
POSTING claim with a post attempt (``post_attempts``) is settled by reconciling that attempt, never by
age; one without, older than ``STALE_POSTING_AFTER``, was left by a process that died before posting.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, delete, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bot.messaging import Announced
from bot.storage.post_attempts import attempt_exists
from bot.storage.records import CardRecord, CardState
from bot.storage.rows import IN_LIST_CHUNK, Rows, storable
from bot.storage.schema import DECIDED_ACTIONS, approval_cards, audit_log

log = logging.getLogger(__name__)

SUBMITTER_NAME_LIMIT = 200
"""The column's size."""

STALE_POSTING_AFTER = timedelta(minutes=10)
"""Longer than any post takes, Slack rate-limit waits included."""


class CardRows(Rows):
    async def claim_card(self, approval_id: str, kind: str) -> bool:
        """Claims the right to post this approval's card (state POSTING); False if any row exists."""
        try:
            async with self._writer.begin() as conn:
                await conn.execute(
                    insert(approval_cards).values(
                        approval_id=approval_id,
                        kind=kind,
                        state=CardState.POSTING.value,
                        updated_at=self._clock(),
                    )
                )
        except IntegrityError:
            return False
        return True

    async def claim_cards(self, kinds: Mapping[str, str]) -> list[str]:
        """Claims the cards of many approvals at once (``kinds``: approval id -> kind), as
        :meth:`claim_card` claims one: the ids claimed, those with a row already left out. One
        transaction per ``CLAIM_PAGE`` rows (a click waiting to write goes between two), each sent as
        multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` statements (SQLAlchemy's
        "insertmanyvalues", within each driver's parameter limit)."""
        claimed: list[str] = []
        now = self._clock()
        rows = [
            {"approval_id": i, "kind": k, "state": CardState.POSTING.value, "updated_at": now}
            for i, k in kinds.items()
        ]
        for start in range(0, len(rows), CLAIM_PAGE):
            page = rows[start : start + CLAIM_PAGE]
            async with self._writer.begin() as conn:
                if conn.dialect.name == "postgresql":
                    arrays = {
                        "c_ids": [row["approval_id"] for row in page],
                        "c_kinds": [row["kind"] for row in page],
                        "c_at": now,
                    }
                    result = await conn.execute(_CLAIM_MANY_PG, arrays)
                else:
                    result = await conn.execute(_claim_many(conn.dialect.name), page)
                claimed.extend(str(approval_id) for approval_id in result.scalars())
        return claimed

    async def card_posted(
        self,
        approval_id: str,
        channel: str,
        ts: str,
        *,
        submitter_name: str | None = None,
        order_details: str | None = None,
        registrant: str | None = None,
        organization_id: str | None = None,
    ) -> bool:
        """Records where the card went (and the submitter's name, order details, registrant and buyer
        organization it shows). True if it is now PENDING; False if, while it was being posted, the
        approval was decided from Slack (its state is kept, only where it went and what it shows are
        recorded, and the decision's audit row gets the organization its click could not yet see)."""
        now = self._clock()
        where = {
            "channel": channel,
            "ts": ts,
            "posted_at": now,
            "updated_at": now,
            "submitter_name": (storable(submitter_name) or "")[:SUBMITTER_NAME_LIMIT] or None,
            "order_details": storable(order_details),
            "registrant": storable(registrant),
            "organization_id": organization_id,
        }
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(approval_cards)
                .where(
                    approval_cards.c.approval_id == approval_id,
                    approval_cards.c.state == CardState.POSTING.value,
                )
                .values(state=CardState.PENDING.value, **where)
            )
            if result.rowcount == 1:
                return True
            result = await conn.execute(
                update(approval_cards).where(approval_cards.c.approval_id == approval_id).values(**where)
            )
            if result.rowcount == 1:
                await conn.execute(
                    _AUDIT_ORGANIZATION, {"b_approval_id": approval_id, "b_organization_id": organization_id}
                )
                return False
            # The claim was released meanwhile (e.g. treated as stale): record the card anyway so it is
            # tracked; kind is unknown here.
            log.warning("card for approval %s was posted but its claim was gone", approval_id)
            await conn.execute(
                insert(approval_cards).values(
                    approval_id=approval_id, kind="unknown", state=CardState.PENDING.value, **where
                )
            )
            return True

    async def card_shows_order_details(
        self, approval_id: str, order_details: str, organization_id: str | None
    ) -> None:
        """The card was rewritten with its order's details (they came after it was posted); a decision
        recorded meanwhile gets the organization they name."""
        change = (
            update(approval_cards)
            .where(approval_cards.c.approval_id == approval_id)
            .values(order_details=storable(order_details), organization_id=organization_id)
        )

        def record(conn: Connection) -> None:
            conn.execute(change)
            conn.execute(
                _AUDIT_ORGANIZATION, {"b_approval_id": approval_id, "b_organization_id": organization_id}
            )

        await self._transactions.write(record)

    async def release_card(self, approval_id: str) -> None:
        """Deletes a POSTING claim (the post failed) so a later poll posts the card again."""
        async with self._writer.begin() as conn:
            await conn.execute(
                delete(approval_cards).where(
                    approval_cards.c.approval_id == approval_id,
                    approval_cards.c.state == CardState.POSTING.value,
                )
            )

    async def release_cards(self, approval_ids: Collection[str]) -> None:
        """Deletes these POSTING claims (a summary of them could not be posted): one statement per
        ``IN_LIST_CHUNK`` ids."""
        ids = list(dict.fromkeys(approval_ids))
        async with self._writer.begin() as conn:
            for start in range(0, len(ids), IN_LIST_CHUNK):
                await conn.execute(
                    delete(approval_cards).where(
                        approval_cards.c.approval_id.in_(ids[start : start + IN_LIST_CHUNK]),
                        approval_cards.c.state == CardState.POSTING.value,
                    )
                )

    async def release_stale_card_claims(self) -> list[str]:
        """Releases POSTING claims older than ``STALE_POSTING_AFTER`` that never started a post (nothing
        reached Slack); the approval ids released."""
        stale = await self.stale_posting_cards(self._clock() - STALE_POSTING_AFTER)
        for card in stale:
            log.warning("approval %s was claimed but never posted; it will be posted again", card.approval_id)
            await self.release_card(card.approval_id)
        return [card.approval_id for card in stale]

    async def get_card(self, approval_id: str) -> CardRecord | None:
        return await self._transactions.read(lambda conn: card_in(conn, approval_id))

    async def known_card_ids(self, approval_ids: Collection[str]) -> set[str]:
        """Which of these approvals already have a card row (in any state): one query per 500 ids."""
        ids = list(dict.fromkeys(approval_ids))
        known: set[str] = set()
        async with self._engine.connect() as conn:
            for start in range(0, len(ids), IN_LIST_CHUNK):
                chunk = ids[start : start + IN_LIST_CHUNK]
                result = await conn.execute(
                    select(approval_cards.c.approval_id).where(approval_cards.c.approval_id.in_(chunk))
                )
                known.update(str(row[0]) for row in result)
        return known

    async def open_cards(self) -> list[CardRecord]:
        """Posted cards whose approval is not decided yet (state PENDING), oldest first."""
        return await self._cards_in(CardState.PENDING)

    async def open_cards_page(self, *, after: str | None, limit: int) -> list[CardRecord]:
        """At most ``limit`` posted cards whose approval is not decided yet (state PENDING), by approval
        id after ``after``: one short query a page, so a reader never holds every open card."""
        query = (
            select(approval_cards)
            .where(approval_cards.c.state == CardState.PENDING.value)
            .order_by(approval_cards.c.approval_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(approval_cards.c.approval_id > after)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [card_of(row) for row in rows]

    async def stale_posting_cards(self, older_than: datetime) -> list[CardRecord]:
        """POSTING claims older than ``older_than`` (aware) without a post attempt: left behind by a crash
        between claim and post."""
        return await self._cards_in(
            CardState.POSTING,
            approval_cards.c.updated_at < older_than,
            ~attempt_exists(Announced.APPROVAL_CARD.value, approval_cards.c.approval_id),
        )

    async def _cards_in(self, state: CardState, *where: Any) -> list[CardRecord]:
        query = (
            select(approval_cards)
            .where(approval_cards.c.state == state.value, *where)
            .order_by(approval_cards.c.posted_at, approval_cards.c.updated_at, approval_cards.c.approval_id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [card_of(row) for row in rows]

    async def prune_closed_cards(self, older_than: datetime) -> int:
        """Deletes cards whose approval was decided before ``older_than``; how many went."""
        closed = [CardState.APPROVED.value, CardState.REJECTED.value, CardState.DECIDED_ELSEWHERE.value]
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(approval_cards).where(
                    approval_cards.c.state.in_(closed), approval_cards.c.updated_at < older_than
                )
            )
        return int(result.rowcount or 0)

    async def set_card_state(self, approval_id: str, state: CardState) -> CardRecord | None:
        """Moves the card to ``state`` whatever it was; the card as it is now (``None``: no card)."""
        async with self._writer.begin() as conn:
            await conn.execute(
                update(approval_cards)
                .where(approval_cards.c.approval_id == approval_id)
                .values(state=state.value, updated_at=self._clock())
            )
            row = (
                await conn.execute(select(approval_cards).where(approval_cards.c.approval_id == approval_id))
            ).first()
        return None if row is None else card_of(row)

    async def transition_card(self, approval_id: str, from_state: CardState, to_state: CardState) -> bool:
        """Compare-and-set: moves the card to ``to_state`` only if it is in ``from_state``."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(approval_cards)
                .where(
                    approval_cards.c.approval_id == approval_id, approval_cards.c.state == from_state.value
                )
                .values(state=to_state.value, updated_at=self._clock())
            )
        return result.rowcount == 1


CLAIM_PAGE = 5_000
"""Claims in one transaction: about a tenth of a second of writing, so a click's claim waits no longer."""


@functools.cache
def _claim_many(dialect_name: str) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING approval_id``, built once per dialect."""
    insert_of = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    statement: Insert = (
        insert_of(approval_cards)
        .on_conflict_do_nothing()
        .returning(approval_cards.c.approval_id)
        .execution_options(insertmanyvalues_page_size=CLAIM_PAGE)
    )
    return statement


def _claim_many_pg() -> Insert:
    """``_claim_many`` on PostgreSQL: the ids and kinds as two arrays, unnested by the server, so a page
    of claims is one short statement (pages of multi-row ``VALUES`` were most of a 50,000-card claim's
    time). Built once."""
    text_array = postgresql.ARRAY(approval_cards.c.approval_id.type)
    pairs = (
        func.unnest(bindparam("c_ids", type_=text_array), bindparam("c_kinds", type_=text_array))
        .table_valued("approval_id", "kind")
        .render_derived(name="claims")
    )
    rows = select(
        pairs.c.approval_id,
        pairs.c.kind,
        literal(CardState.POSTING.value, type_=approval_cards.c.state.type),
        bindparam("c_at", type_=approval_cards.c.updated_at.type),
    )
    statement: Insert = (
        postgresql.insert(approval_cards)
        .from_select(["approval_id", "kind", "state", "updated_at"], rows)
        .on_conflict_do_nothing()
        .returning(approval_cards.c.approval_id)
    )
    return statement


_CLAIM_MANY_PG = _claim_many_pg()

_SHOWN_ORGANIZATION = bindparam("b_organization_id", type_=audit_log.c.organization_id.type)
_AUDIT_ORGANIZATION = (
    update(audit_log)
    .where(
        audit_log.c.approval_id == bindparam("b_approval_id"),
        audit_log.c.action.in_(DECIDED_ACTIONS),
        audit_log.c.organization_id.is_(None),
        _SHOWN_ORGANIZATION.is_not(None),
    )
    .values(organization_id=_SHOWN_ORGANIZATION)
)
"""A decision recorded before its card showed its buyer organization gets it (whichever of the two
the store records first, the audit row ends up naming it)."""

_CARD_OF = select(approval_cards).where(approval_cards.c.approval_id == bindparam("approval_id"))
"""Built once (a bound parameter): read on every click, its compiled form is reused."""


def card_in(conn: Connection, approval_id: str) -> CardRecord | None:
    """The approval's card, read inside any transaction."""
    row = conn.execute(_CARD_OF, {"approval_id": approval_id}).first()
    return None if row is None else card_of(row)


def card_of(row: Any) -> CardRecord:  # a Row of approval_cards, or its part of a folded one
    return CardRecord(
        approval_id=row.approval_id,
        kind=row.kind,
        state=CardState(row.state),
        channel=row.channel,
        ts=row.ts,
        posted_at=row.posted_at,
        updated_at=row.updated_at,
        submitter_name=row.submitter_name,
        order_details=row.order_details,
        registrant=row.registrant,
        organization_id=row.organization_id,
    )
