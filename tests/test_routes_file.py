"""``APPROVALS_ROUTES_FILE``: valid files become routes, bad ones name the file, the line and the problem."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from bot.commerce.models import Approval, ApprovalKind, ApprovalState, OrderSummary
from bot.services.routes_file import RoutesFileError, parse_routes, read_routes
from bot.services.routing import Routes

EXAMPLE = Path(__file__).resolve().parent.parent / "deploy" / "routes.example.yaml"
FALLBACK = "C_FALLBACK"


def order_approval(flow_type_id: str = "10005") -> Approval:
    return Approval("10003", ApprovalState.PENDING, "900", "4037", flow_type_id, kind=ApprovalKind.ORDER)


def buyer_approval() -> Approval:
    return Approval("10004", ApprovalState.PENDING, "4038", "4038", "10004", kind=ApprovalKind.BUYER)


def order(total: str | None, organization: str | None = "7000000000000000901") -> OrderSummary:
    return OrderSummary("900", None if total is None else Decimal(total), "EUR", organization_id=organization)


def routes(source: str) -> Routes:
    return parse_routes(source, Path("routes.yaml"), FALLBACK)


def problem(source: str) -> RoutesFileError:
    with pytest.raises(RoutesFileError) as caught:
        routes(source)
    return caught.value


def test_the_example_file_validates_and_routes_as_its_comments_say() -> None:
    example = read_routes(EXAMPLE, FALLBACK)

    assert [r.name for r in example.rules] == ["large-orders", "acme", "registrations"]
    large = example.route_for(order_approval(), order("30000"))
    assert large.channel == "C0LARGEORD"
    assert large.approvers == ("U0FINANCE1", "U0FINANCE2", "S0FINANCE")
    assert large.approvals_needed(order_approval(), order("30000")) == 2
    assert large.approvals_needed(order_approval(), order("12000")) == 1
    assert example.route_for(order_approval(), order("50")).name == "acme"
    assert example.route_for(buyer_approval(), None).channel == "C0ONBOARD"
    assert example.route_for(order_approval(), order("50", "7000000000000000999")).channel == FALLBACK


def test_no_file_means_every_card_goes_to_the_approvals_channel() -> None:
    only = read_routes(None, FALLBACK)

    assert only.rules == ()
    assert only.route_for(order_approval(), None).channel == FALLBACK
    assert only.decide_alike


def test_first_match_wins_and_an_unknown_total_matches_no_total_range() -> None:
    routed = routes(
        """
routes:
  - {name: small, channel: C_SMALL, currency: EUR, match: {kind: order, max_total: 100}}
  - {name: flows, channel: C_FLOWS, match: {flow_type_id: [10005, 10006]}}
"""
    )

    assert routed.route_for(order_approval(), order("99.99")).name == "small"
    assert routed.route_for(order_approval(), order("100")).name == "flows"
    assert routed.route_for(order_approval(), order(None)).name == "flows"
    assert routed.route_for(order_approval("10007"), order(None)).name == "default"


def test_an_order_of_unknown_total_needs_every_approval_of_the_two_person_rule() -> None:
    (route,) = routes(
        """
routes:
  - name: big
    channel: C_BIG
    approvers: [U1, U2]
    required_approvals: 2
    min_order_total: {EUR: 5000}
"""
    ).rules

    assert route.approvals_needed(order_approval(), order("5000")) == 1
    assert route.approvals_needed(order_approval(), order("5000.01")) == 2
    assert route.approvals_needed(order_approval(), None) == 2
    assert route.approvals_needed(buyer_approval(), None) == 1


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("routes:\n  - channel: C_A\n    chanel: C_B\n", 3, "unknown key 'chanel'"),
        ("routes:\n  - name: x\n", 2, "has no 'channel'"),
        ("routes:\n  - channel: '#general'\n", 2, "is not a Slack channel id"),
        ("routes:\n  - channel: C_A\n    match: {kind: orders}\n", 3, "'order' or 'buyer'"),
        ("routes:\n  - channel: C_A\n    approvers: []\n", 3, "nobody could decide"),
        ("routes:\n  - channel: C_A\n    approvers: [jane]\n", 3, "not a Slack user id"),
        ("routes:\n  - channel: C_A\n    required_approvals: 0\n", 3, "whole number from 1 to 10"),
        ("routes:\n  - channel: C_A\n    approvers: [U1]\n    required_approvals: 2\n", 3, "names only 1"),
        ("routes:\n  - channel: C_A\n    min_order_total: {EUR: 10}\n", 3, "needs 'required_approvals'"),
        ("routes:\n  - channel: C_A\n    match: {min_total: lots}\n", 3, "is not an amount"),
        (
            "routes:\n  - channel: C_A\n    match: {min_total: {EUR: 5}, max_total: {EUR: 5}}\n",
            3,
            "must be above",
        ),
        ("routes:\n  - channel: C_A\n    match: {min_total: 5}\n", 3, "names no currency"),
        ("routes:\n  - channel: C_A\n    currency: euro\n", 3, "not an ISO 4217 code"),
        (
            "routes:\n  - {name: a, channel: C_A, match: {kind: order}}\n  - {name: a, channel: C_B}\n",
            3,
            "twice",
        ),
        ("routes:\n  - {channel: C_A}\n  - {channel: C_B, match: {kind: buyer}}\n", 2, "can never match"),
        ("routes:\n  - channel: C_A\n   bad: indent\n", 3, "not valid YAML"),
        ("routes: C_A\n", 1, "must be a list"),
        ("# nothing\n", None, "is empty"),
    ],
)
def test_a_bad_file_names_its_line_and_the_problem(source: str, line: int | None, words: str) -> None:
    error = problem(source)

    assert error.line == line
    assert words in error.problem
    assert str(error).startswith("routes.yaml, line " if line else "routes.yaml: ")


def test_a_missing_file_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(RoutesFileError) as caught:
        read_routes(tmp_path / "nope.yaml", FALLBACK)

    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: cannot be read (No such file or directory)"


def test_the_manuals_example_is_a_valid_routes_file_with_the_example_files_routes() -> None:
    page = (EXAMPLE.parent.parent / "docs" / "using" / "routes.md").read_text(encoding="utf-8")
    section = page[page.index("# Routes") :]
    start = section.index("```yaml\n") + len("```yaml\n")
    block = section[start : section.index("```", start)]

    assert routes(block) == read_routes(EXAMPLE, FALLBACK)


CURRENCY_ROUTES = """
routes:
  - name: small
    channel: C_SMALL
    currency: EUR
    match: {kind: order, max_total: 1000}
  - name: large
    channel: C_LARGE
    match: {kind: order, min_total: {EUR: 10000, USD: 11000}}
    approvers: [U1, U2]
    required_approvals: 2
    min_order_total: {EUR: 25000, USD: 27000}
"""


def test_totals_are_compared_only_in_the_currencies_a_route_names() -> None:
    routed = routes(CURRENCY_ROUTES)

    def route_of(total: str, currency: str | None) -> str:
        summary = replace(order(total), currency=currency)
        return routed.route_for(order_approval(), summary).name

    assert route_of("999", "EUR") == "small"
    assert route_of("10500", "USD") == "default"
    assert route_of("11000", "USD") == "large"
    assert route_of("10000", "eur") == "large"


def test_an_order_in_a_currency_no_limit_names_takes_the_stricter_path_and_says_why() -> None:
    routed = routes(CURRENCY_ROUTES)
    kwd = replace(order("9000"), currency="KWD")  # about 27,000 EUR

    route = routed.route_for(order_approval(), kwd)

    assert route.name == "large"  # not "small" (below 1000 only in EUR), and above 10,000 EUR
    assert route.approvals_needed(order_approval(), kwd) == 2
    note = routed.currency_note(kwd)
    assert note is not None and "in KWD" in note and "small, large" in note and "stricter" in note
    assert routed.currency_note(replace(order("9000"), currency="USD")) is not None  # small: EUR only


def test_notify_dm_sends_copies_to_the_routes_users_only_and_needs_approvers() -> None:
    routed = routes(
        "routes:\n  - channel: C0123ABCD\n    match: {kind: order}\n    approvers: [U1, S2, W3]\n"
        "    notify: dm\n  - channel: C0456EFGH\n    approvers: [U4]\n"
    )
    assert routed.rules[0].dm_recipients == ("U1", "W3")
    assert routed.rules[1].dm_recipients == ()
    assert "'notify' must be 'dm'" in str(
        problem("routes:\n  - channel: C0123ABCD\n    approvers: [U1]\n    notify: email\n")
    )
    assert "names no 'approvers'" in str(problem("routes:\n  - channel: C0123ABCD\n    notify: dm\n"))
