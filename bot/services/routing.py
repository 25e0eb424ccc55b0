"""Which route an approval takes: the channel its card goes to, who may decide it, how many must approve.

Invariant: every approval has exactly one route, the first rule that matches it, else the fallback
(``APPROVALS_CHANNEL``, ``APPROVERS``, one approval). A rule on something Commerce does not give (an
order without a total, the organization of a buyer approval) does not match; the two-person rule
counts an order whose total is unknown as large. An order approval whose order cannot be read when
a rule needs it is not routed at all (``OrderUnreadable``): a failed read never sends an approval
to other approvers or past the two-person rule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from decimal import Decimal

from bot.commerce.client import CommerceClient
from bot.commerce.errors import CommerceError
from bot.commerce.models import Approval, ApprovalKind, OrderSummary
from bot.services.order_details import OrderDetails

log = logging.getLogger(__name__)

FALLBACK_ROUTE_NAME = "default"


class OrderUnreadable(Exception):
    """The routes need an order approval's order (organization, total) and it could not be read."""

    def __init__(self, approval: Approval) -> None:
        self.approval_id = approval.id
        self.order_id = approval.entity_id
        super().__init__(f"order {approval.entity_id} of approval {approval.id} could not be read")


@dataclass(frozen=True)
class RouteMatch:
    """What a rule matches; an empty condition matches anything, every condition given must hold."""

    kinds: frozenset[ApprovalKind] = frozenset()
    organizations: frozenset[str] = frozenset()
    """Buyer organization ids (the order's ``orgUniqueID``)."""
    flow_type_ids: frozenset[str] = frozenset()
    min_total: Decimal | None = None
    """The order's grand total is at least this."""
    max_total: Decimal | None = None
    """The order's grand total is below this."""

    @property
    def needs_order(self) -> bool:
        """Whether matching reads the order (its organization or total)."""
        return bool(self.organizations) or self.min_total is not None or self.max_total is not None

    @property
    def matches_everything(self) -> bool:
        return not (self.kinds or self.flow_type_ids or self.needs_order)

    def matches(self, approval: Approval, order: OrderSummary | None) -> bool:
        if self.kinds and approval.guessed_kind not in self.kinds:
            return False
        if self.flow_type_ids and approval.flow_type_id not in self.flow_type_ids:
            return False
        if self.organizations and (order is None or order.organization_id not in self.organizations):
            return False
        total = None if order is None else order.grand_total
        if self.min_total is not None and (total is None or total < self.min_total):
            return False
        return self.max_total is None or (total is not None and total < self.max_total)


@dataclass(frozen=True)
class Route:
    """Where an approval's card goes and who decides it."""

    name: str
    channel: str
    match: RouteMatch = field(default_factory=RouteMatch)
    approvers: tuple[str, ...] | None = None
    """Slack user and user-group ids that replace ``APPROVERS`` for this route; ``None``: ``APPROVERS``."""
    required_approvals: int = 1
    min_order_total: Decimal | None = None
    """With ``required_approvals`` > 1: only orders whose total is above this need them."""
    notify_dm: bool = False
    """``notify: dm``: the route's approvers (user ids) also get the card as a direct message."""

    @property
    def dm_recipients(self) -> tuple[str, ...]:
        """Who gets the card as a direct message: the route's user ids (user groups are not expanded)."""
        if not self.notify_dm or self.approvers is None:
            return ()
        return tuple(a for a in self.approvers if a.startswith(("U", "W")))

    def approvals_needed(self, approval: Approval, order: OrderSummary | None) -> int:
        """Distinct approvers whose Approve it takes; 1 unless the two-person rule applies. An order
        whose total is unknown needs them all (fail closed); a buyer approval under a total bar needs one."""
        if self.required_approvals <= 1 or self.min_order_total is None:
            return self.required_approvals
        if approval.guessed_kind is not ApprovalKind.ORDER:
            return 1
        total = None if order is None else order.grand_total
        return self.required_approvals if total is None or total > self.min_order_total else 1


@dataclass(frozen=True)
class Routes:
    """The rules in file order, then the fallback."""

    rules: tuple[Route, ...]
    fallback: Route

    @classmethod
    def only(cls, channel: str) -> Routes:
        """No rules: every card goes to ``channel`` and ``APPROVERS`` decide (no routes file)."""
        return cls((), Route(FALLBACK_ROUTE_NAME, channel))

    @property
    def needs_order(self) -> bool:
        """Whether routing an approval reads its order."""
        return any(rule.match.needs_order or rule.min_order_total is not None for rule in self.rules)

    @property
    def decide_alike(self) -> bool:
        """Whether every route is decided like the fallback (same approvers, one approval), so a
        decision need not know its route."""
        return all(rule.approvers is None and rule.required_approvals == 1 for rule in self.rules)

    @property
    def every_route(self) -> tuple[Route, ...]:
        return (*self.rules, self.fallback)

    def route_for(self, approval: Approval, order: OrderSummary | None) -> Route:
        """The first rule that matches, else the fallback."""
        for rule in self.rules:
            if rule.match.matches(approval, order):
                return rule
        return self.fallback

    def approvers_in(self, channel: str) -> tuple[str, ...] | None:
        """The approvers of the first route whose cards go to ``channel`` (``None``: ``APPROVERS``), for
        messages about a channel's cards (reminders)."""
        for route in self.every_route:
            if route.channel == channel:
                return route.approvers
        return None


@dataclass(frozen=True)
class RoutedApproval:
    """An approval with its route, as a decision sees it before claiming."""

    route: Route
    approval: Approval | None = None
    """``None`` when every route decides alike and Commerce was not asked."""
    order: OrderSummary | None = None
    needed: int = 1
    """Distinct approvals it takes (the two-person rule)."""

    @property
    def needs_votes(self) -> bool:
        """Whether an Approve is a vote: more than one is needed and the approval is still pending (one
        decided meanwhile goes the usual way, which says how it ended)."""
        return self.needed > 1 and self.approval is not None and self.approval.is_pending


class ApprovalRouting:
    """Routes approvals, reading the order only when a rule needs it."""

    def __init__(self, routes: Routes, commerce: CommerceClient, order_details: OrderDetails) -> None:
        self.routes = routes
        self._commerce = commerce
        self._order_details = order_details

    async def route_of(self, approval: Approval) -> tuple[Route, OrderSummary | None]:
        """The approval's route, and its order when it was read for routing. ``OrderUnreadable`` when
        a rule needs the order of an order approval and Commerce did not give it."""
        if not self.routes.needs_order:
            return self.routes.route_for(approval, None), None
        order = await self._order_of(approval)
        return self.routes.route_for(approval, order), order

    async def _order_of(self, approval: Approval) -> OrderSummary | None:
        """The order of an order approval, read now (routing needs an answer, not the cards' best
        effort); ``None`` for a buyer approval."""
        if approval.guessed_kind is not ApprovalKind.ORDER:
            return None
        try:
            return await self._commerce.get_order_summary(approval.entity_id)
        except (CommerceError, ValueError) as error:  # ValueError: an entity id that is no order id
            log.warning("approval %s cannot be routed: %s", approval.id, getattr(error, "message", error))
            raise OrderUnreadable(approval) from error

    async def for_decision(self, approval_id: str, kind: ApprovalKind | None = None) -> RoutedApproval:
        """The route that decides ``approval_id``: the fallback, without asking Commerce, when every
        route decides alike; else read and routed now (Commerce's errors and ``OrderUnreadable`` are
        raised). ``kind``: the kind its card was posted as (the listing's, which a single read does
        not give), so the decision takes the route the card took; ``None``: guessed."""
        if self.routes.decide_alike:
            return RoutedApproval(self.routes.fallback)
        approval = await self._commerce.get_approval(approval_id)
        if kind is not None and approval.kind is None:
            approval = replace(approval, kind=kind)
        route, order = await self.route_of(approval)
        if route.required_approvals > 1 and order is None:
            order = await self._order_details.for_approval(approval)
        return RoutedApproval(route, approval, order, route.approvals_needed(approval, order))
