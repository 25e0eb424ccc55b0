"""Block Kit builders: valid-looking structure, limits, ids, escaping of hostile text."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.bol.models import ENTITY_PAGE_SIZE, ProcessState, ProcessStatus
from bot.commerce.models import (
    Approval,
    ApprovalKind,
    ApprovalPage,
    ApprovalQuery,
    ApprovalState,
    Decision,
    OrderSummary,
)
from bot.slack.inbound.parsing.approvals import ListApprovals, parse_approvals_command
from bot.slack.outbound.blocks import (
    RejectContext,
    approval_card,
    approval_detail,
    approvals_help,
    approvals_list,
    decided_card,
    decided_elsewhere_card,
    error_message,
    escape,
    not_found_card,
    parse_reject_metadata,
    process_purged_message,
    process_status_help,
    process_status_list,
    process_status_message,
    reject_modal,
    truncate,
    watch_confirmation,
)
from bot.slack.outbound.blocks.approval_card import format_money
from bot.slack.outbound.blocks.ids import (
    APPROVE_ACTION_ID,
    DETAILS_ACTION_ID,
    REASON_ACTION_ID,
    REASON_BLOCK_ID,
    REJECT_ACTION_ID,
    REJECT_MODAL_CALLBACK_ID,
)
from bot.slack.outbound.blocks.text import EN_DASH, slack_date

HOSTILE = "<!channel> & <@U999> <https://evil.example|click> <!here>"
SUBMITTED = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
TEXT_LIMITS = {"section": 3000, "header": 150, "context": 2000, "field": 2000, "button": 75}
BLOCK_TYPES = {"section", "header", "context", "actions", "divider", "input", "image"}


def approval(**overrides: Any) -> Approval:
    values: dict[str, Any] = {
        "id": "10003",
        "state": ApprovalState.PENDING,
        "entity_id": "5001",
        "submitter_id": "2002",
        "submitter_name": "Jane Smith",
        "submit_time": SUBMITTED,
        "kind": ApprovalKind.ORDER,
    }
    values.update(overrides)
    return Approval(**values)


def process(**overrides: Any) -> ProcessStatus:
    values: dict[str, Any] = {
        "process_status_id": "1234567",
        "event_type": "CREATE_SHIPMENT",
        "description": "Create shipment for order item 987654321",
        "state": ProcessState.SUCCESS,
        "entity_id": "987654321",
        "created_at": SUBMITTED,
    }
    values.update(overrides)
    return ProcessStatus(**values)


# -- a small Block Kit checker ------------------------------------------------------------------------


def check_text(obj: dict[str, Any], limit: int) -> None:
    assert obj["type"] in ("plain_text", "mrkdwn"), obj
    assert isinstance(obj["text"], str) and obj["text"], obj
    assert len(obj["text"]) <= limit, (len(obj["text"]), limit)
    if obj["type"] == "mrkdwn":
        # Without it Slack links bare URLs and channel names and turns a plain @channel into a ping.
        assert obj.get("verbatim") is True, obj


def check_button(element: dict[str, Any]) -> None:
    assert element["type"] == "button"
    assert element["text"]["type"] == "plain_text"
    check_text(element["text"], TEXT_LIMITS["button"])
    assert element["action_id"] and len(element["action_id"]) <= 255
    assert len(element.get("value", "")) <= 2000
    assert element.get("style") in (None, "primary", "danger")
    if "confirm" in element:
        confirm = element["confirm"]
        assert confirm["title"]["type"] == "plain_text" and len(confirm["title"]["text"]) <= 100
        assert len(confirm["text"]["text"]) <= 300
        assert confirm["confirm"]["type"] == "plain_text" and len(confirm["confirm"]["text"]) <= 30
        assert confirm["deny"]["type"] == "plain_text" and len(confirm["deny"]["text"]) <= 30


def check_checkboxes(element: dict[str, Any]) -> None:
    assert element["action_id"] and len(element["action_id"]) <= 255
    assert 1 <= len(element["options"]) <= 10
    for option in element["options"]:
        assert option["text"]["type"] == "plain_text"
        check_text(option["text"], 75)
        assert 1 <= len(option["value"]) <= 150


def check_blocks(blocks: list[dict[str, Any]], *, max_blocks: int = 50) -> None:
    assert isinstance(blocks, list)
    assert len(blocks) <= max_blocks
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
    for block in blocks:
        assert block["type"] in BLOCK_TYPES, block
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            check_text(block["text"], TEXT_LIMITS["header"])
        elif block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                check_text(block["text"], TEXT_LIMITS["section"])
            for item in block.get("fields", []):
                check_text(item, TEXT_LIMITS["field"])
            assert len(block.get("fields", [])) <= 10
        elif block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
            for element in block["elements"]:
                check_text(element, TEXT_LIMITS["context"])
        elif block["type"] == "actions":
            assert 1 <= len(block["elements"]) <= 25
            for element in block["elements"]:
                if element["type"] == "checkboxes":
                    check_checkboxes(element)
                else:
                    check_button(element)


def check_message(message: tuple[str, list[dict[str, Any]]]) -> str:
    text, blocks = message
    assert isinstance(text, str) and text.strip()
    check_blocks(blocks)
    return json.dumps(blocks, ensure_ascii=False) + text


def actions(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b["type"] == "actions"]


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in actions(blocks) for e in b["elements"]]


def assert_no_live_markup(rendered: str) -> None:
    for dangerous in ("<!channel>", "<!here>", "<@U999>", "<https://evil"):
        assert dangerous not in rendered


# -- helpers -------------------------------------------------------------------------------------


def test_escape() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("<!channel>") == "&lt;!channel&gt;"
    assert escape("&amp;") == "&amp;amp;"


def test_truncate_never_cuts_an_entity_or_reference() -> None:
    assert truncate("short", 10) == "short"
    cut = truncate("abcdefg&amp;hij", 10)
    assert len(cut) <= 10 and cut.endswith("…") and "&am" not in cut.replace("&amp;", "")
    cut = truncate("see <@U12345678> now", 10)
    assert "<" not in cut and len(cut) <= 10


def test_slack_date() -> None:
    rendered = slack_date(SUBMITTED)
    assert (
        rendered
        == f"<!date^{int(SUBMITTED.timestamp())}^{{date_short_pretty}} {{time}}|2026-01-31T09:30:00Z>"
    )
    naive = slack_date(datetime(2026, 1, 31, 9, 30))  # naive means UTC
    assert naive == rendered


# -- approval cards ------------------------------------------------------------------------------


def test_approval_card_for_an_order() -> None:
    text, blocks = approval_card(approval())
    rendered = check_message((text, blocks))
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Order approval requested", "emoji": True},
    }
    for fact in ("Jane Smith", "Order", "5001", "10003", slack_date(SUBMITTED)):
        assert fact in rendered
    (block,) = actions(blocks)
    assert block["block_id"] == "approval_actions:10003"
    approve, reject, details = block["elements"]
    assert (details["action_id"], details["value"], details.get("style")) == (
        DETAILS_ACTION_ID,
        "10003",
        None,
    )
    assert (approve["action_id"], approve["value"], approve["style"]) == (
        APPROVE_ACTION_ID,
        "10003",
        "primary",
    )
    assert (reject["action_id"], reject["value"], reject["style"]) == (REJECT_ACTION_ID, "10003", "danger")
    assert approve["confirm"]["title"]["text"] == "Approve this request?"
    assert "5001" in approve["confirm"]["text"]["text"]
    assert approve["confirm"]["confirm"]["text"] == "Approve"
    assert approve["confirm"]["deny"]["text"] == "Cancel"
    assert "confirm" not in reject
    assert "5001" in text and "Jane Smith" in text


def test_approval_card_for_a_buyer_guesses_the_kind() -> None:
    buyer = approval(kind=None, entity_id="2002", submitter_id="2002", submitter_name=None)
    text, blocks = approval_card(buyer)
    rendered = check_message((text, blocks))
    assert blocks[0]["text"]["text"] == "Buyer approval requested"
    assert "Buyer registration" in rendered
    assert "member `2002`" in rendered
    assert "Buyer id" in rendered


def test_unknown_submit_time_is_shown_as_unknown() -> None:
    rendered = check_message(approval_card(approval(submit_time=None)))
    assert "unknown" in rendered


def test_hostile_text_is_escaped_everywhere() -> None:
    hostile = approval(
        submitter_name=HOSTILE,
        entity_id=HOSTILE,
        comment=HOSTILE,
        state=ApprovalState.REJECTED,
        approver_id=HOSTILE,
        approve_time=SUBMITTED,
    )
    messages = [
        approval_card(approval(submitter_name=HOSTILE, entity_id=HOSTILE)),
        decided_card(
            hostile, decision=Decision.REJECT, decided_by="U_APPROVER", decided_at=SUBMITTED, comment=HOSTILE
        ),
        decided_card(
            hostile, decision=Decision.REJECT, decided_by=HOSTILE, decided_at=SUBMITTED, comment=None
        ),
        decided_elsewhere_card(hostile),
        approval_detail(hostile, can_act=True),
        approval_detail(approval(submitter_name=HOSTILE, entity_id=HOSTILE), can_act=True),
        not_found_card(HOSTILE),
        approvals_list(
            ApprovalPage(items=[hostile], total=30),
            ApprovalQuery(submitter_first_name=HOSTILE, page_size=1),
        ),
        process_status_message(
            process(description=HOSTILE, entity_id=HOSTILE, error_message=HOSTILE, event_type=HOSTILE)
        ),
        process_purged_message(HOSTILE),
        process_status_list(
            [process(description=HOSTILE, error_message=HOSTILE)],
            entity_id=HOSTILE,
            event_type=HOSTILE,
            page=1,
        ),
        watch_confirmation(HOSTILE, HOSTILE, process(description=HOSTILE)),
        approvals_help(HOSTILE),
        process_status_help(HOSTILE),
    ]
    for message in messages:
        rendered = check_message(message)
        assert_no_live_markup(rendered)
        assert "&lt;!channel&gt;" in rendered
    # error_message keeps plain user mentions on purpose (see below); special mentions never survive.
    rendered = check_message(error_message(HOSTILE))
    assert "<!channel>" not in rendered and "<!here>" not in rendered and "<https://evil" not in rendered


def mrkdwn_objects(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [found for item in node for found in mrkdwn_objects(item)]
    if not isinstance(node, dict):
        return []
    own = [node] if node.get("type") == "mrkdwn" else []
    return own + [found for value in node.values() for found in mrkdwn_objects(value)]


def test_remote_text_is_shown_verbatim_so_bare_urls_and_at_channel_stay_plain() -> None:
    remote = "see https://evil.example/pay and tell @channel #general"
    messages = [
        approval_card(approval(submitter_name=remote)),
        decided_card(
            approval(), decision=Decision.REJECT, decided_by="U1", decided_at=SUBMITTED, comment=remote
        ),
        decided_elsewhere_card(approval(state=ApprovalState.REJECTED, comment=remote)),
        process_status_message(process(state=ProcessState.FAILURE, error_message=remote)),
        error_message(f"Commerce could not answer: {remote}"),
    ]
    for _, blocks in messages:
        shown = [obj for obj in mrkdwn_objects(blocks) if "evil.example" in obj["text"]]
        assert shown
        assert all(obj.get("verbatim") is True for obj in mrkdwn_objects(blocks))


def test_confirm_dialog_does_not_name_a_strange_entity() -> None:
    _, blocks = approval_card(approval(entity_id=HOSTILE))
    confirm = actions(blocks)[0]["elements"][0]["confirm"]
    assert confirm["text"]["text"] == "Approve this order (approval 10003)? Commerce is updated right away."


def test_long_remote_text_is_truncated_to_slack_limits() -> None:
    long = approval(submitter_name="N" * 5000, comment="c" * 5000, entity_id="e" * 3000)
    check_message(approval_card(long))
    check_message(
        decided_card(
            long, decision=Decision.APPROVE, decided_by="U1", decided_at=SUBMITTED, comment="<" * 4000
        )
    )
    check_message(decided_elsewhere_card(approval(state=ApprovalState.APPROVED, comment="&" * 4000)))
    check_message(process_status_message(process(error_message="x" * 9000, description="d" * 9000)))


def test_decided_card_has_no_actions_and_says_who_when_and_why() -> None:
    text, blocks = decided_card(
        approval(),
        decision=Decision.APPROVE,
        decided_by="U123",
        decided_at=SUBMITTED + timedelta(hours=1),
        comment="fine by me\nsecond line",
    )
    rendered = check_message((text, blocks))
    assert actions(blocks) == []
    assert f"✅ *Approved* by <@U123> at {slack_date(SUBMITTED + timedelta(hours=1))}" in rendered
    assert "> fine by me\\n> second line" in rendered
    assert "5001" in rendered

    _, rejected = decided_card(
        approval(), decision=Decision.REJECT, decided_by="U123", decided_at=SUBMITTED, comment="over budget"
    )
    assert actions(rejected) == []
    assert "❌ *Rejected* by <@U123>" in json.dumps(rejected, ensure_ascii=False)


@pytest.mark.parametrize(
    ("state", "phrase"),
    [
        (ApprovalState.APPROVED, "Approved in Commerce"),
        (ApprovalState.REJECTED, "Rejected in Commerce"),
        (ApprovalState.PENDING, "No longer pending in Commerce"),
    ],
)
def test_decided_elsewhere_card(state: ApprovalState, phrase: str) -> None:
    decided = approval(
        state=state, approve_time=SUBMITTED, comment="approved at the desk", approver_id="3003"
    )
    text, blocks = decided_elsewhere_card(decided)
    rendered = check_message((text, blocks))
    assert actions(blocks) == []
    assert phrase in rendered
    assert "approved at the desk" in rendered
    assert "3003" in rendered
    assert "Commerce" in text


def test_not_found_card() -> None:
    text, blocks = not_found_card("10003")
    rendered = check_message((text, blocks))
    assert actions(blocks) == []
    assert "10003" in rendered and "no longer exists" in rendered


def test_approval_detail_buttons_only_for_approvers_on_pending() -> None:
    pending = approval()
    assert action_ids(approval_detail(pending, can_act=True)[1]) == [
        APPROVE_ACTION_ID,
        REJECT_ACTION_ID,
        DETAILS_ACTION_ID,
    ]
    outsider = approval_detail(pending, can_act=False)
    assert action_ids(outsider[1]) == []
    assert "Only approvers" in check_message(outsider)
    decided = approval(state=ApprovalState.APPROVED, approve_time=SUBMITTED, comment="ok")
    detail = approval_detail(decided, can_act=True)
    rendered = check_message(detail)
    assert action_ids(detail[1]) == []
    assert "Approved" in rendered and "10003" in rendered and "> ok" in rendered


# -- order details on order approvals -------------------------------------------------------------------


def order(**overrides: Any) -> OrderSummary:
    values: dict[str, Any] = {
        "order_id": "5001",
        "grand_total": Decimal("1234.50000"),
        "currency": "EUR",
        "item_count": 3,
        "status": "W",
    }
    values.update(overrides)
    return OrderSummary(**values)


def fields(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """``label -> value`` of every field on the card (``*label*\nvalue``)."""
    pairs = [f["text"].split("\n", 1) for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    return {label.strip("*"): value for label, value in pairs}


BASE_FIELDS = ["Submitted by", "What", "Order id", "Submitted", "Approval id"]


def test_approval_card_without_order_details_is_as_before() -> None:
    text, blocks = approval_card(approval())
    assert list(fields(blocks)) == BASE_FIELDS
    assert text == "Approval requested: Order 5001 from Jane Smith"
    assert approval_card(approval(), None) == (text, blocks)


def test_approval_card_shows_total_items_and_status() -> None:
    text, blocks = approval_card(approval(), order())
    check_message((text, blocks))
    shown = fields(blocks)
    assert list(shown) == [
        "Submitted by",
        "What",
        "Order id",
        "Total",
        "Items",
        "Order status",
        "Submitted",
        "Approval id",
    ]
    assert (shown["Total"], shown["Items"], shown["Order status"]) == (
        "EUR 1,234.50",
        "3",
        "Awaiting approval (W)",
    )
    assert text == "Approval requested: Order 5001 from Jane Smith (EUR 1,234.50)"
    assert action_ids(blocks) == [APPROVE_ACTION_ID, REJECT_ACTION_ID, DETAILS_ACTION_ID]


def test_only_known_order_details_are_shown() -> None:
    _, blocks = approval_card(approval(), order(grand_total=None, currency=None, status=None))
    assert list(fields(blocks)) == ["Submitted by", "What", "Order id", "Items", "Submitted", "Approval id"]
    text, blocks = approval_card(approval(), order(item_count=None, currency=None, status="Q"))
    shown = fields(blocks)
    assert (shown["Total"], shown["Order status"]) == ("1,234.50", "`Q`")
    assert "Items" not in shown
    assert text.endswith("(1,234.50)")
    empty = order(grand_total=None, currency=None, item_count=None, status=None)
    assert list(fields(approval_card(approval(), empty)[1])) == BASE_FIELDS


def test_zero_items_are_shown() -> None:
    assert fields(approval_card(approval(), order(item_count=0))[1])["Items"] == "0"


def test_details_of_another_order_are_never_shown() -> None:
    assert approval_card(approval(), order(order_id="9999")) == approval_card(approval())
    buyer = approval(kind=ApprovalKind.BUYER, entity_id="2002")
    assert approval_card(buyer, order(order_id="5001")) == approval_card(buyer)


def test_closed_cards_and_detail_keep_order_details_within_ten_fields() -> None:
    details = order()
    decided = approval(state=ApprovalState.APPROVED, approve_time=SUBMITTED, approver_id="3003")
    messages = [
        decided_card(
            approval(),
            decision=Decision.APPROVE,
            decided_by="U1",
            decided_at=SUBMITTED,
            comment=None,
            order=details,
        ),
        decided_elsewhere_card(decided, details),
        approval_detail(decided, can_act=True, order=details),
        approval_detail(approval(), can_act=True, order=details),
    ]
    for message in messages:
        check_message(message)
        shown = fields(message[1])
        assert shown["Total"] == "EUR 1,234.50" and shown["Items"] == "3"
        assert len(shown) <= 10
    assert len(fields(approval_detail(decided, can_act=False, order=details)[1])) == 9
    assert "State" in fields(messages[2][1])
    # and without order details, exactly as before
    plain_decided = decided_card(
        approval(), decision=Decision.APPROVE, decided_by="U1", decided_at=SUBMITTED, comment=None
    )
    assert list(fields(plain_decided[1])) == BASE_FIELDS
    assert list(fields(decided_elsewhere_card(decided)[1])) == BASE_FIELDS
    assert list(fields(approval_detail(decided, can_act=True)[1])) == [*BASE_FIELDS, "State"]


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("1234.5"), "EUR", "EUR 1,234.50"),
        (Decimal("90.00000"), "USD", "USD 90.00"),
        (Decimal("1234567.891"), "USD", "USD 1,234,567.89"),
        (Decimal("0.005"), "USD", "USD 0.01"),
        (Decimal("-10"), "USD", "USD -10.00"),
        (Decimal("15000.4"), "JPY", "JPY 15,000"),
        (Decimal("12.3456"), "KWD", "KWD 12.346"),
        (Decimal("12"), None, "12.00"),
        (Decimal("12"), " ", "12.00"),
        (Decimal("1E+40"), "USD", "USD 1E+40"),
    ],
)
def test_format_money(amount: Decimal, currency: str | None, expected: str) -> None:
    assert format_money(amount, currency) == expected


def test_hostile_order_details_are_escaped() -> None:
    hostile = order(currency=HOSTILE, status=HOSTILE)
    for message in (
        approval_card(approval(), hostile),
        decided_elsewhere_card(approval(state=ApprovalState.REJECTED), hostile),
        approval_detail(approval(), can_act=False, order=hostile),
    ):
        rendered = check_message(message)
        assert_no_live_markup(rendered)
        assert "&lt;!channel&gt;" in rendered
    long = order(currency="X" * 5000, status="S" * 5000)
    check_message(approval_card(approval(), long))


# -- /approvals list ---------------------------------------------------------------------------------


def page_of(count: int, *, total: int, start: int = 0) -> ApprovalPage:
    items = [
        approval(id=str(20000 + i), entity_id=str(5000 + i), submit_time=SUBMITTED - timedelta(minutes=i))
        for i in range(count)
    ]
    return ApprovalPage(items=items, total=total, start=start)


def test_list_shows_each_approval_range_and_next_page_hint() -> None:
    query = ApprovalQuery(
        kind=ApprovalKind.ORDER, page_number=1, page_size=10, submitter_first_name="Anne Marie"
    )
    text, blocks = approvals_list(page_of(10, total=25), query)
    rendered = check_message((text, blocks))
    for i in range(10):
        assert str(20000 + i) in rendered
    assert f"Showing 1{EN_DASH}10 of 25" in rendered
    assert '/approvals list orders first=\\"Anne Marie\\" page=2' in rendered
    assert len([b for b in blocks if b["type"] == "section"]) == 11  # title + one per approval


def test_next_page_hint_parses_back_to_the_next_page() -> None:
    query = parse_approvals_command("list buyers status=approved from=2026-01-01 size=5 sort=oldest page=2")
    assert isinstance(query, ListApprovals)
    _, blocks = approvals_list(page_of(5, total=30), query.query)
    hint = next(
        e["text"] for b in blocks if b["type"] == "context" for e in b["elements"] if "Next page" in e["text"]
    )
    command = hint.split("`")[1].removeprefix("/approvals ")
    parsed = parse_approvals_command(command)
    assert isinstance(parsed, ListApprovals)
    assert parsed.query.page_number == 3
    assert parsed.query.start_submit_time == date(2026, 1, 1)
    assert parsed.query.order_by == "A-submitTime"
    assert f"Showing 6{EN_DASH}10 of 30" in json.dumps(blocks, ensure_ascii=False)


def test_last_page_has_no_next_hint() -> None:
    rendered = check_message(
        approvals_list(page_of(5, total=25, start=20), ApprovalQuery(page_number=3, page_size=10))
    )
    assert f"Showing 21{EN_DASH}25 of 25" in rendered
    assert "Next page" not in rendered


def test_a_full_page_of_100_stays_under_50_blocks() -> None:
    text, blocks = approvals_list(page_of(100, total=1000), ApprovalQuery(page_size=100))
    rendered = check_message((text, blocks))
    assert len(blocks) < 50
    for i in range(100):
        assert f"*{20000 + i}*" in rendered


def test_empty_list() -> None:
    text, blocks = approvals_list(ApprovalPage(items=[], total=0), ApprovalQuery(kind=ApprovalKind.BUYER))
    rendered = check_message((text, blocks))
    assert "No approvals match" in rendered and "buyers" in rendered


# -- reject modal ------------------------------------------------------------------------------------


def test_reject_modal_is_a_valid_modal() -> None:
    view = reject_modal("10003", channel="C_APPROVALS", message_ts="1700000000.000100")
    assert view["type"] == "modal"
    assert view["callback_id"] == REJECT_MODAL_CALLBACK_ID
    assert view["title"] == {"type": "plain_text", "text": "Reject request", "emoji": True}
    assert view["submit"]["text"] == "Reject" and view["close"]["text"] == "Cancel"
    for key in ("title", "submit", "close"):
        assert view[key]["type"] == "plain_text" and len(view[key]["text"]) <= 24
    check_blocks(view["blocks"], max_blocks=100)
    (field,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert field["block_id"] == REASON_BLOCK_ID
    assert field.get("optional", False) is False
    assert field["label"]["type"] == "plain_text"
    element = field["element"]
    assert element == {
        **element,
        "type": "plain_text_input",
        "action_id": REASON_ACTION_ID,
        "multiline": True,
        "min_length": 3,
        "max_length": 200,
    }
    assert len(view["private_metadata"]) <= 3000
    assert " " not in view["private_metadata"]  # compact JSON
    assert "10003" in json.dumps(view["blocks"])


def test_private_metadata_round_trip() -> None:
    view = reject_modal("10003", channel="C_APPROVALS", message_ts="1700000000.000100")
    assert parse_reject_metadata(view["private_metadata"]) == RejectContext(
        "10003", "C_APPROVALS", "1700000000.000100"
    )
    bare = reject_modal("42", channel=None, message_ts=None)
    assert parse_reject_metadata(bare["private_metadata"]) == RejectContext("42", None, None)
    url = "https://hooks.slack.com/actions/T1/123/abc"
    with_url = reject_modal("42", channel="C1", message_ts=None, response_url=url)
    assert parse_reject_metadata(with_url["private_metadata"]) == RejectContext("42", "C1", None, url)


@pytest.mark.parametrize(
    "metadata",
    [
        "",
        "not json",
        "[]",
        '"10003"',
        "{}",
        '{"approval_id":"abc"}',
        '{"approval_id":10003}',
        '{"approval_id":"1' + "0" * 19 + '"}',
        '{"approval_id":"10003","channel":"<!channel>"}',
        '{"approval_id":"10003","channel":"C1","message_ts":"yesterday"}',
        '{"approval_id":"10003","channel":5}',
        '{"approval_id":"10003","response_url":"javascript:alert(1)"}',
        '{"approval_id":"10003","response_url":"https://hooks.slack.com/a b"}',
        "x" * 4000,
    ],
)
def test_garbage_metadata_raises_value_error(metadata: str) -> None:
    with pytest.raises(ValueError):
        parse_reject_metadata(metadata)


def test_reject_modal_refuses_a_bad_approval_id() -> None:
    with pytest.raises(ValueError):
        reject_modal("abc", channel=None, message_ts=None)


# -- process statuses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "emoji"),
    [
        (ProcessState.SUCCESS, "✅"),
        (ProcessState.FAILURE, "❌"),
        (ProcessState.TIMEOUT, "⌛"),
        (ProcessState.PENDING, "🔄"),
    ],
)
def test_process_status_message(state: ProcessState, emoji: str) -> None:
    text, blocks = process_status_message(process(state=state))
    rendered = check_message((text, blocks))
    assert text.startswith(emoji)
    assert f"{emoji} *{state.value}*" in rendered
    for fact in ("Create shipment for order item 987654321", "CREATE_SHIPMENT", "987654321", "1234567"):
        assert fact in rendered
    assert slack_date(SUBMITTED) in rendered


def test_process_failure_shows_bol_error_message() -> None:
    rendered = check_message(
        process_status_message(process(state=ProcessState.FAILURE, error_message="Price too low for offer-1"))
    )
    assert "Price too low for offer-1" in rendered
    assert "Error from bol.com" in rendered


def test_announcement_credits_the_watcher_without_letting_a_bad_id_mention_anyone() -> None:
    rendered = check_message(process_status_message(process(), watched_by="U123ABC"))
    assert "Watched by <@U123ABC>" in rendered
    hostile = check_message(process_status_message(process(), watched_by="<!channel>"))
    assert "<!channel>" not in hostile
    assert "Watched by" not in check_message(process_status_message(process()))


def test_process_purged_message() -> None:
    rendered = check_message(process_purged_message("1234567"))
    assert "1234567" in rendered and "watch has ended" in rendered


def test_process_status_list_and_next_page_hint() -> None:
    statuses = [process(process_status_id=str(100 + i)) for i in range(3)]
    rendered = check_message(
        process_status_list(statuses, entity_id="555", event_type="CREATE_SHIPMENT", page=1)
    )
    assert rendered.count("CREATE_SHIPMENT") >= 4
    assert "Next page" not in rendered
    full = [process(process_status_id=str(100 + i)) for i in range(ENTITY_PAGE_SIZE)]
    text, blocks = process_status_list(full, entity_id="555", event_type="CREATE_SHIPMENT", page=2)
    rendered = check_message((text, blocks))
    assert len(blocks) <= 50
    assert "/process-status entity 555 CREATE_SHIPMENT 3" in rendered
    for i in range(ENTITY_PAGE_SIZE):
        assert f"`{100 + i}`" in rendered


def test_empty_process_status_list() -> None:
    rendered = check_message(process_status_list([], entity_id="555", event_type="CANCEL_ORDER", page=1))
    assert "No process statuses" in rendered


def test_watch_confirmation() -> None:
    rendered = check_message(watch_confirmation("1234567", "C_OPS", process(state=ProcessState.PENDING)))
    assert "1234567" in rendered and "<#C_OPS>" in rendered and "PENDING" in rendered
    assert "1234567" in check_message(watch_confirmation("1234567", "C_OPS", None))
    finished = check_message(watch_confirmation("1234567", "C_OPS", process(state=ProcessState.SUCCESS)))
    assert "already finished" in finished


# -- help and errors ----------------------------------------------------------------------------------


def test_approvals_help_lists_every_subcommand() -> None:
    rendered = check_message(approvals_help())
    for sub in ("list", "show", "approve", "reject", "help"):
        assert f"/approvals {sub}" in rendered
    for option in ("status=", "first=", "last=", "from=", "to=", "page=", "size=", "sort="):
        assert option in rendered
    assert "⚠️" not in rendered


def test_help_shows_the_error_first() -> None:
    text, blocks = approvals_help("Approval id must be a number, got 'abc'")
    check_message((text, blocks))
    assert blocks[0]["text"]["text"] == "⚠️ Approval id must be a number, got 'abc'"
    assert text.startswith("⚠️")
    _, process_blocks = process_status_help("Unknown event type 'SHIP_IT'")
    assert process_blocks[0]["text"]["text"].startswith("⚠️ Unknown event type 'SHIP_IT'")


def test_process_status_help_lists_every_subcommand_and_event_types() -> None:
    rendered = check_message(process_status_help())
    for sub in ("/process-status &lt;id&gt;", "watch", "unwatch", "entity", "help"):
        assert sub in rendered
    assert "UPDATE_OFFER_PRICE" in rendered


def test_error_message_keeps_plain_mentions_but_escapes_the_rest() -> None:
    text, blocks = error_message("<@U1> is deciding in <#C_OPS>; Commerce said <!channel> & <http://x|y>")
    rendered = check_message((text, blocks))
    assert "<@U1>" in rendered and "<#C_OPS>" in rendered
    assert "&lt;!channel&gt; &amp; &lt;http://x|y&gt;" in rendered
    assert text.startswith("⚠️")
