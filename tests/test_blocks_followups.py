"""Builders of the approver's day: thread replies, summaries, reminders, escalations, digest, App Home."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from bot.commerce.models import ApprovalPage, Decision
from bot.slack.outbound.blocks.digest import DecidedBy, FailedProcess, daily_digest
from bot.slack.outbound.blocks.followups import (
    Waiting,
    backlog_summary,
    decision_reply,
    escalation,
    mention,
    reminder,
    reminder_summary,
    waited,
)
from bot.slack.outbound.blocks.home import approver_home, visitor_home
from bot.slack.outbound.blocks.ids import APPROVE_ACTION_ID, HOME_NEWER_ACTION_ID, HOME_OLDER_ACTION_ID
from bot.storage.records import AuditEntry, Watch
from tests.test_blocks import (
    HOSTILE,
    action_ids,
    approval,
    assert_no_live_markup,
    check_blocks,
    check_message,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_mentions_groups_and_users_and_never_anything_else() -> None:
    assert mention("S0123") == "<!subteam^S0123>"
    assert mention("U0123") == "<@U0123>"
    assert mention("<!channel>") == "&lt;!channel&gt;"


def test_waited_speaks_in_the_unit_that_matters() -> None:
    assert waited(timedelta(minutes=12)) == "12 min"
    assert waited(timedelta(hours=5, minutes=59)) == "5 h"
    assert waited(timedelta(days=3)) == "3 d"
    assert waited(timedelta(days=3, hours=4)) == "3 d 4 h"


def test_a_decision_reply_escapes_the_comment() -> None:
    text, blocks = decision_reply(Decision.REJECT, decided_by="U1", comment=HOSTILE)
    rendered = check_message((text, blocks))
    assert text.startswith("❌ Rejected by <@U1>: ")
    assert_no_live_markup(rendered)


def test_a_summary_of_a_huge_backlog_names_the_oldest_ten_and_counts_the_rest() -> None:
    approvals = [
        approval(id=str(20000 + n), submit_time=NOW - timedelta(minutes=n), submitter_name=HOSTILE * 30)
        for n in range(5000)
    ]
    rendered = check_message(backlog_summary(approvals))
    assert "5000 approvals are waiting" in rendered
    assert "24999" in rendered and "20000" not in rendered  # oldest first
    assert "…and 4990 more." in rendered
    assert action_ids(backlog_summary(approvals)[1]) == []
    assert_no_live_markup(rendered)


def test_reminders_and_escalations_mention_and_link() -> None:
    item = Waiting("10003", timedelta(hours=4), "https://x.slack.com/archives/C1/p1")
    rendered = check_message(reminder(item, ["U1", "S2"], number=2, of=3))
    assert "<@U1> <!subteam^S2>: approval `10003` has waited 4 h" in rendered
    assert "Reminder 2 of 3." in rendered
    many = [Waiting(str(n), timedelta(hours=n)) for n in range(300)]
    assert "…and 290 more." in check_message(reminder_summary(many, []))
    rendered = check_message(escalation([item], ["U_BOSS"]))
    assert "<@U_BOSS>: *1 approval has not been decided* in time" in rendered
    assert "<https://x.slack.com/archives/C1/p1|approval 10003>" in rendered


def test_the_digest_fits_a_message_whatever_the_day_held() -> None:
    oldest = [Waiting(str(n), timedelta(days=n), None) for n in range(50)]
    decided = [DecidedBy(f"U{n}", approved=n, rejected=1) for n in range(100)]
    failed = [FailedProcess(str(n), "FAILURE", "<@U999>") for n in range(1000)]
    text, blocks = daily_digest(date(2026, 3, 2), pending=50, oldest=oldest, decided=decided, failed=failed)
    rendered = check_message((text, blocks))
    assert "50 approvals are waiting" in rendered
    assert "…and 90 more." in rendered and "…and 990 more." in rendered
    assert "<@U999>" not in rendered
    quiet = check_message(daily_digest(date(2026, 3, 2), pending=0, oldest=[], decided=[], failed=[]))
    assert "Nothing is waiting" in quiet and "nothing in Slack" in quiet


def test_an_approver_home_stays_within_100_blocks_with_long_texts() -> None:
    items = [approval(id=str(30000 + n), submitter_name=HOSTILE * 100) for n in range(10)]
    page = ApprovalPage(items=items, total=5000)
    decisions = [AuditEntry("U1", "approve", str(n), "ok", comment=HOSTILE * 10, at=NOW) for n in range(10)]
    watches = [Watch(str(n), "C1", "U1", NOW, last_state="FAILURE", finished_at=NOW) for n in range(10)]
    notice = "<@U1> is already deciding; Commerce said <!channel>"  # bot-written: plain mentions stay
    view = approver_home(page, page_number=2, decisions=decisions, watches=watches, notice=notice)
    assert view["type"] == "home"
    check_blocks(view["blocks"], max_blocks=100)
    assert action_ids(view["blocks"]).count(APPROVE_ACTION_ID) == 10
    assert HOME_NEWER_ACTION_ID in action_ids(view["blocks"])
    assert HOME_OLDER_ACTION_ID in action_ids(view["blocks"])
    assert_no_live_markup(json.dumps(view))
    assert "<@U1> is already deciding" in json.dumps(view)


def test_the_last_page_has_no_more_button_and_commerce_down_is_said() -> None:
    last = approver_home(ApprovalPage(items=[approval()], total=11), page_number=2, decisions=[], watches=[])
    assert HOME_OLDER_ACTION_ID not in action_ids(last["blocks"])
    down = approver_home(None, page_number=1, decisions=[], watches=[])
    assert "could not be read" in json.dumps(down)


def test_a_visitor_home_has_no_buttons_and_names_the_approvers() -> None:
    view = visitor_home(["U1", "S2"], [])
    check_blocks(view["blocks"], max_blocks=100)
    assert action_ids(view["blocks"]) == []
    assert "<@U1> <!subteam^S2>" in json.dumps(view)
    assert "nobody yet" in json.dumps(visitor_home([], []))
