"""Slash-command text -> typed commands; malformed input becomes ShowHelp with a precise error."""

from __future__ import annotations

from datetime import date

import pytest

from bot.bol.models import EVENT_TYPES
from bot.commerce.models import ApprovalKind, ApprovalQuery, ApprovalState
from bot.limits import COMMENT_MAX_LENGTH, COMMERCE_COMMENT_BYTES
from bot.slack.inbound.parsing.approvals import (
    ApproveApproval,
    ListApprovals,
    RejectApproval,
    ShowApproval,
    ShowWhoami,
    parse_approvals_command,
)
from bot.slack.inbound.parsing.common import ShowHelp
from bot.slack.inbound.parsing.process_status import (
    ProcessesByEntity,
    ShowProcess,
    UnwatchProcess,
    WatchProcess,
    parse_process_status_command,
)
from bot.slack.outbound.blocks.command_text import list_command_text


def query_of(text: str) -> ApprovalQuery:
    parsed = parse_approvals_command(text)
    assert isinstance(parsed, ListApprovals), parsed
    return parsed.query


def error_of(parsed: object) -> str:
    assert isinstance(parsed, ShowHelp), parsed
    assert parsed.error, parsed
    return parsed.error


# -- /approvals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", " help "])
def test_help_and_empty(text: str) -> None:
    assert parse_approvals_command(text) == ShowHelp(error=None)


@pytest.mark.parametrize("text", ["whoami", " WHOAMI "])
def test_whoami(text: str) -> None:
    assert parse_approvals_command(text) == ShowWhoami()


def test_whoami_takes_nothing_more() -> None:
    assert "whoami takes nothing more" in error_of(parse_approvals_command("whoami U123"))


def test_an_unknown_subcommand_names_whoami_among_the_choices() -> None:
    assert "whoami" in error_of(parse_approvals_command("whoareyou"))


def test_list_defaults() -> None:
    query = query_of("list")
    assert query == ApprovalQuery(
        kind=None, state=ApprovalState.PENDING, page_number=1, page_size=10, order_by="D-submitTime"
    )


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("orders", ApprovalKind.ORDER),
        ("buyers", ApprovalKind.BUYER),
        ("all", None),
        ("Orders", ApprovalKind.ORDER),
    ],
)
def test_list_kinds(word: str, kind: ApprovalKind | None) -> None:
    assert query_of(f"list {word}").kind is kind


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ("pending", ApprovalState.PENDING),
        ("approved", ApprovalState.APPROVED),
        ("REJECTED", ApprovalState.REJECTED),
        ("any", None),
    ],
)
def test_list_status(value: str, state: ApprovalState | None) -> None:
    assert query_of(f"list status={value}").state is state


def test_list_every_filter() -> None:
    query = query_of(
        'list orders status=approved first="Anne Marie" last=Smith from=2026-01-01 to=2026-01-31 '
        "page=3 size=25 sort=oldest"
    )
    assert query == ApprovalQuery(
        kind=ApprovalKind.ORDER,
        state=ApprovalState.APPROVED,
        submitter_first_name="Anne Marie",
        submitter_last_name="Smith",
        start_submit_time=date(2026, 1, 1),
        end_submit_time=date(2026, 1, 31),
        page_number=3,
        page_size=25,
        order_by="A-submitTime",
    )


def test_list_sort_newest_and_filter_order_does_not_matter() -> None:
    query = query_of("list sort=newest size=100 buyers page=2")
    assert (query.order_by, query.page_size, query.kind, query.page_number) == (
        "D-submitTime",
        100,
        ApprovalKind.BUYER,
        2,
    )


def test_list_quotes_smart_quotes_and_unbalanced_quotes() -> None:
    assert query_of("list first=“Anne Marie”").submitter_first_name == "Anne Marie"
    assert query_of("list last=O'Brien").submitter_last_name == "O'Brien"
    query = query_of('list first="Anne Marie" last=O\'Brien')
    assert (query.submitter_first_name, query.submitter_last_name) == ("Anne Marie", "O'Brien")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("list foo", "Unknown filter 'foo'"),
        ("list foo=bar", "Unknown filter 'foo'"),
        ("list status=open", "status must be pending, approved, rejected or any, got 'open'"),
        ("list from=31-01-2026", "from must be a date like 2026-01-31, got '31-01-2026'"),
        ("list to=2026-02-30", "to must be a date like 2026-01-31, got '2026-02-30'"),
        ("list from=2026-02-01 to=2026-01-01", "from (2026-02-01) must not be after to (2026-01-01)"),
        ("list page=0", "page must be a whole number from 1 to 10000, got '0'"),
        ("list page=two", "page must be a whole number from 1 to 10000, got 'two'"),
        ("list size=101", "size must be a whole number from 1 to 100, got '101'"),
        ("list size=0", "size must be a whole number from 1 to 100, got '0'"),
        ("list sort=random", "sort must be newest or oldest, got 'random'"),
        ("list page=1 page=2", "Filter 'page' is given twice"),
        ("list first=", "Filter 'first' needs a value"),
        ("list orders buyers", "Give only one of orders, buyers or all"),
    ],
)
def test_list_malformed(text: str, expected: str) -> None:
    assert expected in error_of(parse_approvals_command(text))


def test_show() -> None:
    assert parse_approvals_command("show 10003") == ShowApproval("10003")
    assert parse_approvals_command("SHOW 10003") == ShowApproval("10003")


def test_approve_with_and_without_comment() -> None:
    assert parse_approvals_command("approve 10003") == ApproveApproval("10003", None)
    assert parse_approvals_command("approve 10003   fine by me ") == ApproveApproval("10003", "fine by me")
    assert parse_approvals_command('approve 10003 "quoted, fine"') == ApproveApproval("10003", "quoted, fine")
    assert parse_approvals_command("approve 10003 customer's order") == ApproveApproval(
        "10003", "customer's order"
    )


def test_reject_keeps_the_reason_as_typed_and_decodes_slack_entities() -> None:
    assert parse_approvals_command("reject 10003 duplicate order") == RejectApproval(
        "10003", "duplicate order"
    )
    assert parse_approvals_command("reject 10003 R&amp;D budget &lt;2k&gt;") == RejectApproval(
        "10003", "R&D budget <2k>"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("show", "show needs an approval id"),
        ("show abc", "Approval id must be a number, got 'abc'"),
        ("show 12 13", "show takes only an approval id"),
        ("show 12345678901234567890", "Approval id is too long (at most 19 digits)"),
        ("show -5", "Approval id must be a number, got '-5'"),
        ("show ١٢٣", "Approval id must be a number"),
        ("approve", "approve needs an approval id"),
        ("approve abc", "Approval id must be a number, got 'abc'"),
        ("approve 1 " + "x" * 201, "The comment is too long (201 characters; at most 200)"),
        ("reject", "reject needs an approval id and a reason"),
        ("reject 10003", "reject needs a reason"),
        ("reject 10003   ", "reject needs a reason"),
        ('reject 10003 ""', "reject needs a reason"),
        ("reject abc because", "Approval id must be a number, got 'abc'"),
        ("reject 1 " + "x" * 201, "The reason is too long (201 characters; at most 200)"),
        ("frobnicate", "Unknown subcommand 'frobnicate'"),
    ],
)
def test_approvals_malformed(text: str, expected: str) -> None:
    assert expected in error_of(parse_approvals_command(text))


def characters_to_cut(prefix: str, note: str) -> int:
    """Counted here the slow way: characters dropped from the end until the UTF-8 form fits."""
    cut = 0
    while len(f"{prefix}: {note[: len(note) - cut]}".encode()) > COMMERCE_COMMENT_BYTES:
        cut += 1
    return cut


@pytest.mark.parametrize(("subcommand", "verb"), [("approve", "Approved"), ("reject", "Rejected")])
def test_a_comment_whose_utf8_form_does_not_fit_commerce_is_refused_with_how_much_shorter(
    subcommand: str, verb: str
) -> None:
    note = ("Überfällig: Preis über Budget € " * 6).strip()  # 191 characters, far more bytes
    assert len(note) <= COMMENT_MAX_LENGTH
    cut = characters_to_cut(f"{verb} in Slack by @jürgen (U0123ABCD)", note)
    assert cut > 0

    parsed = parse_approvals_command(f"{subcommand} 10003 {note}", user_id="U0123ABCD", user_name="jürgen")

    error = error_of(parsed)
    assert f"{cut} characters shorter" in error
    shorter = note[: len(note) - cut].strip()
    accepted = parse_approvals_command(
        f"{subcommand} 10003 {shorter}", user_id="U0123ABCD", user_name="jürgen"
    )
    assert not isinstance(accepted, ShowHelp), accepted


def test_the_byte_budget_counts_the_user_name_too() -> None:
    note = "x" * COMMENT_MAX_LENGTH
    assert isinstance(
        parse_approvals_command(f"reject 1 {note}", user_id="U1", user_name="jane"), RejectApproval
    )
    long_name = "j" * 80
    assert "characters shorter" in error_of(
        parse_approvals_command(f"reject 1 {note}", user_id="U1", user_name=long_name)
    )


def test_max_length_comment_and_id_are_accepted() -> None:
    assert parse_approvals_command("approve 1 " + "x" * 200) == ApproveApproval("1", "x" * 200)
    assert parse_approvals_command("show " + "9" * 19) == ShowApproval("9" * 19)


def test_echoed_values_are_shortened() -> None:
    error = error_of(parse_approvals_command("show " + "a" * 300))
    assert len(error) < 120


@pytest.mark.parametrize(
    "text",
    [
        "list",
        "list buyers status=rejected",
        'list orders status=any first="Anne Marie" last=O\'Brien from=2026-01-01 to=2026-02-01',
        "list all size=50 sort=oldest page=7",
    ],
)
def test_list_command_text_round_trips(text: str) -> None:
    query = query_of(text)
    command = list_command_text(query)
    assert command.startswith("/approvals list ")
    assert query_of(command.removeprefix("/approvals ")) == query


@pytest.mark.parametrize(
    "text",
    ['"', "list '", 'list first="', "show '\"", "\x00", "list ==", "list =x", "approve \n\t", "reject 1 \"'"],
)
def test_garbage_never_raises(text: str) -> None:
    assert parse_approvals_command(text) is not None
    assert parse_process_status_command(text) is not None


# -- /process-status -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "help", "Help"])
def test_process_help(text: str) -> None:
    assert parse_process_status_command(text) == ShowHelp(error=None)


def test_process_subcommands() -> None:
    assert parse_process_status_command("1234567") == ShowProcess("1234567")
    assert parse_process_status_command("abc-DEF_12") == ShowProcess("abc-DEF_12")
    assert parse_process_status_command("watch 1234567") == WatchProcess("1234567")
    assert parse_process_status_command("unwatch 1234567") == UnwatchProcess("1234567")
    assert parse_process_status_command("entity 555 create_shipment") == ProcessesByEntity(
        "555", "CREATE_SHIPMENT", 1
    )
    assert parse_process_status_command("entity 555 CANCEL_ORDER 3") == ProcessesByEntity(
        "555", "CANCEL_ORDER", 3
    )


def test_every_event_type_is_accepted() -> None:
    for event_type in EVENT_TYPES:
        parsed = parse_process_status_command(f"entity 1 {event_type.lower()}")
        assert parsed == ProcessesByEntity("1", event_type, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("watch", "watch needs a process status id"),
        ("unwatch", "unwatch needs a process status id"),
        ("watch a b", "watch takes one process status id"),
        ("watch bad/id", "Process status id may only use letters, digits, '-' and '_'"),
        ("bad.id!", "Process status id may only use letters, digits, '-' and '_'"),
        ("x" * 65, "Process status id may only use"),
        ("frob 123", "Unknown subcommand 'frob'"),
        ("entity", "entity needs an entity id and an event type"),
        ("entity 555", "entity needs an entity id and an event type"),
        ("entity 555 SHIP_IT", "Unknown event type 'SHIP_IT'; use one of CREATE_SHIPMENT, CANCEL_ORDER"),
        ("entity 555 CREATE_SHIPMENT 0", "page must be a whole number from 1 to 10000, got '0'"),
        ("entity 555 CREATE_SHIPMENT x", "page must be a whole number"),
        ("entity 555 CREATE_SHIPMENT 1 2", "unexpected '2'"),
        ("entity a<b CREATE_SHIPMENT", "Entity id may only use"),
        ("help me", "help takes no arguments"),
    ],
)
def test_process_malformed(text: str, expected: str) -> None:
    assert expected in error_of(parse_process_status_command(text))
