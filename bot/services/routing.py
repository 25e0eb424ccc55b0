"""Which route an approval takes: the channel its card goes to, who may decide it, how many must approve.

Invariant: every approval has exactly one route, the first rule that matches it, else the fallback
(``APPROVALS_CHANNEL``, ``APPROVERS``, one approval). A rule on something Commerce does not give (an
order without a total, the organization of a buyer approval) does not match; the two-person rule
counts an order whose total is unknown as large. Totals are only compared in one currency: a limit
names its currencies (``Money``), and an order in a currency a limit does not name counts as above
that limit (at least ``min_total``, not below ``max_total``, past ``min_order_total``: the stricter
path), never as a number compared across currencies. An order approval whose order cannot be read when
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
class Money:
    """A limit in the currencies it names (ISO 4217 codes, upper case): ``{EUR: 10000, USD: 11000}``."""

    amounts: tuple[tuple[str, Decimal], ...]

    @classmethod
    def of(cls, **amounts: Decimal) -> Money:
        return cls(tuple(sorted(amounts.items())))

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(currency for currency, _ in self.amounts)

    def in_currency(self, currency: str | None) -> Decimal | None:
        """The limit in ``currency``; ``None`` when it names no limit in that currency (or none given)."""
        wanted = (currency or "").upper()
        return next((amount for code, amount in self.amounts if code == wanted), None)

    def exceeded_by(self, total: Decimal, currency: str | None) -> bool:
        """Whether ``total`` is above the limit; always, in a currency the limit does not name."""
        limit = self.in_currency(currency)
        return limit is None or total > limit

    def reached_by(self, total: Decimal, currency: str | None) -> bool:
        """Whether ``total`` is at least the limit; always, in a currency the limit does not name."""
        limit = self.in_currency(currency)
        return limit is None or total >= limit


@dataclass(frozen=True)
class RouteMatch:
    """What a rule matches; an empty condition matches anything, every condition given must hold."""

    kinds: frozenset[ApprovalKind] = frozenset()
    organizations: frozenset[str] = frozenset()
    """Buyer organization ids (the order's ``orgUniqueID``)."""
    flow_type_ids: frozenset[str] = frozenset()
    min_total: Money | None = None
    """The order's grand total is at least this (in its currency)."""
    max_total: Money | None = None
    """The order's grand total is below this (in its currency)."""

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
        currency = None if order is None else order.currency
        if self.min_total is not None and (total is None or not self.min_total.reached_by(total, currency)):
            return False
        return self.max_total is None or (
            total is not None and not self.max_total.reached_by(total, currency)
        )

    @property
    def limits(self) -> tuple[Money, ...]:
        return tuple(limit for limit in (self.min_total, self.max_total) if limit is not None)


@dataclass(frozen=True)
class Route:
    """Where an approval's card goes and who decides it."""

    name: str
    channel: str
    match: RouteMatch = field(default_factory=RouteMatch)
    approvers: tuple[str, ...] | None = None
    """Slack user and user-group ids that replace ``APPROVERS`` for this route; ``None``: ``APPROVERS``."""
    required_approvals: int = 1
    min_order_total: Money | None = None
    """With ``required_approvals`` > 1: only orders whose total is above this need them."""
    notify_dm: bool = False
    """``notify: dm``: the route's approvers (user ids) also get the card as a direct message."""

    @property
    def dm_recipients(self) -> tuple[str, ...]:
        """Who gets the card as a direct message: the route's user ids (user groups are not expanded)."""
        if not self.notify_dm or self.approvers is None:
            return ()
        return tuple(a for a in self.approvers if a.startswith(("U", "W")))

    @property
    def limits(self) -> tuple[Money, ...]:
        """Every money limit of the route (its match's and the two-person bar)."""
        bar = () if self.min_order_total is None else (self.min_order_total,)
        return (*self.match.limits, *bar)

    def approvals_needed(self, approval: Approval, order: OrderSummary | None) -> int:
        """Distinct approvers whose Approve it takes; 1 unless the two-person rule applies. An order
        whose total is unknown needs them all (fail closed); a buyer approval under a total bar needs one."""
        if self.required_approvals <= 1 or self.min_order_total is None:
            return self.required_approvals
        if approval.guessed_kind is not ApprovalKind.ORDER:
            return 1
        total = None if order is None else order.grand_total
        currency = None if order is None else order.currency
        large = total is None or self.min_order_total.exceeded_by(total, currency)
        return self.required_approvals if large else 1


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

    def currency_note(self, order: OrderSummary | None) -> str | None:
        """Why an order's total was not compared with some routes' limits (its currency is not one they
        name, so it counted as above them), for its card; ``None`` when every limit was compared."""
        if order is None or order.grand_total is None:
            return None
        currency = (order.currency or "").upper()
        unnamed = [
            rule.name
            for rule in self.rules
            if any(limit.in_currency(currency) is None for limit in rule.limits)
        ]
        if not unnamed:
            return None
        shown = currency or "an unknown currency"
        return (
            f"This order's total is in {shown}, which route(s) {', '.join(unnamed)} name no limit in, so it "
            "counts as above those limits (the stricter path)."
        )

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
