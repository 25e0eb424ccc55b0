"""The two-person rule: distinct approvers' Approve clicks are collected before the one Commerce approve.

Invariant: a vote is a row keyed by (approval, approver), written with its audit row in one
transaction, so an approver votes once however often and wherever they click. The count is read after
the vote's commit: whoever's count reaches the number needed goes on to the decision claim, and the
claim (``bot.storage.decisions``) lets exactly one of them send the approve to Commerce. A voter whose
count already reached it (a send that failed, a click again) goes on to the claim as well, so a failed
send is never stuck behind votes that were already cast.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from bot.commerce.models import Approval, OrderSummary
from bot.messaging import MessageRef
from bot.services.ports import CardPresenter
from bot.storage.records import AuditEntry, DecisionClaim, IdentityLink

log = logging.getLogger(__name__)


class VoteStore(Protocol):
    """The store operations the two-person rule uses."""

    async def cast_vote(self, approval_id: str, slack_user_id: str, entry: AuditEntry) -> bool: ...

    async def get_decision(self, approval_id: str) -> DecisionClaim | None: ...

    async def identity_link(self, slack_user_id: str) -> IdentityLink | None: ...

    async def voters(self, approval_id: str) -> list[str]: ...


@dataclass(frozen=True)
class Tally:
    """The votes on one approval after a click."""

    voters: tuple[str, ...]
    needed: int
    counted: bool
    """Whether this click's vote was new (else the clicker had voted before)."""
    card_updated: bool = True
    people: int | None = None
    """Distinct persons among ``voters``: Slack users linked to one Commerce user count once (``None``:
    one each)."""

    @property
    def approvals(self) -> int:
        """The approvals that count towards ``needed``."""
        return len(self.voters) if self.people is None else self.people

    @property
    def complete(self) -> bool:
        return self.approvals >= self.needed

    @property
    def missing(self) -> int:
        return max(0, self.needed - self.approvals)

    def note(self, voter: str) -> str:
        """For Commerce's comment: who else approved (the voter signs the comment)."""
        others = [v for v in self.voters if v != voter]
        return f"also approved by {', '.join(others)} ({self.approvals} of {self.needed} approvals)"


class TwoPersonRule:
    def __init__(self, store: VoteStore, cards: CardPresenter) -> None:
        self._store = store
        self._cards = cards

    async def vote(
        self,
        approval: Approval,
        order: OrderSummary | None,
        entry: AuditEntry,
        *,
        needed: int,
        on: Sequence[MessageRef],
    ) -> Tally:
        """Casts the approval vote of ``entry``'s Slack user (``entry`` is its audit row) and counts; an
        incomplete count after a new vote is shown on the approval's messages unless a decision is
        already under way (a failed rewrite is logged, and ``card_updated`` False)."""
        voter = entry.slack_user_id
        counted = await self._store.cast_vote(approval.id, voter, entry)
        voters = tuple(await self._store.voters(approval.id))
        tally = Tally(voters, needed, counted, people=await self._people(voters))
        if tally.complete or not counted:
            return tally
        if await self._store.get_decision(approval.id) is not None:
            # Another voter completed the count meanwhile and is deciding: their card must not be
            # drawn over with this older count.
            return tally
        log.info("approval %s: vote %d of %d by %s", approval.id, len(tally.voters), needed, voter)
        try:
            shown = await self._cards.show_votes(approval, order, voters=tally.voters, needed=needed, on=on)
        except Exception:
            log.exception("approval %s: the vote was recorded, but showing it failed", approval.id)
            shown = False
        return tally if shown else replace(tally, card_updated=False)

    async def _people(self, voters: Sequence[str]) -> int:
        """How many persons ``voters`` are: Slack users linked to the same Commerce user are one (two
        Slack accounts of one person never make the two-person rule)."""
        persons = set()
        for voter in voters:
            link = await self._store.identity_link(voter)
            persons.add(("commerce", link.commerce_user_id) if link else ("slack", voter))
        return len(persons)
