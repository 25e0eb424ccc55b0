"""The YAML side of ``APPROVALS_ROUTES_FILE``: the node tree into ``Routes``, each problem with its line.

Every money limit names its currency: ``min_total: {EUR: 10000, USD: 11000}``, or a plain number in
the route's ``currency``; a plain number in a route without ``currency`` is refused (it would compare
totals across currencies). Values are read from YAML's node tree, not from constructed Python
objects, so every problem has a line and ids keep the digits they were written with
(``7000000000000000901`` is never a float). Imported by ``bot.services.routes_file`` only when a
routes file is set.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.commerce.models import ApprovalKind
from bot.services.routes_file import RoutesFileError
from bot.services.routing import FALLBACK_ROUTE_NAME, Money, Route, RouteMatch, Routes
from bot.slack_ids import APPROVER_ID, CHANNEL_ID

ROUTE_KEYS = (
    "name",
    "channel",
    "currency",
    "match",
    "approvers",
    "required_approvals",
    "min_order_total",
    "notify",
)
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
MATCH_KEYS = ("kind", "organization", "flow_type_id", "min_total", "max_total")
MAX_REQUIRED_APPROVALS = 10
NULL_TAG = "tag:yaml.org,2002:null"
NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")

T = TypeVar("T")


def yaml_routes(source: str, path: Path, fallback_channel: str) -> Routes:
    """``source`` (the file's text) as routes; ``RoutesFileError`` naming ``path`` and the line."""
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = None if mark is None else mark.line + 1
        raise RoutesFileError(path, line, f"is not valid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise RoutesFileError(path, None, f"is not valid YAML: {error}") from None
    return _Reader(path).routes(root, fallback_channel)


class _Reader:
    """Turns the node tree into routes, raising at the first problem with its line."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def fail(self, node: Node | None, problem: str) -> RoutesFileError:
        return RoutesFileError(self._path, None if node is None else node.start_mark.line + 1, problem)

    def routes(self, root: Node | None, fallback_channel: str) -> Routes:
        if root is None:
            raise self.fail(None, "is empty; it needs a 'routes:' list (see deploy/routes.example.yaml)")
        fields = self.mapping(root, ("routes",), "the file")
        listed = fields.get("routes")
        if not isinstance(listed, SequenceNode):
            raise self.fail(listed or root, "'routes' must be a list of routes, each starting with '- '")
        rules = tuple(self.route(node, index) for index, node in enumerate(listed.value, start=1))
        self.check_reachable(listed.value, rules)
        seen = {FALLBACK_ROUTE_NAME}
        for node, rule in zip(listed.value, rules, strict=True):
            if rule.name in seen:
                raise self.fail(
                    node, f"route name {rule.name!r} is used twice or is reserved; names are unique"
                )
            seen.add(rule.name)
        return Routes(rules, Route(FALLBACK_ROUTE_NAME, fallback_channel))

    def check_reachable(self, nodes: list[Node], rules: tuple[Route, ...]) -> None:
        for node, rule in zip(nodes[:-1], rules[:-1], strict=True):
            if rule.match.matches_everything:
                raise self.fail(
                    node,
                    f"route {rule.name!r} matches every approval, so the routes after it can never match; "
                    "give it a 'match:' or move it last",
                )

    def mapping(self, node: Node, known: tuple[str, ...], what: str) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping of keys ({', '.join(known)})")
        fields: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key not in known:
                raise self.fail(key_node, f"unknown key {key!r} in {what}; the keys are: {', '.join(known)}")
            if key in fields:
                raise self.fail(key_node, f"key {key!r} appears twice in {what}")
            fields[key] = value_node
        return fields

    def route(self, node: Node, index: int) -> Route:
        fields = self.mapping(node, ROUTE_KEYS, f"route {index}")
        name = self.optional(fields, "name", self.text) or f"route {index}"
        channel_node = fields.get("channel")
        if channel_node is None:
            raise self.fail(node, f"route {name!r} has no 'channel' (a channel id such as C0123ABCD)")
        channel = self.text(channel_node)
        if not CHANNEL_ID.fullmatch(channel):
            raise self.fail(
                channel_node, f"channel {channel!r} is not a Slack channel id (such as C0123ABCD)"
            )
        required = self.optional(fields, "required_approvals", self.required_approvals) or 1
        approvers = self.optional(fields, "approvers", self.approvers)
        only_users = approvers is not None and not any(a.startswith("S") for a in approvers)
        if approvers is not None and only_users and len(approvers) < required:
            raise self.fail(
                fields["approvers"],
                f"route {name!r} needs {required} approvals but names only {len(approvers)} approver(s)",
            )
        currency = self.optional(fields, "currency", self.currency)
        min_order_total = self.optional(fields, "min_order_total", lambda n: self.money(n, currency))
        if min_order_total is not None and required == 1:
            raise self.fail(
                fields["min_order_total"], "'min_order_total' needs 'required_approvals' of 2 or more"
            )
        match = self.optional(fields, "match", lambda n: self.match(n, currency)) or RouteMatch()
        notify_dm = self.optional(fields, "notify", self.notify) or False
        if notify_dm and approvers is None:
            raise self.fail(fields["notify"], f"route {name!r} says 'notify: dm' but names no 'approvers'")
        return Route(name, channel, match, approvers, required, min_order_total, notify_dm)

    def notify(self, node: Node) -> bool:
        """``notify: dm``: the route's approvers also get each card as a direct message."""
        value = self.text(node)
        if value != "dm":
            raise self.fail(node, f"'notify' must be 'dm' (or left out), not {value!r}")
        return True

    def optional(self, fields: dict[str, Node], key: str, read: Callable[[Node], T]) -> T | None:
        node = fields.get(key)
        if node is None or (isinstance(node, ScalarNode) and node.tag == NULL_TAG):
            return None
        return read(node)

    def match(self, node: Node, currency: str | None) -> RouteMatch:
        fields = self.mapping(node, MATCH_KEYS, "'match'")
        kinds = self.optional(fields, "kind", self.kinds) or frozenset()
        min_total = self.optional(fields, "min_total", lambda n: self.money(n, currency))
        max_total = self.optional(fields, "max_total", lambda n: self.money(n, currency))
        if min_total is not None and max_total is not None:
            for code, low in min_total.amounts:
                high = max_total.in_currency(code)
                if high is not None and high <= low:
                    raise self.fail(fields["max_total"], f"'max_total' must be above 'min_total' ({code})")
        return RouteMatch(
            kinds=kinds,
            organizations=frozenset(self.optional(fields, "organization", self.words) or ()),
            flow_type_ids=frozenset(self.optional(fields, "flow_type_id", self.words) or ()),
            min_total=min_total,
            max_total=max_total,
        )

    def text(self, node: Node) -> str:
        if not isinstance(node, ScalarNode) or node.tag == NULL_TAG or not node.value.strip():
            raise self.fail(node, "expected a single value here")
        return str(node.value).strip()

    def words(self, node: Node) -> tuple[str, ...]:
        """One value or a list of values."""
        items = node.value if isinstance(node, SequenceNode) else [node]
        if not items:
            raise self.fail(node, "the list is empty; leave the key out to match anything")
        return tuple(self.text(item) for item in items)

    def kinds(self, node: Node) -> frozenset[ApprovalKind]:
        kinds = set()
        for word in self.words(node):
            try:
                kinds.add(ApprovalKind(word.lower()))
            except ValueError:
                raise self.fail(node, f"kind {word!r} is not 'order' or 'buyer'") from None
        return frozenset(kinds)

    def approvers(self, node: Node) -> tuple[str, ...]:
        if isinstance(node, SequenceNode) and not node.value:
            raise self.fail(
                node, "'approvers' is empty, so nobody could decide; leave it out to use APPROVERS"
            )
        approvers = self.words(node)
        for approver in approvers:
            if not APPROVER_ID.fullmatch(approver):
                raise self.fail(
                    node, f"approver {approver!r} is not a Slack user id (U…) or user-group id (S…)"
                )
        return tuple(dict.fromkeys(approvers))

    def required_approvals(self, node: Node) -> int:
        text = self.text(node)
        if not text.isdigit() or not 1 <= int(text) <= MAX_REQUIRED_APPROVALS:
            raise self.fail(
                node, f"'required_approvals' must be a whole number from 1 to {MAX_REQUIRED_APPROVALS}"
            )
        return int(text)

    def currency(self, node: Node) -> str:
        code = self.text(node).upper()
        if not CURRENCY_CODE.fullmatch(code):
            raise self.fail(node, f"currency {code!r} is not an ISO 4217 code (such as EUR or USD)")
        return code

    def money(self, node: Node, currency: str | None) -> Money:
        """``{EUR: 10000, USD: 11000}``, or a plain number in the route's ``currency``."""
        if isinstance(node, MappingNode):
            if not node.value:
                raise self.fail(node, "the amounts are empty; give one per currency, e.g. {EUR: 10000}")
            amounts: dict[str, Decimal] = {}
            for key_node, value_node in node.value:
                code = self.currency(key_node)
                if code in amounts:
                    raise self.fail(key_node, f"currency {code} appears twice")
                amounts[code] = self.amount(value_node)
            return Money(tuple(sorted(amounts.items())))
        amount = self.amount(node)
        if currency is None:
            raise self.fail(
                node,
                f"the amount {self.text(node)} names no currency, and totals are only compared in one "
                f"currency: write it as {{EUR: {self.text(node)}}} (one amount per currency), or give the "
                "route a 'currency' key (e.g. currency: EUR)",
            )
        return Money(((currency, amount),))

    def amount(self, node: Node) -> Decimal:
        text = self.text(node)
        try:
            amount = Decimal(text.replace("_", ""))
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0:
            raise self.fail(node, f"{text!r} is not an amount (a number such as 10000 or 2500.50)")
        return amount
