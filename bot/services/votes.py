"""The two-person rule: distinct approvers' Approve clicks are collected before the one Commerce approve.

Invariants: a vote is a row keyed by (approval, approver), written with its audit row in one
transaction, so an approver votes once however often and wherever they click. A vote keeps the Commerce
user its voter was linked to when it was cast; persons are counted by those Commerce users and by Slack
users, whichever is stricter (two votes sharing either are one person, so moving a link never makes a
second vote). The count is read after the vote's own commit; when it reaches the number needed, every
earlier voter is asked again, from the source, whether they still decide this route: a stale vote is
dropped (audited, shown on the card, told to its voter) and the count is not complete. Only a complete
count of current approvers goes on to the decision claim (``bot.storage.decisions``), which lets
exactly one of them send the approve to Commerce. A voter whose count already reached it (a send that
failed, a click again) goes on to the claim as well, so a failed send is never stuck behind votes that
were already cast.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from bot.commerce.models import Approval, OrderSummary
from bot.messaging import MessageRef
from bot.services.ports import ApproverDirectory, CardPresenter, UserNotices
from bot.storage.records import AuditEntry, DecisionClaim, IdentityLink, Vote

log = logging.getLogger(__name__)


class VoteStore(Protocol):
    """The store operations the two-person rule uses."""

    async def cast_vote(self, approval_id: str, vote: Vote, entry: AuditEntry) -> bool: ...

    async def drop_vote(self, approval_id: str, slack_user_id: str, entry: AuditEntry) -> bool: ...

    async def get_decision(self, approval_id: str) -> DecisionClaim | None: ...

    async def identity_link(self, slack_user_id: str) -> IdentityLink | None: ...

    async def votes(self, approval_id: str) -> list[Vote]: ...


@dataclass(frozen=True)
class Tally:
    """The votes on one approval after a click."""

    voters: tuple[str, ...]
    needed: int
    counted: bool
    """Whether this click's vote was new (else the clicker had voted before)."""
    card_updated: bool = True
    people: int | None = None
    """Distinct persons among ``voters`` (see the module's invariant; ``None``: one each)."""
    dropped: tuple[str, ...] = ()
    """Earlier voters whose votes were dropped at this click: no longer approvers of the route."""

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


@dataclass(frozen=True)
class Ballot:
    """One Approve click under the two-person rule: the approval, what its card shows, and who votes."""

    approval: Approval
    order: OrderSummary | None
    entry: AuditEntry
    """The vote's audit row (its Slack user is the voter)."""
    commerce_user_id: str | None
    """The Commerce user the voter is linked to now (``None``: unlinked)."""
    approvers: Sequence[str] | None
    """The route's approvers (``None``: ``APPROVERS``), against which earlier voters are checked again."""
    needed: int
    on: Sequence[MessageRef]
    note: str | None = None
    """Why the route is what it is, kept on the card (see ``Routes.currency_note``)."""


class TwoPersonRule:
    def __init__(
        self,
        store: VoteStore,
        cards: CardPresenter,
        approvers: ApproverDirectory,
        notices: UserNotices | None = None,
    ) -> None:
        self._store = store
        self._cards = cards
        self._approvers = approvers
        self._notices = notices

    async def vote(self, ballot: Ballot) -> Tally:
        """Casts the ballot's vote and counts; a complete count first drops the votes of earlier voters
        who are no longer approvers (see the module's invariant). An incomplete count after a new vote
        (or a dropped one) is shown on the approval's messages unless a decision is already under way
        (a failed rewrite is logged, and ``card_updated`` False)."""
        voter = ballot.entry.slack_user_id
        approval_id = ballot.approval.id
        counted = await self._store.cast_vote(approval_id, Vote(voter, ballot.commerce_user_id), ballot.entry)
        tally = await self._count(approval_id, ballot.needed, counted)
        if tally.complete:
            dropped = await self._drop_stale(ballot, [v for v in tally.voters if v != voter])
            if not dropped:
                return tally
            tally = replace(await self._count(approval_id, ballot.needed, counted), dropped=dropped)
        elif not counted:
            return tally
        if await self._store.get_decision(approval_id) is not None:
            # Another voter completed the count meanwhile and is deciding: their card must not be
            # drawn over with this older count.
            return tally
        log.info("approval %s: vote %d of %d by %s", approval_id, len(tally.voters), ballot.needed, voter)
        try:
            shown = await self._cards.show_votes(
                ballot.approval,
                ballot.order,
                voters=tally.voters,
                needed=ballot.needed,
                on=ballot.on,
                dropped=tally.dropped,
                note=ballot.note,
            )
        except Exception:
            log.exception("approval %s: the vote was recorded, but showing it failed", approval_id)
            shown = False
        return tally if shown else replace(tally, card_updated=False)

    async def _count(self, approval_id: str, needed: int, counted: bool) -> Tally:
        votes = await self._store.votes(approval_id)
        voters = tuple(vote.slack_user_id for vote in votes)
        return Tally(voters, needed, counted, people=await self._people(votes))

    async def _drop_stale(self, ballot: Ballot, earlier: Sequence[str]) -> tuple[str, ...]:
        """Drops the votes of ``earlier`` voters who no longer decide the ballot's route (asked from the
        source, never a cache); the voters dropped."""
        dropped = []
        for voter in earlier:
            if await self._approvers.confirms(voter, ballot.approvers):
                continue
            entry = replace(
                ballot.entry,
                slack_user_id=voter,
                slack_user_name=None,
                outcome="vote_dropped",
                comment=None,
                commerce_user_id=None,
                commerce_logon_id=None,
                detail="two-person rule: the voter is no longer an approver of this request",
            )
            if await self._store.drop_vote(ballot.approval.id, voter, entry):
                log.warning(
                    "approval %s: the vote of %s was dropped: no longer an approver",
                    ballot.approval.id,
                    voter,
                )
                dropped.append(voter)
                await self._tell_dropped(voter, ballot.approval.id)
        return tuple(dropped)

    async def _tell_dropped(self, voter: str, approval_id: str) -> None:
        if self._notices is None:
            return
        text = (
            f"Your approval of request {approval_id} no longer counts: you are no longer one of its "
            "approvers, so it was dropped before anything went to Commerce."
        )
        try:
            await self._notices.tell(voter, text)
        except Exception:
            log.exception("could not tell %s that their vote was dropped", voter)

    async def _people(self, votes: Sequence[Vote]) -> int:
        """How many persons ``votes`` are: votes sharing a Slack user or a Commerce user (the one
        recorded with the vote, or the voter's link now) are one person, whichever is stricter."""
        parent: dict[str, str] = {}

        def root(node: str) -> str:
            while parent.setdefault(node, node) != node:
                node = parent[node]
            return node

        def join(a: str, b: str) -> None:
            parent[root(a)] = root(b)

        for vote in votes:
            node = f"slack:{vote.slack_user_id}"
            root(node)
            if vote.commerce_user_id is not None:
                join(node, f"commerce:{vote.commerce_user_id}")
            link = await self._store.identity_link(vote.slack_user_id)
            if link is not None:
                join(node, f"commerce:{link.commerce_user_id}")
        return len({root(f"slack:{vote.slack_user_id}") for vote in votes})
