"""End to end: linked Slack users decide as their Commerce user (forUserId), the unlinked and the
submitters themselves are refused, and Commerce's own refusal reaches the clicker."""

from __future__ import annotations

import json
from collections.abc import Callable

from bot.commerce.models import ApprovalKind
from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.commerce import CommerceEmulator
from bot.sandbox.commerce_people import DEFAULT_ORGANIZATION
from bot.sandbox.slack import SlackEmulator
from bot.slack.outbound.blocks.ids import (
    APPROVE_ACTION_ID,
    REASON_ACTION_ID,
    REASON_BLOCK_ID,
    REJECT_ACTION_ID,
    REJECT_MODAL_CALLBACK_ID,
)
from tests.bot_runner import RunningBot
from tests.conftest import APPROVALS_CHANNEL, APPROVER, OUTSIDER, SECOND_APPROVER, SIGNING_SECRET
from tests.identity_helpers import (
    OTHER_ORGANIZATION,
    add_approver,
    add_person,
    answer_at,
    approval_calls,
    audit_of,
    link,
    new_card,
)
from tests.slack_dialog import run_command
from tests.slack_requests import SlackRequestSender
from tests.test_e2e_approvals import click, decision_posts
from tests.waiting import stays, wait_for


def slack_user_with_email(
    slack: SlackEmulator, user_id: str, name: str, email: str, *, confirmed: bool = True
) -> None:
    """Slack's ``users.info`` gives ``user_id`` (Jane, by her real name) with ``email`` in the profile,
    confirmed by Slack or not (``is_email_confirmed``)."""
    slack.users[user_id] = {
        "id": user_id,
        "name": name,
        "is_bot": False,
        "is_email_confirmed": confirmed,
        "profile": {"email": email, "real_name": "Jane"},
    }


AUTO_LINK: dict[str, object] = {"auto_link_by_email": True, "auto_link_email_domains": "buyer.example"}


def linked_user_bot(
    start_bot: Callable[..., RunningBot], **overrides: object
) -> tuple[RunningBot, SlackRequestSender]:
    bot = start_bot(decide_as="linked-user", **overrides)
    return bot, SlackRequestSender(bot.url, SIGNING_SECRET)


def test_a_linked_approver_approves_as_themselves_and_commerce_records_them(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot, sender = linked_user_bot(start_bot)
    jane = add_approver(commerce, "jane.approver")
    link(bot, APPROVER, jane)
    approval_id, ts = new_card(bot, slack, commerce)

    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    [post] = wait_for(lambda: decision_posts(commerce, approval_id), what="the Commerce POST")
    assert post.q("forUserId") == jane.user_id
    wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="the approval approved")
    assert commerce.approval(approval_id)["approverId"] == jane.user_id
    [entry] = audit_of(bot, approval_id, "ok")
    assert (entry.slack_user_id, entry.commerce_user_id, entry.commerce_logon_id) == (
        APPROVER,
        jane.user_id,
        "jane.approver",
    )


def test_the_bot_mode_keeps_deciding_as_the_service_account_and_audits_it(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    link(bot, APPROVER, add_approver(commerce, "jane.approver"))
    approval_id, ts = new_card(bot, slack, commerce)

    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    [post] = wait_for(lambda: decision_posts(commerce, approval_id), what="the Commerce POST")
    assert post.q("forUserId") is None
    [entry] = audit_of(bot, approval_id, "ok")
    assert (entry.commerce_user_id, entry.commerce_logon_id) == (None, commerce.logon_id)
    assert commerce.approval(approval_id)["approverId"] == commerce.user_id


def test_an_unlinked_approver_is_refused_without_a_call_to_commerce(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot, sender = linked_user_bot(start_bot)
    approval_id, ts = new_card(bot, slack, commerce)
    calls_before = len(approval_calls(commerce, approval_id))

    approve_url = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    reject_url = click(sender, slack, REJECT_ACTION_ID, approval_id, APPROVER, ts)

    for url in (approve_url, reject_url):
        answer = answer_at(slack, url)
        assert answer["response_type"] == "ephemeral"
        assert "not linked to a Commerce user" in answer["text"]
        assert "approvals-bot approvers link" in answer["text"]
    assert len(approval_calls(commerce, approval_id)) == calls_before
    assert slack.calls("views.open") == []
    assert [e.slack_user_id for e in audit_of(bot, approval_id, "unlinked")] == [APPROVER, APPROVER]


def test_commerce_refusing_a_linked_non_approver_reaches_the_clicker_and_changes_nothing(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot, sender = linked_user_bot(start_bot)
    bob = add_person(commerce, "bob.elsewhere", approver_for=(OTHER_ORGANIZATION,))
    link(bot, APPROVER, bob)
    approval_id, ts = new_card(bot, slack, commerce)

    answer = answer_at(slack, click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts))

    assert "CMN1501E" in answer["text"]
    assert "not an approver for the buyer organization" in answer["text"]
    assert commerce.approval(approval_id)["status"] == "0"
    card = slack.message(APPROVALS_CHANNEL, ts)
    assert APPROVE_ACTION_ID in json.dumps(card.blocks), "the card keeps its buttons"
    assert [c for c in slack.calls("chat.update") if c.get("ts") == ts] == []
    [refused] = audit_of(bot, approval_id, "error")
    assert refused.commerce_user_id == bob.user_id and "CMN1501E" in (refused.detail or "")

    # Commerce said a definite no, so the claim was released: once Bob is an approver there, he may.
    with commerce.lock:
        commerce.people.approvers.setdefault(DEFAULT_ORGANIZATION, set()).add(bob.user_id)
    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
    wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="the approval approved")
    assert commerce.approval(approval_id)["approverId"] == bob.user_id


def test_a_submitter_cannot_decide_their_own_approval_by_button_command_or_dialog(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    jane = add_approver(commerce, "jane.buyer")
    link(bot, APPROVER, jane)
    approval_id, ts = new_card(bot, slack, commerce, submitter_id=jane.user_id)

    approve = answer_at(slack, click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts))
    reject = answer_at(slack, click(sender, slack, REJECT_ACTION_ID, approval_id, APPROVER, ts))
    typed = run_command(
        sender,
        slack,
        "/approvals",
        f"reject {approval_id} my own order",
        user=APPROVER,
        channel=APPROVALS_CHANNEL,
    )

    for answer in (approve, reject, typed):
        assert "You submitted approval" in answer["text"] and "cannot approve or reject it" in answer["text"]
    assert slack.calls("views.open") == [], "no reject dialog for one's own approval"
    assert decision_posts(commerce, approval_id) == []
    assert stays(lambda: commerce.approval(approval_id)["status"] == "0")
    refused = audit_of(bot, approval_id, "self_approval")
    assert {(e.slack_user_id, e.action) for e in refused} == {(APPROVER, "approve"), (APPROVER, "reject")}
    assert len(refused) == 3

    # Another approver may decide it.
    click(sender, slack, APPROVE_ACTION_ID, approval_id, SECOND_APPROVER, ts)
    wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="the approval approved")


def test_allow_self_approval_lets_a_submitter_decide(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot = start_bot(allow_self_approval=True)
    sender = SlackRequestSender(bot.url, SIGNING_SECRET)
    jane = add_approver(commerce, "jane.buyer")
    link(bot, APPROVER, jane)
    approval_id, ts = new_card(bot, slack, commerce, submitter_id=jane.user_id)

    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    wait_for(lambda: commerce.approval(approval_id)["status"] == "1", what="the approval approved")


def test_an_approver_is_linked_by_email_when_auto_link_is_on(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot, sender = linked_user_bot(start_bot, **AUTO_LINK)
    jane = add_approver(commerce, "jane.approver")
    slack_user_with_email(slack, APPROVER, "jane", jane.email.upper())
    approval_id, ts = new_card(bot, slack, commerce)

    click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)

    [post] = wait_for(lambda: decision_posts(commerce, approval_id), what="the Commerce POST")
    assert post.q("forUserId") == jane.user_id
    stored = bot.call(bot.runtime.store.identity_link(APPROVER))
    assert stored is not None and (stored.commerce_logon_id, stored.linked_by) == ("jane.approver", "email")
    [entry] = audit_of(bot, approval_id, "auto_linked")
    assert (entry.slack_user_id, entry.commerce_logon_id) == (APPROVER, "jane.approver")
    told = wait_for(
        lambda: [c for c in slack.calls("chat.postMessage") if c.get("channel") == APPROVER], what="the DM"
    )
    assert "linked your Slack account to the Commerce user jane.approver" in told[0]["text"]


def test_auto_link_never_trusts_an_unconfirmed_slack_email_nor_an_unlisted_domain(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot, sender = linked_user_bot(start_bot, **AUTO_LINK)
    jane = add_approver(commerce, "jane.approver")
    elsewhere = add_person(commerce, "bob", approver_for=(DEFAULT_ORGANIZATION,))
    with commerce.lock:
        elsewhere.email = "bob@partner.example"
    slack_user_with_email(slack, APPROVER, "jane", jane.email, confirmed=False)
    slack_user_with_email(slack, SECOND_APPROVER, "bob", elsewhere.email)
    approval_id, ts = new_card(bot, slack, commerce)

    for user in (APPROVER, SECOND_APPROVER):
        answer = answer_at(slack, click(sender, slack, APPROVE_ACTION_ID, approval_id, user, ts))
        assert "not linked" in answer["text"]
        assert bot.call(bot.runtime.store.identity_link(user)) is None
    assert commerce.requests_to("GET", "/person") == []
    assert decision_posts(commerce, approval_id) == []


def test_a_buyer_with_the_approvers_email_never_becomes_his_commerce_identity(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    """The insider attack: a buyer sets her Commerce e-mail to the approver's Slack address."""
    bot, sender = linked_user_bot(start_bot, **AUTO_LINK)
    buyer = add_person(commerce, "eve.buyer")  # no approver authority
    approving_buyer = add_approver(commerce, "mallory.buyer")  # an approver, but with a pending request
    commerce.add_approval(ApprovalKind.ORDER, submitter_id=approving_buyer.user_id)
    for slack_user, person, email in (
        (APPROVER, buyer, "tom@buyer.example"),
        (SECOND_APPROVER, approving_buyer, "ann@buyer.example"),
    ):
        with commerce.lock:
            person.email = email
        slack_user_with_email(slack, slack_user, slack_user.lower(), email)
    approval_id, ts = new_card(bot, slack, commerce)

    for user in (APPROVER, SECOND_APPROVER):
        answer = answer_at(slack, click(sender, slack, APPROVE_ACTION_ID, approval_id, user, ts))
        assert "not linked" in answer["text"]
        assert bot.call(bot.runtime.store.identity_link(user)) is None
    assert decision_posts(commerce, approval_id) == []
    assert [
        c for c in slack.calls("chat.postMessage") if c.get("channel") in (APPROVER, SECOND_APPROVER)
    ] == []


def test_auto_link_refuses_a_person_commerce_returns_without_that_exact_email(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot, sender = linked_user_bot(start_bot, **AUTO_LINK)
    mallory = add_approver(commerce, "mallory.approver")
    slack_user_with_email(slack, APPROVER, "jane", "jane@buyer.example")
    answers = iter(
        [
            {"userId": mallory.user_id, "logonId": mallory.logon_id},  # no e-mail in the profile
            {"userId": mallory.user_id, "logonId": mallory.logon_id, "email1": "jane@buyer.example.org"},
        ]
    )

    def loose_search(request: RecordedRequest) -> Response | None:
        if request.method == "GET" and request.path.endswith("/person") and request.q("email1"):
            return Response(body={"recordSetComplete": "true", "userDataBeans": [next(answers)]})
        return None

    commerce.inject(loose_search)
    approval_id, ts = new_card(bot, slack, commerce)

    for _ in range(2):
        url = click(sender, slack, APPROVE_ACTION_ID, approval_id, APPROVER, ts)
        wait_for(
            lambda: slack.responses(url) or decision_posts(commerce, approval_id),  # noqa: B023
            what="the answer or a decision",
        )
        assert decision_posts(commerce, approval_id) == []
        assert "not linked" in answer_at(slack, url)["text"]

    assert len(commerce.requests_to("GET", "/person")) == 2
    assert bot.call(bot.runtime.store.identity_link(APPROVER)) is None


def test_auto_link_refuses_a_commerce_user_linked_to_another_slack_user(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot, sender = linked_user_bot(start_bot, **AUTO_LINK)
    jane = add_approver(commerce, "jane.approver")
    link(bot, APPROVER, jane)
    slack_user_with_email(slack, SECOND_APPROVER, "jane2", jane.email)
    approval_id, ts = new_card(bot, slack, commerce)

    url = click(sender, slack, APPROVE_ACTION_ID, approval_id, SECOND_APPROVER, ts)
    wait_for(lambda: slack.responses(url) or decision_posts(commerce, approval_id), what="an answer")

    assert decision_posts(commerce, approval_id) == []
    assert "not linked" in answer_at(slack, url)["text"]
    assert bot.call(bot.runtime.store.identity_link(SECOND_APPROVER)) is None


def test_whoami_says_how_a_user_is_linked_and_what_they_may_decide(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot, sender = linked_user_bot(start_bot)

    unlinked = run_command(sender, slack, "/approvals", "whoami", user=APPROVER, channel=APPROVALS_CHANNEL)
    assert "not linked" in unlinked["text"]
    assert "approvals-bot approvers link" in json.dumps(unlinked["blocks"])

    link(bot, APPROVER, add_approver(commerce, "jane.approver"))
    linked = run_command(sender, slack, "/approvals", "whoami", user=APPROVER, channel=APPROVALS_CHANNEL)
    assert linked["response_type"] == "ephemeral"
    assert "jane.approver" in linked["text"]
    assert "Commerce records you as the approver" in linked["text"]
    assert "cannot approve or reject approvals you submitted yourself" in linked["text"]

    outsider = run_command(sender, slack, "/approvals", "whoami", user="U_NOBODY", channel=APPROVALS_CHANNEL)
    assert "not one of the bot's approvers" in outsider["text"]


def test_a_linked_approvers_home_lists_only_what_commerce_lets_them_decide(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot, sender = linked_user_bot(start_bot)
    jane = add_approver(commerce, "jane.approver")
    link(bot, APPROVER, jane)
    theirs = commerce.add_approval(ApprovalKind.ORDER)
    elsewhere = commerce.add_approval(ApprovalKind.ORDER, organization_id=OTHER_ORGANIZATION)

    assert sender.app_home_opened(APPROVER).status_code == 200

    view = json.dumps(wait_for(lambda: slack.home_view(APPROVER), what="the Home"))
    assert theirs in view and elsewhere not in view
    listings = commerce.requests_to("GET", "/approval_status")
    assert listings and all(r.q("forUserId") == jane.user_id for r in listings)


def test_a_reject_dialog_submitted_by_the_submitter_is_refused(
    bot: RunningBot, slack: SlackEmulator, commerce: CommerceEmulator, sender: SlackRequestSender
) -> None:
    jane = add_approver(commerce, "jane.buyer")
    approval_id, ts = new_card(bot, slack, commerce, submitter_id=jane.user_id)
    click_url = click(sender, slack, REJECT_ACTION_ID, approval_id, APPROVER, ts)
    opened = wait_for(lambda: slack.calls("views.open"), what="the reject dialog")[0]
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    link(bot, APPROVER, jane)  # linked while the dialog was open: the submission is checked again

    sender.view_submission(
        REJECT_MODAL_CALLBACK_ID,
        view["private_metadata"],
        {REASON_BLOCK_ID: {REASON_ACTION_ID: {"type": "plain_text_input", "value": "changed my mind"}}},
        user_id=APPROVER,
    )

    assert "You submitted approval" in answer_at(slack, click_url)["text"]
    assert decision_posts(commerce, approval_id) == []
    assert [e.action for e in audit_of(bot, approval_id, "self_approval")] == ["reject"]


def test_a_non_approver_is_refused_without_being_looked_up_or_auto_linked(
    start_bot: Callable[..., RunningBot], slack: SlackEmulator, commerce: CommerceEmulator
) -> None:
    bot, sender = linked_user_bot(start_bot, **AUTO_LINK)
    approval_id, ts = new_card(bot, slack, commerce)

    answer = answer_at(slack, click(sender, slack, APPROVE_ACTION_ID, approval_id, OUTSIDER, ts))

    assert "not allowed" in answer["text"]
    assert slack.calls("users.info") == []
    assert commerce.requests_to("GET", "/person") == []
    assert bot.call(bot.runtime.store.identity_link(OUTSIDER)) is None
