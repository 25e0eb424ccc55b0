"""Helpers for the identity tests: Commerce people, links in the bot's store, cards and clicks."""

from __future__ import annotations

import json
from typing import Any

from bot.commerce.models import ApprovalKind
from bot.sandbox.base import RecordedRequest
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.commerce_people import DEFAULT_ORGANIZATION, Person
from bot.sandbox.slack import SlackEmulator
from bot.storage.records import AuditEntry, IdentityLink
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL
from tests.waiting import wait_for

OTHER_ORGANIZATION = "7000000000000000202"


def add_person(commerce: CommerceEmulator, logon_id: str, *, approver_for: tuple[str, ...] = ()) -> Person:
    with commerce.lock:
        return commerce.people.add(logon_id, approver_for=approver_for)


def add_approver(commerce: CommerceEmulator, logon_id: str) -> Person:
    """A Commerce user with approver authority for the default buyer organization."""
    return add_person(commerce, logon_id, approver_for=(DEFAULT_ORGANIZATION,))


def link(bot: RunningBot, slack_user_id: str, person: Person) -> None:
    bot.call(bot.runtime.store.link_identity(IdentityLink(slack_user_id, person.logon_id, person.user_id)))


def card_of(bot: RunningBot, slack: SlackEmulator, approval_id: str) -> str:
    """Polls, and returns the ts of the approval's card."""
    bot.poll_approvals()
    for call in slack.calls("chat.postMessage"):
        top_level = call.get("channel") == APPROVALS_CHANNEL and not call.get("thread_ts")
        if top_level and approval_id in json.dumps(call.get("blocks")):
            return slack.message_ts(call)
    raise AssertionError(f"no card for approval {approval_id}")


def new_card(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, **approval: Any
) -> tuple[str, str]:
    approval_id = commerce.add_approval(approval.pop("kind", ApprovalKind.ORDER), **approval)
    return approval_id, card_of(bot, slack, approval_id)


def answer_at(slack: SlackEmulator, response_url: str) -> dict[str, Any]:
    """The first answer at ``response_url`` that is not the "still working" note of a slow machine."""
    return wait_for(
        lambda: [r for r in slack.responses(response_url) if "Still working" not in r.get("text", "")],
        what="the answer",
    )[0]


def approval_calls(commerce: CommerceEmulator, approval_id: str) -> list[RecordedRequest]:
    """Every request about the approval (reads and decisions)."""
    path = f"/approval_status/{approval_id}"
    return commerce.requests_to("GET", path) + commerce.requests_to("POST", path)


def audit_of(bot: RunningBot, approval_id: str, outcome: str) -> list[AuditEntry]:
    """Waits for the approval's audit rows with ``outcome`` (written just after the answer)."""
    return wait_for(
        lambda: [e for e in bot.call(bot.runtime.store.audit_entries(approval_id)) if e.outcome == outcome],
        what=f"an audit row {outcome}",
    )
