"""Decision claim rows: one per approval, so of any number of clicks only one talks to Commerce.

A claim is IN_PROGRESS while its owner process decides, UNKNOWN when the decision was sent and no
answer came back, and DONE once Commerce has it; DONE claims stay, so later clicks learn who decided.
A claim is never released once the decision was sent. A dead claim (UNKNOWN, or IN_PROGRESS with a
dead owner process) is taken over by the next claimant, which re-reads the approval first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from bot.storage import folded
from bot.storage.audit import AUDIT_ROW, audit_values
from bot.storage.cards import card_in, card_of
from bot.storage.identity_links import link_in, link_of
from bot.storage.instances import InstanceRows
from bot.storage.records import (
    AuditEntry,
    CardRecord,
    CardState,
    ClaimedDecision,
    DecisionClaim,
    DecisionState,
    RecordedDecision,
)
from bot.storage.rows import CLAIM_ATTEMPTS, insert_unless_present
from bot.storage.schema import approval_cards, decision_claims, identity_links

log = logging.getLogger(__name__)

ABANDONED_CLAIM_AFTER = timedelta(minutes=5)
"""For claims without an owner (taken before owners were recorded): longer than any decision takes."""


class DecisionRows(InstanceRows):
    async def claim_decision_reading(
        self, approval_id: str, slack_user_id: str, action: str
    ) -> ClaimedDecision:
        """Atomically claims the decision for this process, reading in the same transaction what a
        decision needs next: the approval's card and the claimant's identity link.

        A dead claim (see ``claim_is_dead``) is dropped and claimed afresh: the caller re-reads the
        approval before acting anyway, and Commerce's comment says who decided if someone did.
        """
        claimed = await self._insert_claim(approval_id, slack_user_id, action)
        existing = claimed.in_the_way
        if existing is None or not await self.claim_is_dead(existing):
            return claimed
        if await self._drop_claim(existing):
            log.warning(
                "approval %s: took over a %s decision claim of %s",
                approval_id,
                existing.state.value,
                existing.slack_user_id,
            )
        return await self._insert_claim(approval_id, slack_user_id, action)

    async def claim_is_dead(self, claim: DecisionClaim) -> bool:
        """A claim nobody is working on: its answer was lost (UNKNOWN), its owner process is dead, or,
        for a claim from before owners were recorded, it is older than ``ABANDONED_CLAIM_AFTER``."""
        if claim.state is DecisionState.UNKNOWN:
            return True
        if claim.state is not DecisionState.IN_PROGRESS:
            return False
        if claim.owner is None:
            return claim.claimed_at < self._clock() - ABANDONED_CLAIM_AFTER
        return not await self.is_alive(claim.owner)

    async def _drop_claim(self, claim: DecisionClaim) -> bool:
        """Compare-and-delete: drops ``claim`` only if it is still the row as read."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(decision_claims).where(
                    decision_claims.c.approval_id == claim.approval_id,
                    decision_claims.c.state == claim.state.value,
                    decision_claims.c.claimed_at == claim.claimed_at,
                )
            )
        return bool(result.rowcount)

    async def _insert_claim(self, approval_id: str, slack_user_id: str, action: str) -> ClaimedDecision:
        claim = {
            "approval_id": approval_id,
            "slack_user_id": slack_user_id,
            "action": action,
            "state": DecisionState.IN_PROGRESS.value,
            "claimed_at": self._clock(),
            "owner": self._instance_id,
        }

        def claim_and_read(conn: Connection) -> ClaimedDecision | _Released:
            in_the_way = None
            if not insert_unless_present(conn, decision_claims, claim):
                in_the_way = _claim_row(conn, approval_id)
                if in_the_way is None:
                    return RELEASED
            return ClaimedDecision(in_the_way, card_in(conn, approval_id), link_in(conn, slack_user_id))

        for _ in range(CLAIM_ATTEMPTS):
            # A click waits on this one: it goes first, in one transaction (one round trip on PostgreSQL).
            if self._transactions.one_round_trip:
                claimed = await self._claim_and_read_alone(claim, slack_user_id)
            else:
                claimed = await self._transactions.write(claim_and_read, first=True)
            if not isinstance(claimed, _Released):
                return claimed
            # The claim in the way was released between our INSERT and the read: try again.
        raise RuntimeError(f"could not claim the decision on approval {approval_id}: claim kept flapping")

    async def _claim_and_read_alone(
        self, claim: dict[str, object], slack_user_id: str
    ) -> ClaimedDecision | _Released:
        parameters = {f"n_{name}": value for name, value in claim.items()}
        parameters.update(b_approval_id=claim["approval_id"], b_slack_user_id=slack_user_id)
        (row,) = await self._transactions.alone(folded.CLAIM_AND_READ, parameters)
        in_the_way = None
        if not row.claimed:
            found = folded.present(row, folded.CLAIM, decision_claims)
            if found is None:
                return RELEASED
            in_the_way = _claim_of(found)
        card = folded.present(row, folded.CARD, approval_cards)
        link = folded.present(row, folded.LINK, identity_links)
        return ClaimedDecision(
            in_the_way, None if card is None else card_of(card), None if link is None else link_of(link)
        )

    async def mark_decision_unknown(self, approval_id: str, audit: AuditEntry | None) -> None:
        """The decision was sent and no answer came back: the claim stays (UNKNOWN, never released),
        with ``audit`` in the same transaction if given; the next read of the approval settles it.
        Only a claim still IN_PROGRESS changes: one already DONE (Commerce's answer was recorded before
        the task ended) stays DONE, and then no audit row is written."""
        now = self._clock()

        def mark(conn: Connection) -> None:
            marked = conn.execute(
                update(decision_claims)
                .where(
                    decision_claims.c.approval_id == approval_id,
                    decision_claims.c.state == DecisionState.IN_PROGRESS.value,
                )
                .values(state=DecisionState.UNKNOWN.value)
            )
            if marked.rowcount and audit is not None:
                conn.execute(AUDIT_ROW, audit_values(audit, now))

        await self._transactions.write(mark)

    async def settle_decision(
        self, approval_id: str, slack_user_id: str, action: str, card_state: CardState, audit: AuditEntry
    ) -> RecordedDecision:
        """A decision whose answer was lost turned out to be in Commerce (its comment names the Slack
        user): the claim becomes DONE in that user's name, the card moves to ``card_state`` and the
        audit row is written, in one transaction. A claim already DONE (its click recorded it) is left
        as it is and nothing is written (``first`` is False)."""
        now = self._clock()

        def settle(conn: Connection) -> RecordedDecision:
            claim = _claim_row(conn, approval_id)
            if claim is not None and claim.state is DecisionState.DONE:
                return RecordedDecision(card_in(conn, approval_id), first=False)
            conn.execute(delete(decision_claims).where(decision_claims.c.approval_id == approval_id))
            conn.execute(
                insert(decision_claims).values(
                    approval_id=approval_id,
                    slack_user_id=slack_user_id,
                    action=action,
                    state=DecisionState.DONE.value,
                    claimed_at=now,
                    owner=self._instance_id,
                )
            )
            return RecordedDecision(_move_card_and_audit(conn, approval_id, card_state, audit, now))

        return await self._transactions.write(settle)

    async def get_decision(self, approval_id: str) -> DecisionClaim | None:
        return await self._transactions.read(lambda conn: _claim_row(conn, approval_id))

    async def decision_under_way(self, approval_id: str) -> bool:
        """Whether a live decision from Slack holds the approval right now (not a dead claim)."""
        claim = await self.get_decision(approval_id)
        return (
            claim is not None
            and claim.state is DecisionState.IN_PROGRESS
            and not await self.claim_is_dead(claim)
        )

    async def own_open_decisions(self) -> list[str]:
        """Approval ids of the decisions this process claimed and did not settle (in progress, or sent
        with no answer), oldest claim first: at shutdown, the decisions left unknown."""

        def read(conn: Connection) -> list[str]:
            rows = conn.execute(
                select(decision_claims.c.approval_id)
                .where(
                    decision_claims.c.owner == self._instance_id,
                    decision_claims.c.state != DecisionState.DONE.value,
                )
                .order_by(decision_claims.c.claimed_at)
            )
            return [str(row.approval_id) for row in rows]

        return await self._transactions.read(read)

    async def record_decision(
        self, approval_id: str, card_state: CardState, audit: AuditEntry
    ) -> RecordedDecision:
        """Commerce accepted the decision: in one transaction the claim becomes DONE, the card (if
        any) moves to ``card_state`` and the audit row is written. A claim some other round made DONE
        meanwhile (the close round credited it from Commerce's comment) is left as it is and nothing
        is written (``first`` is False)."""
        now = self._clock()

        def record(conn: Connection) -> RecordedDecision:
            done_now = conn.execute(_CLAIM_DONE, {"b_approval_id": approval_id}).first() is not None
            if not done_now and _claim_row(conn, approval_id) is not None:  # DONE before: recorded
                return RecordedDecision(card_in(conn, approval_id), first=False)
            return RecordedDecision(_move_card_and_audit(conn, approval_id, card_state, audit, now))

        if self._transactions.one_round_trip:
            recorded = await self._record_alone(approval_id, card_state, audit, now)
            if recorded is not None:
                return recorded
        return await self._transactions.write(record)

    async def _record_alone(
        self, approval_id: str, card_state: CardState, audit: AuditEntry, now: datetime
    ) -> RecordedDecision | None:
        """``record_decision`` as one statement; ``None`` when it wrote nothing and the claim was
        neither DONE nor left as it was (it went, or changed under it): then the transaction of
        several statements decides, as it always did."""
        parameters = {f"a_{name}": value for name, value in audit_values(audit, now).items()}
        parameters.update(b_approval_id=approval_id, b_state=card_state.value, b_now=now)
        (row,) = await self._transactions.alone(folded.RECORD, parameters)
        if row.marked:
            assert row.audited
            moved = folded.present(row, folded.MOVED, approval_cards)
            return RecordedDecision(None if moved is None else card_of(moved))
        if row.claim_state == DecisionState.DONE.value:  # DONE before: recorded
            card = folded.present(row, folded.CARD, approval_cards)
            return RecordedDecision(None if card is None else card_of(card), first=False)
        return None

    async def prune_done_decisions(self, older_than: datetime) -> int:
        """Deletes DONE claims taken before ``older_than``; how many went."""
        async with self._writer.begin() as conn:
            result = await conn.execute(
                delete(decision_claims).where(
                    decision_claims.c.state == DecisionState.DONE.value,
                    decision_claims.c.claimed_at < older_than,
                )
            )
        return int(result.rowcount or 0)

    async def release_decision(self, approval_id: str, *, claimed_before: datetime | None = None) -> bool:
        """Drops an IN_PROGRESS claim (the Commerce call failed) so it can be retried. DONE claims stay.

        With ``claimed_before`` (aware) only a claim older than that goes: one abandoned by a process
        that died mid-decision. Returns whether a claim was dropped.
        """
        conditions = [
            decision_claims.c.approval_id == approval_id,
            decision_claims.c.state == DecisionState.IN_PROGRESS.value,
        ]
        if claimed_before is not None:
            conditions.append(decision_claims.c.claimed_at < claimed_before)
        return await self._transactions.write(
            lambda conn: bool(conn.execute(delete(decision_claims).where(*conditions)).rowcount)
        )


class _Released:
    """The claim in the way was gone by the time it was read."""


RELEASED = _Released()


# Built once (bound parameters; an UPDATE's may not be named as a column): SQLAlchemy reuses their
# compiled form on every click.
_CLAIM_OF = select(decision_claims).where(decision_claims.c.approval_id == bindparam("approval_id"))
_CLAIM_DONE = (
    update(decision_claims)
    .where(
        decision_claims.c.approval_id == bindparam("b_approval_id"),
        decision_claims.c.state != DecisionState.DONE.value,
    )
    .values(state=DecisionState.DONE.value)
    .returning(decision_claims.c.approval_id)  # none: already DONE (or taken over), nothing to record
)
_CARD_MOVED = (
    update(approval_cards)
    .where(approval_cards.c.approval_id == bindparam("b_approval_id"))
    .values(state=bindparam("b_state"), updated_at=bindparam("b_now"))
    .returning(*approval_cards.c)  # the card as it is now, without a SELECT of its own
)


def _claim_row(conn: Connection, approval_id: str) -> DecisionClaim | None:
    row = conn.execute(_CLAIM_OF, {"approval_id": approval_id}).first()
    return None if row is None else _claim_of(row)


def _claim_of(row: Any) -> DecisionClaim:  # a Row of decision_claims, or its part of a folded one
    return DecisionClaim(
        approval_id=row.approval_id,
        slack_user_id=row.slack_user_id,
        action=row.action,
        state=DecisionState(row.state),
        claimed_at=row.claimed_at,
        owner=row.owner,
    )


def _claim_done(conn: Connection, approval_id: str) -> None:
    conn.execute(_CLAIM_DONE, {"b_approval_id": approval_id}).all()


def _move_card_and_audit(
    conn: Connection, approval_id: str, card_state: CardState, audit: AuditEntry, now: datetime
) -> CardRecord | None:
    """Inside a decision's transaction: the card (if any) moves to ``card_state`` and the audit row
    is written, naming the buyer organization the card shows now unless ``audit`` names one. Returns
    the card as it is now."""
    row = conn.execute(
        _CARD_MOVED, {"b_approval_id": approval_id, "b_state": card_state.value, "b_now": now}
    ).first()
    values = audit_values(audit, now)
    if values["organization_id"] is None and row is not None:
        values["organization_id"] = row.organization_id
    conn.execute(AUDIT_ROW, values)
    return None if row is None else card_of(row)
