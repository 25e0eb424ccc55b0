"""``/approvals whoami``: how a Slack user is linked to Commerce and what they may decide. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.outbound.blocks.text import code, context, escape, fallback, section, user_mention
from bot.slack.outbound.blocks.types import Message

LINK_COMMAND = "approvals-bot approvers link <Slack user id> <Commerce logon id>"


@dataclass(frozen=True)
class WhoamiFacts:
    """Plain values for the builder (the core's ``Whoami``, flattened)."""

    slack_user_id: str
    commerce_logon_id: str | None
    commerce_user_id: str | None
    linked_by: str | None
    is_approver: bool
    decides_as_linked_user: bool
    allow_self_approval: bool


def whoami_message(facts: WhoamiFacts) -> Message:
    lines = [f"*You are {user_mention(facts.slack_user_id)}* (Slack user id {code(facts.slack_user_id)})."]
    lines.append(_link_line(facts))
    lines.append(_may_decide_line(facts))
    if facts.commerce_user_id is not None:
        lines.append(
            "You may decide approvals you submitted yourself."
            if facts.allow_self_approval
            else "You cannot approve or reject approvals you submitted yourself."
        )
    text = "\n".join(lines)
    blocks = [section(text)]
    if facts.commerce_user_id is None:
        blocks.append(context(f"An operator links you with `{escape(LINK_COMMAND)}`."))
    return fallback(text), blocks


def _link_line(facts: WhoamiFacts) -> str:
    if facts.commerce_logon_id is None or facts.commerce_user_id is None:
        return "You are *not linked* to a Commerce user."
    how = " (matched by e-mail)" if facts.linked_by == "email" else ""
    return (
        f"You are linked to Commerce user {code(facts.commerce_logon_id)} "
        f"(user id {code(facts.commerce_user_id)}){how}."
    )


def _may_decide_line(facts: WhoamiFacts) -> str:
    if not facts.is_approver:
        return (
            "You may *not* approve or reject: you are not one of the bot's approvers (`APPROVERS` or "
            "a route's `approvers`)."
        )
    if not facts.decides_as_linked_user:
        return (
            "You may approve and reject approval requests; Commerce records the bot's service account "
            "as the approver."
        )
    if facts.commerce_user_id is None:
        return (
            "You may *not* approve or reject yet: this bot decides as the linked Commerce user, "
            "and you are not linked."
        )
    return (
        "You may approve and reject the approval requests Commerce lets your Commerce user decide "
        "(the buyer organizations you are an approver for); Commerce records you as the approver."
    )
