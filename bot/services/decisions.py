"""Approve or reject one approval on behalf of a Slack user: authorise, claim, re-read, decide, record.

Exactly-once is enforced by a claim row in the store (primary key on the approval id): of any number of
concurrent attempts, from one process or several, only the one that inserted the claim talks to Commerce.
The core renders nothing: what users see goes through the ``CardPresenter`` and ``ApproverDirectory``
interfaces (``bot.services.ports``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Protocol

from bot.commerce.client import CommerceClient
from bot.commerce.comments import read_signature, signed_comment
from bot.commerce.errors import ApprovalNotFound, CommerceError, CommerceUnavailable
from bot.commerce.models import Approval, ApprovalKind, Decision, OrderSummary
from bot.logging_setup import log_context
from bot.messaging import MessageRef
from bot.metrics import Metrics
from bot.services.budget import DecisionBudget, waited
from bot.services.identity import Decider, Identities, IdentityPolicy, IdentityStore
from bot.services.linked_approvers import link_warnings
from bot.services.order_details import OrderDetails, shown_on_card
from bot.services.ports import ApproverDirectory, CardPresenter
from bot.services.routing import ApprovalRouting, OrderUnreadable, RoutedApproval, Routes
from bot.services.votes import Ballot, Tally, TwoPersonRule, VoteStore
from bot.shielded import shielded
from bot.storage.records import (
    AuditEntry,
    CardRecord,
    CardState,
    ClaimedDecision,
    DecisionClaim,
    DecisionState,
    RecordedDecision,
)

log = logging.getLogger(__name__)


class DecisionStore(IdentityStore, VoteStore, Protocol):
    """The store operations the decision core uses."""

    async def snooze_reminder(self, approval_id: str, slack_user_id: str, kind: str) -> object: ...

    async def claim_decision_reading(
        self, approval_id: str, slack_user_id: str, action: str
    ) -> ClaimedDecision: ...

    async def get_card(self, approval_id: str) -> CardRecord | None: ...

    async def mark_decision_unknown(self, approval_id: str, audit: AuditEntry | None) -> None: ...

    async def record_audit(self, entry: AuditEntry) -> int: ...

    async def record_decision(
        self, approval_id: str, card_state: CardState, audit: AuditEntry
    ) -> RecordedDecision: ...

    async def release_decision(self, approval_id: str, *, claimed_before: datetime | None = None) -> bool: ...

    async def set_card_state(self, approval_id: str, state: CardState) -> CardRecord | None: ...

    async def settle_decision(
        self, approval_id: str, slack_user_id: str, action: str, card_state: CardState, audit: AuditEntry
    ) -> RecordedDecision: ...


RECORD_ATTEMPTS = 3
RECORD_BACKOFF_SECONDS = 0.2
DECIDED_CARD_STATE = {Decision.APPROVE: CardState.APPROVED, Decision.REJECT: CardState.REJECTED}
REFUSAL_MESSAGE = "You are not allowed to approve or reject requests. Ask an admin to add you to APPROVERS."


class Outcome(str, Enum):
    """How a decision attempt ended; the values are stored in the audit log and used as metric labels."""

    OK = "ok"
    UNKNOWN = "unknown"
    REFUSED = "refused"
    ALREADY_IN_PROGRESS = "already_in_progress"
    ALREADY_DECIDED = "already_decided"
    NOT_PENDING = "not_pending"
    NOT_FOUND = "not_found"
    ERROR = "error"
    VOTED = "voted"
    """The two-person rule counted the approver's vote; more are needed before Commerce is asked."""
    ALREADY_VOTED = "already_voted"
    UNLINKED = "unlinked"
    """Refused before Commerce: ``DECIDE_AS=linked-user`` and the Slack user is not linked."""
    SELF_APPROVAL = "self_approval"
    """Refused before the decision was sent: the linked Slack user submitted the approval."""


@dataclass(frozen=True)
class DecisionRequest:
    approval_id: str
    decision: Decision
    slack_user_id: str
    slack_user_name: str | None
    comment: str | None
    channel: str | None = None
    """Where the click came from (a card), if anywhere."""
    message_ts: str | None = None
    decider: Decider | None = None
    """Set by the core, never by the caller: the clicker's link and who Commerce sees deciding."""

    @property
    def clicked(self) -> MessageRef | None:
        """The message the request came from, when it came from one."""
        if self.channel and self.message_ts:
            return MessageRef(self.channel, self.message_ts)
        return None


@dataclass(frozen=True)
class DecisionResult:
    outcome: Outcome
    message: str
    approval: Approval | None = None
    card_updated: bool = True
    """False when Commerce has the decision but a message showing it could not be rewritten."""

    @property
    def ok(self) -> bool:
        """The click did what it asked: decided, or (two-person rule) its vote counted."""
        return self.outcome in (Outcome.OK, Outcome.VOTED)

    @property
    def told(self) -> str:
        """What the person who decided is told: the message, and whether the card could not follow."""
        if self.outcome is Outcome.OK and not self.card_updated:
            return (
                f"{self.message} Its card could not be updated, so it may still show buttons; "
                "they do nothing now."
            )
        return self.message


def commerce_comment(request: DecisionRequest) -> str:
    """The comment stored in Commerce names the Slack user, so Commerce's own history shows who acted."""
    return signed_comment(request.decision, request.slack_user_id, request.slack_user_name, request.comment)


@dataclass(frozen=True)
class DecisionPolicy:
    """How decisions go: ``routes`` say who decides which approval and how many must approve (default:
    ``APPROVERS`` decide everything, one approval each); ``budget`` bounds the wait on Commerce."""

    budget: DecisionBudget
    routes: Routes | None = None


class DecisionService:
    def __init__(
        self,
        commerce: CommerceClient,
        store: DecisionStore,
        *,
        approvers: ApproverDirectory,
        cards: CardPresenter,
        order_details: OrderDetails,
        metrics: Metrics,
        policy: DecisionPolicy,
        identities: Identities | None = None,
    ) -> None:
        routes, budget = policy.routes, policy.budget
        self._commerce = commerce
        self._identities = identities or Identities(store, commerce, IdentityPolicy())
        self._store = store
        self._approvers = approvers
        self._cards = cards
        self._order_details = order_details
        self._metrics = metrics
        self._routing = ApprovalRouting(routes or Routes.only(""), commerce, order_details)
        self._two_person_rule = TwoPersonRule(store, cards, approvers, self._identities.notices)
        self.budget = budget

    @property
    def longest_commerce_wait_seconds(self) -> float:
        """The longest a decision waits on Commerce: its budget, plus one read's when routes make it
        read the approval's route first (what the clicker's "still working" note promises)."""
        route_read = 0.0 if self._routing.routes.decide_alike else self.budget.read_seconds
        return self.budget.total_seconds + route_read

    async def decides(self, user_id: str, approval: Approval) -> bool:
        """Whether ``user_id`` is an approver of ``approval``'s route (may be cached: for listings such
        as the App Home; a decision asks again). A route that cannot be read (its order unreadable):
        no."""
        if self._routing.routes.decide_alike:
            return await self._approvers.is_approver(user_id, None)
        try:
            route, _ = await self._routing.route_of(approval)
        except (OrderUnreadable, CommerceError):
            return False
        return await self._approvers.is_approver(user_id, route.approvers)

    async def link_warnings(self) -> list[str]:
        """What unlinked approvers mean under this bot's policy (``bot.services.linked_approvers``), from
        the lists as configured: user groups are named, not read (no chat call at start)."""
        return await link_warnings(
            self._routing.routes, self._approvers, self._store, self._identities.policy, read_groups=False
        )

    @property
    def identities(self) -> Identities:
        """Who deciding users are in Commerce (``/approvals whoami`` asks it too)."""
        return self._identities

    async def decide(self, request: DecisionRequest) -> DecisionResult:
        """Decides and audits: every attempt leaves one audit row (a decision Commerce accepted writes
        its row with the claim while the card is rewritten, and before this returns)."""
        with log_context(approval_id=request.approval_id, slack_user=request.slack_user_id):
            try:
                request, result = await self._decide(request)
            except Exception as error:
                with suppress(Exception):  # the audit entry must not hide the original error
                    failed = DecisionResult(Outcome.ERROR, f"{type(error).__name__}: {error}")
                    await self._record(request, failed)
                raise
            if result.ok:
                self._count(request, result)
            else:
                await self._record(request, result)
            return result

    async def refusal(self, request: DecisionRequest) -> DecisionResult | None:
        """The refusal (recorded in the audit log) when the user may not decide, else None."""
        with log_context(approval_id=request.approval_id, slack_user=request.slack_user_id):
            result = await self._refused(request)
            if result is None:  # an approver: who they are in Commerce (only approvers are looked up)
                request = await self._with_decider(request)
                result = self._unlinked(request) or await self._self_approval_ahead(request)
            if result is not None:
                await self._record(request, result)
            return result

    async def record(self, entry: AuditEntry) -> None:
        """Writes an audit row for something decided around an approval (a Details opening, a bulk
        selection, a snooze), so every action is in the audit log."""
        await self._store.record_audit(entry)

    async def snooze_reminder(self, approval_id: str, slack_user_id: str, kind: str) -> None:
        """The approver's next reminder of the approval comes at the ``kind`` of snooze they chose."""
        await self._store.snooze_reminder(approval_id, slack_user_id, kind)

    async def may_decide(self, approval_id: str, slack_user_id: str) -> bool:
        """Whether the user is one of the approval's approvers (its route's), for showing them the
        buttons; a click checks everything again. Nothing is recorded."""
        request = DecisionRequest(approval_id, Decision.APPROVE, slack_user_id, None, None)
        with log_context(approval_id=approval_id, slack_user=slack_user_id):
            return await self._refused(request) is None

    async def _refused(self, request: DecisionRequest) -> DecisionResult | None:
        """The refusal when the user may not decide (the directory may answer from its cache)."""
        routed = await self._routed(request)
        if isinstance(routed, DecisionResult):
            return routed
        if await self._approvers.is_approver(request.slack_user_id, routed.route.approvers):
            return None
        return DecisionResult(Outcome.REFUSED, _refusal_message(routed))

    async def _refused_now(self, request: DecisionRequest, routed: RoutedApproval) -> DecisionResult | None:
        """The refusal at the moment of deciding: the directory answers from its source, not a cache."""
        if await self._approvers.confirms(request.slack_user_id, routed.route.approvers):
            return None
        return DecisionResult(Outcome.REFUSED, _refusal_message(routed))

    async def _routed(self, request: DecisionRequest) -> RoutedApproval | DecisionResult:
        """The approval's route, or why it could not be read (nothing was sent). Reading it (only
        when some route decides differently from the fallback) gets one read's part of the budget."""
        kind = None if self._routing.routes.decide_alike else await self._card_kind(request.approval_id)
        started = asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(self.budget.read_seconds):
                return await self._routing.for_decision(request.approval_id, kind)
        except ApprovalNotFound:
            return DecisionResult(
                Outcome.NOT_FOUND, f"Approval {request.approval_id} no longer exists in Commerce."
            )
        except (CommerceError, TimeoutError) as error:
            spent = asyncio.get_running_loop().time() - started
            return DecisionResult(
                Outcome.ERROR,
                f"The bot could not read approval {request.approval_id}'s route (who may decide it). "
                f"{_read_failure(request.approval_id, error, spent)}",
            )
        except OrderUnreadable as error:
            return DecisionResult(
                Outcome.ERROR,
                f"Commerce did not give order {error.order_id}, and its route (who may decide approval "
                f"{request.approval_id}) depends on it. Nothing was sent; try again shortly.",
            )

    async def _card_kind(self, approval_id: str) -> ApprovalKind | None:
        """The kind the approval's card was posted as (from the kind's own listing), if it has a card."""
        card = await self._store.get_card(approval_id)
        kinds = {kind.value: kind for kind in ApprovalKind}
        return None if card is None else kinds.get(card.kind)

    async def _vote(
        self, request: DecisionRequest, routed: RoutedApproval
    ) -> DecisionResult | DecisionRequest:
        """Two-person rule: the voter's result while votes are missing (a submitter may not vote on
        their own request), else the request that sends the decision, signed by this voter and naming
        the others."""
        assert routed.approval is not None  # routed by reading Commerce: only then can more be needed
        own = self._self_approval(request, routed.approval)
        if own is not None:
            return own
        card = await self._store.get_card(request.approval_id)
        entry = _audit_entry(request, DecisionResult(Outcome.VOTED, ""))
        link = request.decider.link if request.decider else None
        ballot = Ballot(
            as_its_card_showed(routed.approval, card),
            routed.order,
            replace(entry, detail=f"two-person rule: vote to approve ({routed.needed} approvals needed)"),
            commerce_user_id=link.commerce_user_id if link else None,
            approvers=routed.route.approvers,
            needed=routed.needed,
            on=_shown_on(card, request.clicked),
            note=self._routing.routes.currency_note(routed.order),
        )
        tally = await self._two_person_rule.vote(ballot)
        if tally.complete:
            return replace(request, comment=_with_note(request.comment, tally.note(request.slack_user_id)))
        return _vote_result(request, tally)

    async def _with_decider(self, request: DecisionRequest) -> DecisionRequest:
        """``request`` with the clicker's link and Commerce identity resolved (auto-linked if on)."""
        decider = await self._identities.decider(request.slack_user_id, request.approval_id)
        return replace(request, decider=decider)

    def _unlinked(self, request: DecisionRequest) -> DecisionResult | None:
        link = request.decider.link if request.decider else None
        refusal = self._identities.unlinked_refusal(link)
        return None if refusal is None else DecisionResult(Outcome.UNLINKED, refusal)

    def _unlinked_voter(self, request: DecisionRequest, routed: RoutedApproval) -> DecisionResult | None:
        """The refusal of an unlinked approver's vote (the two-person rule counts Commerce users)."""
        link = request.decider.link if request.decider else None
        refusal = self._identities.unlinked_vote_refusal(link, routed.needed)
        return None if refusal is None else DecisionResult(Outcome.UNLINKED, refusal)

    def _self_approval(self, request: DecisionRequest, approval: Approval) -> DecisionResult | None:
        link = request.decider.link if request.decider else None
        refusal = self._identities.self_approval_refusal(link, approval)
        return None if refusal is None else DecisionResult(Outcome.SELF_APPROVAL, refusal, approval)

    async def _self_approval_ahead(self, request: DecisionRequest) -> DecisionResult | None:
        """The self-approval refusal before a dialog opens (an unreadable approval: decided later)."""
        if request.decider is None or request.decider.link is None:
            return None
        try:
            approval = await self._commerce.get_approval(request.approval_id)
        except CommerceError:
            return None
        return self._self_approval(request, approval)

    def _count(self, request: DecisionRequest, result: DecisionResult) -> None:
        self._metrics.decisions.labels(request.decision.action, result.outcome.value).inc()

    async def _record(self, request: DecisionRequest, result: DecisionResult) -> None:
        self._count(request, result)
        await self._store.record_audit(_audit_entry(request, result))

    async def _decide(self, request: DecisionRequest) -> tuple[DecisionRequest, DecisionResult]:
        """The outcome, and ``request`` with its decider once the user was found to be an approver."""
        routed = await self._routed(request)
        if isinstance(routed, DecisionResult):
            return request, routed
        refused = await self._refused_now(request, routed)
        if refused is not None:
            return request, refused
        voting = request.decision is Decision.APPROVE and routed.needs_votes
        if voting or self._identities.refuses_unlinked:
            # The link is needed before the claim: an unlinked user is refused without taking it.
            request = await self._with_decider(request)
            unlinked = self._unlinked(request) or (self._unlinked_voter(request, routed) if voting else None)
            if unlinked is not None:
                return request, unlinked
        if voting:
            voted = await self._vote(request, routed)
            if isinstance(voted, DecisionResult):
                return request, voted
            request = voted
        # The claim's transaction also reads the card (where the decision is shown) and the clicker's
        # link (for the self-approval check and the audit row, when not read above).
        claimed = await self._store.claim_decision_reading(
            request.approval_id, request.slack_user_id, request.decision.action
        )
        sent = _Sent()
        try:
            if request.decider is None:
                decider = await self._identities.decider_linked(
                    request.slack_user_id, claimed.link, request.approval_id
                )
                request = replace(request, decider=decider)
            if claimed.in_the_way is not None:
                existing = claimed.in_the_way
                taken = _vote_taken_over(request, existing) if voting else _already_claimed(request, existing)
                return request, taken
            return request, await self._decide_claimed(request, sent, claimed.card)
        except BaseException as error:
            if claimed.in_the_way is not None:
                raise
            if sent.value:
                # Cancelled (a shutdown) or failed after the decision went out: Commerce may have it.
                # The claim is kept as UNKNOWN and the next read of the approval settles it.
                entry = _audit_entry(request, DecisionResult(Outcome.UNKNOWN, _unanswered(error)))
                await shielded(
                    self._store.mark_decision_unknown(request.approval_id, entry),
                    f"recording the unknown outcome of the decision on {request.approval_id}",
                )
            else:
                await self._store.release_decision(request.approval_id)
            raise

    async def _decide_claimed(
        self, request: DecisionRequest, sent: _Sent, card: CardRecord | None
    ) -> DecisionResult:
        approval_id = request.approval_id
        loop = asyncio.get_running_loop()
        started = loop.time()  # the budget: the read gets its part, the decision what is left
        try:
            async with asyncio.timeout(self.budget.read_seconds):
                approval = await self._commerce.get_approval(approval_id)
        except ApprovalNotFound:
            await self._store.release_decision(approval_id)
            await self._close(approval_id, None, request)
            return DecisionResult(Outcome.NOT_FOUND, f"Approval {approval_id} no longer exists in Commerce.")
        except (CommerceError, TimeoutError) as error:
            await self._store.release_decision(approval_id)
            return DecisionResult(Outcome.ERROR, _read_failure(approval_id, error, loop.time() - started))

        if not approval.is_pending:
            return await self._no_longer_pending(approval, request)
        refused = self._self_approval(request, approval)
        if refused is not None:
            await self._store.release_decision(approval_id)
            return refused

        # The order's details are only for the card: taken from it, or fetched while Commerce decides,
        # never waited on before the decision is sent.
        order = asyncio.create_task(self._order_shown(approval, card))
        try:
            sent.value = True
            async with asyncio.timeout_at(started + self.budget.total_seconds):
                await self._commerce.decide(
                    approval_id,
                    request.decision,
                    commerce_comment(request),
                    for_user_id=_for_user_id(request),
                )
        except (CommerceUnavailable, TimeoutError) as error:
            order.cancel()
            await self._store.mark_decision_unknown(approval_id, None)
            return DecisionResult(Outcome.UNKNOWN, _unconfirmed(request, error, loop.time() - started))
        except CommerceError as error:  # a definite no: nothing was decided
            order.cancel()
            await self._store.release_decision(approval_id)
            return DecisionResult(
                Outcome.ERROR, _commerce_failure(request.decision.action, approval_id, error)
            )
        except BaseException:
            order.cancel()
            raise
        result = DecisionResult(Outcome.OK, f"Approval {approval_id} {request.decision.verb}.", approval)
        log.info("approval %s %s by %s", approval_id, request.decision.verb, request.slack_user_id)
        # Commerce has the decision: from here on nothing may fail the user's answer. It is recorded
        # while the card is rewritten (the rewrite's follow-ups wait for the record).
        recorded = asyncio.create_task(self._record_accepted(request, result))
        try:
            if card is None or not card.ts:  # not posted yet: where it goes may be recorded meanwhile
                record = await asyncio.shield(recorded)
                card = (record.card if record is not None else None) or card
            shown = await self._cards.show_decision(
                as_its_card_showed(approval, card),
                await order,
                decision=request.decision,
                decided_by=request.slack_user_id,
                comment=request.comment,
                on=_shown_on(card, request.clicked),
                recorded=_recorded_first(recorded),
                thread=_posted_at(card),
            )
        except Exception:
            log.exception(
                "approval %s was %s in Commerce, but showing it failed", approval_id, request.decision.verb
            )
            shown = False
        finally:
            # Even a shutdown waits for the record of what Commerce has.
            await shielded(recorded, f"the record of the decision on {approval_id}")
        return result if shown else replace(result, card_updated=False)

    async def _order_shown(self, approval: Approval, card: CardRecord | None) -> OrderSummary | None:
        """The order's details for the decided card: those its card already shows (no second read of
        the order), else Commerce's."""
        shown = shown_on_card(card, approval)
        return shown if shown is not None else await self._order_details.for_approval(approval)

    async def _record_accepted(
        self, request: DecisionRequest, result: DecisionResult
    ) -> RecordedDecision | None:
        """Records a decision Commerce accepted (claim DONE, card state, audit row, which names the
        buyer organization its card shows), trying a few times; if the store still fails, logs every
        field at ERROR so nothing is lost (and returns None)."""
        entry = _audit_entry(request, result)
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            try:
                return await self._store.record_decision(
                    request.approval_id, DECIDED_CARD_STATE[request.decision], entry
                )
            except Exception as error:
                if attempt < RECORD_ATTEMPTS:
                    await asyncio.sleep(RECORD_BACKOFF_SECONDS * attempt)
                    continue
                log.error(
                    "approval %s was %s in Commerce but could not be recorded (%s): slack_user=%s "
                    "slack_user_name=%r action=%s comment=%r",
                    request.approval_id,
                    request.decision.verb,
                    _describe(error),
                    request.slack_user_id,
                    request.slack_user_name,
                    request.decision.action,
                    request.comment,
                    exc_info=True,
                )
        return None

    async def _no_longer_pending(self, approval: Approval, request: DecisionRequest) -> DecisionResult:
        """The approval was decided meanwhile. When Commerce's comment says it was decided in Slack
        (a decision whose answer was lost), the claim is settled in that user's name."""
        approval_id = approval.id
        signature = read_signature(approval.comment)
        if signature is None:
            await self._store.release_decision(approval_id)
            await self._close(approval_id, approval, request)
        else:
            await self.settle(approval, on=_shown_on(None, request.clicked))
        return DecisionResult(
            Outcome.NOT_PENDING,
            f"Approval {approval_id} is no longer pending "
            f"(it was {approval.state.name.lower()} in Commerce); nothing was sent.",
            approval,
        )

    async def settle(self, approval: Approval, *, on: list[MessageRef] | None = None) -> bool:
        """Credits a decided approval to the Slack user its Commerce comment names (a decision from
        Slack whose answer was lost): claim DONE in their name, card state, audit row (naming the buyer
        organization its card shows, as a click's does), and the card rewritten. False when the
        comment names nobody."""
        signature = read_signature(approval.comment)
        if signature is None:
            return False
        entry = AuditEntry(
            slack_user_id=signature.slack_user_id,
            action=signature.decision.action,
            approval_id=approval.id,
            outcome=Outcome.OK.value,
            comment=signature.note,
            detail="confirmed from Commerce after the answer was lost",
        )
        recorded = await self._store.settle_decision(
            approval.id,
            signature.slack_user_id,
            signature.decision.action,
            DECIDED_CARD_STATE[signature.decision],
            entry,
        )
        if not recorded.first:
            return True  # its click recorded it and shows it: nothing to credit
        card = recorded.card
        log.info("approval %s: credited to %s from Commerce's comment", approval.id, signature.slack_user_id)
        targets = _shown_on(card, None) + [ref for ref in on or [] if ref not in _shown_on(card, None)]
        await self._cards.show_decision(
            as_its_card_showed(approval, card),
            await self._order_details.for_approval(approval),
            decision=signature.decision,
            decided_by=signature.slack_user_id,
            comment=signature.note,
            on=targets,
        )
        return True

    async def _close(self, approval_id: str, approval: Approval | None, request: DecisionRequest) -> None:
        card = await self._store.set_card_state(approval_id, CardState.DECIDED_ELSEWHERE)
        order = await self._order_details.for_approval(approval)
        shown = None if approval is None else as_its_card_showed(approval, card)
        await self._cards.close(approval_id, shown, order, on=_shown_on(card, request.clicked))


async def _recorded_first(recorded: Awaitable[RecordedDecision | None]) -> bool:
    """Whether this decision's record is the first (False: the close round credited it already, and
    replied in the card's thread). A record the store failed to write counts as first."""
    record = await recorded
    return record is None or record.first


class _Sent:
    """Set once the decision has gone out to Commerce (from then on a claim is never released)."""

    value = False


def _describe(error: BaseException) -> str:
    return getattr(error, "message", None) or f"{type(error).__name__}: {error}"


def _unanswered(error: BaseException) -> str:
    if isinstance(error, asyncio.CancelledError):
        return "stopped (shutdown) after the decision was sent; Commerce's answer is unknown"
    return f"failed after the decision was sent ({_describe(error)}); Commerce's answer is unknown"


def _unanswered_commerce(error: CommerceError | TimeoutError) -> str:
    """What went wrong with Commerce; the decision's budget running out reads as no answer."""
    return error.message if isinstance(error, CommerceError) else "Commerce did not answer"


def _unconfirmed(request: DecisionRequest, error: CommerceError | TimeoutError, seconds: float) -> str:
    return (
        f"Commerce did not confirm the {request.decision.action} of approval {request.approval_id} "
        f"({_unanswered_commerce(error)}; waited {waited(seconds)} in all). The bot checks with "
        "Commerce and updates the card; clicking again is safe."
    )


def _read_failure(approval_id: str, error: CommerceError | TimeoutError, seconds: float) -> str:
    """Why the approval could not be read; an unavailable Commerce is told with the real wait."""
    if isinstance(error, CommerceError) and not isinstance(error, CommerceUnavailable):
        return _commerce_failure("read", approval_id, error)
    # An unavailability message already names Commerce and what went wrong ("Commerce answered 503").
    return (
        f"{_unanswered_commerce(error)} (waited {waited(seconds)} in all). "
        "Nothing was sent; try again shortly."
    )


def as_its_card_showed(approval: Approval, card: CardRecord | None) -> Approval:
    """``approval`` with what its card already knew and a re-read may lack (the submitter's name)."""
    if approval.submitter_name or card is None or not card.submitter_name:
        return approval
    return replace(approval, submitter_name=card.submitter_name)


def _with_note(comment: str | None, note: str) -> str:
    """The completing voter's comment, then the note naming the other voters. The comment was measured
    to fit Commerce's limit; when both do not, ``signed_comment`` cuts the end of the note, never the
    voter's words."""
    return f"{comment}; {note}" if comment else note


def _posted_at(card: CardRecord | None) -> MessageRef | None:
    """Where the card was posted (its thread is the approval's history); ``None`` if it was not."""
    return MessageRef(card.channel, card.ts) if card is not None and card.channel and card.ts else None


def _shown_on(card: CardRecord | None, clicked: MessageRef | None) -> list[MessageRef]:
    """The messages that show an approval: its card (if posted) and the one clicked (if any)."""
    posted = _posted_at(card)
    messages = [] if posted is None else [posted]
    if clicked is not None and clicked not in messages:
        messages.append(clicked)
    return messages


def _refusal_message(routed: RoutedApproval) -> str:
    if routed.route.approvers is None:
        return REFUSAL_MESSAGE
    return (
        f"You are not allowed to approve or reject this request: its route ({routed.route.name}) names "
        "its own approvers. Ask an admin to add you to that route in APPROVALS_ROUTES_FILE."
    )


def _vote_result(request: DecisionRequest, tally: Tally) -> DecisionResult:
    counted = f"{tally.approvals} of {tally.needed} approvals"
    more = "1 more approver approves" if tally.missing == 1 else f"{tally.missing} more approvers approve"
    if tally.dropped:
        who = ", ".join(f"<@{voter}>" for voter in tally.dropped)
        return DecisionResult(
            Outcome.VOTED,
            f"Your approval of {request.approval_id} is recorded, but the earlier approval of {who} no "
            f"longer counts: no longer an approver of this request. Nothing was sent to Commerce "
            f"({counted}); it goes to Commerce once {more}.",
            card_updated=tally.card_updated,
        )
    if not tally.counted:
        return DecisionResult(
            Outcome.ALREADY_VOTED,
            f"You already approved approval {request.approval_id} ({counted}); the same approver counts "
            f"once. It goes to Commerce once {more}.",
        )
    shown = "" if tally.card_updated else " Its card could not be updated to show the vote."
    return DecisionResult(
        Outcome.VOTED,
        f"Your approval of {request.approval_id} is recorded ({counted}). It goes to Commerce once {more}."
        f"{shown}",
        card_updated=tally.card_updated,
    )


def _vote_taken_over(request: DecisionRequest, claim: DecisionClaim) -> DecisionResult:
    """The count is complete, but another voter's click sends (or sent) the approve."""
    if claim.state is DecisionState.IN_PROGRESS and claim.action == Decision.APPROVE.action:
        return DecisionResult(
            Outcome.VOTED,
            f"Your approval of {request.approval_id} is recorded; <@{claim.slack_user_id}> is sending "
            "the approve to Commerce now.",
        )
    return _already_claimed(request, claim)


def _for_user_id(request: DecisionRequest) -> str | None:
    acting_as = request.decider.acting_as if request.decider else None
    return acting_as.for_user_id if acting_as is not None else None


def _audit_entry(request: DecisionRequest, result: DecisionResult) -> AuditEntry:
    acting_as = request.decider.acting_as if request.decider else None
    return AuditEntry(
        slack_user_id=request.slack_user_id,
        action=request.decision.action,
        approval_id=request.approval_id,
        outcome=result.outcome.value,
        comment=request.comment,
        detail=None if result.ok else result.message,
        slack_user_name=request.slack_user_name,
        commerce_user_id=acting_as.user_id if acting_as else None,
        commerce_logon_id=acting_as.logon_id if acting_as else None,
    )


def _already_claimed(request: DecisionRequest, claim: DecisionClaim) -> DecisionResult:
    if claim.state is DecisionState.IN_PROGRESS:
        return DecisionResult(
            Outcome.ALREADY_IN_PROGRESS,
            f"<@{claim.slack_user_id}> is already deciding approval {request.approval_id}; nothing was sent.",
        )
    verb = Decision.from_action(claim.action).verb
    return DecisionResult(
        Outcome.ALREADY_DECIDED,
        f"Approval {request.approval_id} was already {verb} in Slack by <@{claim.slack_user_id}>.",
    )


def _commerce_failure(what: str, approval_id: str, error: CommerceError) -> str:
    """A definite no from Commerce (an unavailable Commerce is told by ``_read_failure`` or
    ``_unconfirmed``)."""
    return f"Commerce refused to {what} approval {approval_id}: {error.message}"
