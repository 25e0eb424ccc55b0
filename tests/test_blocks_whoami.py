"""The ``/approvals whoami`` answer: plain facts, remote text escaped."""

from __future__ import annotations

import json

from bot.slack.outbound.blocks.whoami import WhoamiFacts, whoami_message


def facts(**overrides: object) -> WhoamiFacts:
    values: dict[str, object] = {
        "slack_user_id": "U123",
        "commerce_logon_id": "jane.approver",
        "commerce_user_id": "5001",
        "linked_by": "cli",
        "is_approver": True,
        "decides_as_linked_user": True,
        "allow_self_approval": False,
    }
    values.update(overrides)
    return WhoamiFacts(**values)  # type: ignore[arg-type]


def test_a_linked_approver_hears_their_commerce_user_and_the_self_approval_rule() -> None:
    text, blocks = whoami_message(facts())
    assert "<@U123>" in text and "`jane.approver`" in text and "`5001`" in text
    assert "Commerce records you as the approver" in text
    assert "cannot approve or reject approvals you submitted yourself" in text
    assert "approvers link" not in json.dumps(blocks)


def test_an_unlinked_user_hears_how_to_get_linked() -> None:
    text, blocks = whoami_message(facts(commerce_logon_id=None, commerce_user_id=None, linked_by=None))
    assert "*not linked*" in text and "may *not* approve or reject yet" in text
    assert "approvals-bot approvers link" in json.dumps(blocks)


def test_the_bot_mode_names_the_service_account_and_e_mail_links_say_so() -> None:
    text, _ = whoami_message(facts(decides_as_linked_user=False, linked_by="email", allow_self_approval=True))
    assert "service account" in text and "matched by e-mail" in text
    assert "may decide approvals you submitted yourself" in text


def test_a_logon_id_cannot_ping_or_link() -> None:
    text, _ = whoami_message(facts(commerce_logon_id="<!channel> `x`"))
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
